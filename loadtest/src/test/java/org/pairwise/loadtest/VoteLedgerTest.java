package org.pairwise.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VoteLedgerTest {

    @Test
    void aRetryAnsweredWithTheOriginalIdIsOneVoteButTwoVotesUnderOneIdAreACollision() {
        VoteLedger l = new VoteLedger();
        l.acknowledged(true, new VoteLedger.Ack(1, "ann", "k1", "p1", "a", 11));
        l.acknowledged(false, new VoteLedger.Ack(1, "ann", "k1", "p1", "a", 11));  // same key: a retry
        assertEquals(1, l.acknowledged());
        assertEquals(0, l.collisions());
        l.acknowledged(true, new VoteLedger.Ack(1, "bob", "k2", "p2", "b", 12));  // another vote, same id
        assertEquals(1, l.collisions());
        assertEquals(1, l.duplicateReplies());
        assertEquals(2, l.created());
    }

    @Test
    void expectedLinesCountAbVotesOnly() {
        VoteLedger l = new VoteLedger();
        long h = VoteLedger.lineHash("p", "x", "y");
        l.acknowledged(true, new VoteLedger.Ack(1, "a1", "k1", "p1", "a", h));
        l.acknowledged(true, new VoteLedger.Ack(2, "a2", "k2", "p1", "a", h));
        l.acknowledged(true, new VoteLedger.Ack(3, "a3", "k3", "p1", "tie", 0));
        assertEquals(Map.of(h, 2L), l.expectedLines());
        assertEquals(Map.of("a", 2L, "tie", 1L), l.countsByChoice());
        // Which side won changes the line.
        assertNotEquals(VoteLedger.lineHash("p", "x", "y"), VoteLedger.lineHash("p", "y", "x"));
        assertNotEquals(VoteLedger.lineHash("px", "", "y"), VoteLedger.lineHash("p", "x", "y"));
    }

    @Test
    void onePersonsSecondVoteOnAPairIsReportedAndARetryOrAnotherPersonIsNot() {
        VoteLedger l = new VoteLedger();
        l.acknowledged(true, new VoteLedger.Ack(1, "ann", "k1", "p1", "a", 11));
        l.acknowledged(false, new VoteLedger.Ack(1, "ann", "k1", "p1", "a", 11));  // a retry: the same vote
        l.acknowledged(true, new VoteLedger.Ack(2, "bob", "k2", "p1", "b", 12));
        assertEquals(List.of(), l.twiceByOnePerson());
        l.acknowledged(true, new VoteLedger.Ack(3, "ann", "k3", "p1", "b", 12));
        assertEquals(List.of("ann on p1"), l.twiceByOnePerson());
        l.skipped(new VoteLedger.Skip("cid", "p2", "harmful"));
        l.skipped(new VoteLedger.Skip("cid", "p2", "harmful"));
        assertEquals(1, l.skips().size());
    }
}
