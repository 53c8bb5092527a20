package org.pairwise.server.eval;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import org.pairwise.server.quality.Wilson;
import org.pairwise.server.store.PreferenceStore.BattleVote;

/**
 * The leaderboard of policy versions from battle votes: {@link BradleyTerry} over players named {@code vN} (v0 the
 * reference, anchored), and the win rate of each version against the reference, one point per version in the order
 * versions were served: "the current policy against the reference over time". That rate is over decisive votes
 * (ties and both-bad left out), with its Wilson 95% interval; the Bradley-Terry fit counts ties as half a win.
 */
public record VersionBoard(BradleyTerry.Leaderboard board, List<VsReference> vsReference) {

    /** Version against v0: its record, the rate over decisive votes (null when none), its first battle's time. */
    public record VsReference(int version, Matchup matchup, Wilson.Proportion rate, long firstBattleAt) {}

    public static String player(int version) {
        return "v" + version;
    }

    public static int version(String player) {
        return Integer.parseInt(player.substring(1));
    }

    /** listed: versions to show even without battles (kept and pinned ones); options' reference must be "v0". */
    public static VersionBoard of(List<BattleVote> votes, Collection<Integer> listed, BradleyTerry.Options options) {
        List<String> players = new ArrayList<>(List.of(player(0)));
        listed.stream().sorted().forEach(v -> players.add(player(v)));
        List<Battle> battles = new ArrayList<>(votes.size());
        TreeMap<Integer, Long> firstAgainstReference = new TreeMap<>();
        for (BattleVote v : votes) {
            battles.add(new Battle(player(v.aPolicyVersion()), player(v.bPolicyVersion()), v.choice()));
            int other = v.aPolicyVersion() == 0 ? v.bPolicyVersion() : v.bPolicyVersion() == 0 ? v.aPolicyVersion()
                    : -1;
            if (other > 0) {
                firstAgainstReference.merge(other, v.createdAtMillis(), Math::min);
            }
        }
        BradleyTerry.Leaderboard board = BradleyTerry.fit(players, battles, options);
        List<VsReference> line = new ArrayList<>();
        firstAgainstReference.forEach((version, first) -> {
            Matchup m = Matchup.of(votes, version, 0);
            line.add(new VsReference(version, m, m.decisive() == 0 ? null : Wilson.interval(m.wins(), m.decisive()),
                    first));
        });
        return new VersionBoard(board, List.copyOf(line));
    }
}
