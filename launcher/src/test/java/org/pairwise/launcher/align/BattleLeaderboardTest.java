package org.pairwise.launcher.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.loadtest.rules.Choice;
import org.pairwise.loadtest.rules.PreferenceRule;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.config.ServeConfig;

/**
 * Is the policy getting better, in the eyes of the people voting? On stories260K: a simulated annotator (the load
 * test's rules) trains the policy by voting on pairs, then the server is restarted with {@code eval_fraction} 1 so
 * that every pair served is a blind battle of the trained version against the reference v0 ({@code keep_versions} 1
 * keeps just those two), and the same annotator, by the same rule, votes on them. With {@code contains:big} the
 * leaderboard ranks the trained version above v0 with intervals that do not overlap, and its win rate against v0 is
 * above one half with its interval; with {@code random} votes the interval of the trained version contains v0's.
 * The random control is deterministic: its votes are the annotator's seeded coins and the battles' sides follow the
 * configured seed (106 wins of 200 for the trained version, rating 1021 [972, 1070]); a fair coin would separate the
 * intervals in about one seed in twenty. The word run varies with the samples (win rates 0.61 to 0.77 seen).
 */
class BattleLeaderboardTest {
    static final String WORD = AlignmentProofTest.WORD;
    static final int TRAINING_VOTES = 300;
    static final int BATTLE_VOTES = 200;
    static final Duration CATCH_UP = Duration.ofSeconds(180);

    static final Path model = AlignmentProofTest.model;

    @TempDir
    Path dir;

    @BeforeEach
    void needsTheModel() {
        Assumptions.assumeTrue(Files.isRegularFile(model), "skipped: the battle leaderboard needs " + model
                + " (set -Dpairwise.shared.models=DIR to the shared models folder)");
    }

    /** The alignment proof's settings (a version per step of 8 votes), keeping only the newest version. */
    ServeConfig config(double evalFraction) {
        AlignmentProofTest proof = new AlignmentProofTest();
        proof.dir = dir;
        return proof.config().withOverrides(Map.of("keep_versions", "1", "eval_fraction",
                Double.toString(evalFraction)));
    }

    /** Votes n served pairs by the rule, its coin from rng. */
    static void vote(ServerApi api, PreferenceRule rule, int n, SplittableRandom rng, String who) throws Exception {
        for (int i = 0; i < n; i++) {
            JsonObject pair = api.nextPair();
            Choice c = rule.choose(pair.getString("prompt"), pair.getJsonObject("a").getString("text"),
                    pair.getJsonObject("b").getString("text"), rng);
            api.vote(pair.getString("pair_id"), c.wireName(), who, who + "-" + i + "-" + pair.getString("pair_id"));
        }
    }

    /** Trains, restarts for battles only, votes them; returns the leaderboard with the trained version. */
    JsonObject run(String spec) throws Exception {
        PreferenceRule rule = PreferenceRule.parse(spec);
        SplittableRandom rng = new SplittableRandom(7);
        long t0 = System.nanoTime();
        int trained;
        try (PairwiseServer server = PairwiseServer.start(config(0));
             ServerApi api = new ServerApi(java.net.URI.create(server.url() + "/"), server.adminToken(), null)) {
            vote(api, rule, TRAINING_VOTES, rng, "trainer-" + spec);
            JsonObject s = api.awaitStats(x -> x.getLong("untrained_ab_votes") == 0, CATCH_UP,
                    "the trainer to take every vote");
            trained = s.getJsonObject("trainer").getInteger("policy_version");
        }
        double trainedAt = (System.nanoTime() - t0) / 1e9;
        try (PairwiseServer server = PairwiseServer.start(config(1));
             ServerApi api = new ServerApi(java.net.URI.create(server.url() + "/"), server.adminToken(), null)) {
            assertEquals(trained, server.resumed().policyVersion());
            vote(api, rule, BATTLE_VOTES, rng, "judge-" + spec);
            JsonObject board = api.adminGet("/api/leaderboard");
            JsonObject latest = standing(board, trained), v0 = standing(board, 0);
            JsonObject vs = board.getJsonArray("vs_reference").getJsonObject(0);
            System.out.println(String.format(Locale.ROOT, "[battles %s] trained to v%d in %.1f s, %d battle votes "
                            + "by %.1f s: v%d %.0f [%.0f, %.0f] against v0 %.0f; win rate against v0 %.3f [%.3f, "
                            + "%.3f] (%d-%d, %d ties)", spec, trained, trainedAt, board.getInteger("counted_votes"),
                    (System.nanoTime() - t0) / 1e9, trained, latest.getDouble("rating"), latest.getDouble("low"),
                    latest.getDouble("high"), v0.getDouble("rating"), vs.getDouble("win_rate"), vs.getDouble("low"),
                    vs.getDouble("high"), vs.getInteger("wins"), vs.getInteger("losses"), vs.getInteger("ties")));
            assertEquals(BATTLE_VOTES, board.getInteger("counted_votes"), "every served pair was a battle");
            assertEquals(1, board.getJsonArray("vs_reference").size(), board.encode());
            assertEquals(trained, vs.getInteger("policy_version"));
            return board.put("trained", trained);
        }
    }

    static JsonObject standing(JsonObject board, int version) {
        JsonObject s = AlignmentExperiment.standing(board, version);
        if (s == null) {
            throw new AssertionError("no v" + version + " on the leaderboard " + board.encode());
        }
        return s;
    }

    @Test
    void votesForTheWordRankTheTrainedVersionAboveTheReference() throws Exception {
        JsonObject board = run("contains:" + WORD);
        JsonObject latest = standing(board, board.getInteger("trained")), v0 = standing(board, 0);
        assertTrue(latest.getDouble("low") > v0.getDouble("high"), "intervals overlap: " + latest + " vs " + v0);
        assertEquals(board.getInteger("trained"), board.getJsonArray("standings").getJsonObject(0)
                .getInteger("policy_version"), "the trained version leads");
        JsonObject vs = board.getJsonArray("vs_reference").getJsonObject(0);
        assertTrue(vs.getDouble("low") > 0.5, "win rate against v0 with its interval: " + vs);
    }

    @Test
    void randomVotesLeaveTheIntervalsOverlapping() throws Exception {
        JsonObject board = run("random");
        JsonObject latest = standing(board, board.getInteger("trained")), v0 = standing(board, 0);
        assertTrue(latest.getDouble("low") <= v0.getDouble("high") && v0.getDouble("low") <= latest.getDouble("high"),
                "random votes separated the trained version from v0: " + latest + " vs " + v0);
        JsonObject vs = board.getJsonArray("vs_reference").getJsonObject(0);
        assertTrue(vs.getDouble("low") <= 0.5 && 0.5 <= vs.getDouble("high"), vs.encode());
    }
}
