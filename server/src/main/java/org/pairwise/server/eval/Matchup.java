package org.pairwise.server.eval;

import java.util.List;
import org.pairwise.server.store.PreferenceStore.BattleVote;

/**
 * One version's record against another over battle votes, from the first version's side: wins, losses, ties and
 * both-bad. The guard and the win-rate-over-time line read it; the leaderboard's matrix is {@link WinRates}.
 */
public record Matchup(int player, int opponent, int wins, int losses, int ties, int bothBad) {

    /** The record of player against opponent over these votes (battles between other versions are skipped). */
    public static Matchup of(List<BattleVote> votes, int player, int opponent) {
        int w = 0, l = 0, t = 0, bb = 0;
        for (BattleVote v : votes) {
            boolean playerIsA = v.aPolicyVersion() == player && v.bPolicyVersion() == opponent;
            boolean playerIsB = v.bPolicyVersion() == player && v.aPolicyVersion() == opponent;
            if (!playerIsA && !playerIsB) {
                continue;
            }
            switch (v.choice()) {
                case A -> { if (playerIsA) w++; else l++; }
                case B -> { if (playerIsB) w++; else l++; }
                case TIE -> t++;
                case BOTH_BAD -> bb++;
            }
        }
        return new Matchup(player, opponent, w, l, t, bb);
    }

    /** Votes with a winner: the guard's Wilson interval is over these. */
    public int decisive() {
        return wins + losses;
    }
}
