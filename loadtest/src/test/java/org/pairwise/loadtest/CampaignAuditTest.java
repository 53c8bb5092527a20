package org.pairwise.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decision the campaign audit expects from a pair's votes, on cases worked by hand. */
class CampaignAuditTest {

    static String decide(String... choices) {
        List<CampaignAudit.VoteRow> votes = Arrays.stream(choices)
                .map(c -> new CampaignAudit.VoteRow("p", "x", c)).toList();
        return CampaignAudit.majority(votes);
    }

    @Test
    void aDirectionNeedsMoreVotesThanTheOtherSideAndThanTieAndBothBadTogether() {
        assertEquals("a", decide("a", "a", "b"));
        assertEquals("b", decide("b", "b", "tie"));
        assertEquals("a", decide("a"));
        assertEquals("tie", decide("a", "b"));
        assertEquals("no_preference", decide("a", "b", "tie"));   // 1 for the top side, 1 against any side
        assertEquals("no_preference", decide("a", "tie", "both_bad"));
        assertEquals("no_preference", decide("tie", "tie", "a"));
        assertEquals("no_preference", decide("both_bad"));
        assertEquals("a", decide("a", "a", "tie", "b"));
    }
}
