package org.pairwise.launcher.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
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
import org.pairwise.loadtest.rules.PreferenceRule;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.config.ServeConfig;

/**
 * An adversarial annotator joins a run halfway and trips the KL guard; publishing stops, the served version stays
 * the last good one, the trainer's state says why; an admin rollback serves the chosen version from the next
 * generation on, and the hold it sets outlives a restart until the admin releases it. On stories260K with the alignment proof's settings. The first half (an honest {@code contains:big}
 * annotator) runs with the guard off and measures how far honest training moved the policy (the guard's own KL
 * measurement of the served version, {@code kl} of GET /api/leaderboard); the server is restarted on the same data
 * dir with {@code max_kl} one nat above that, and the adversary ({@code avoids:big}: it prefers what the honest one
 * rejects), voting three times as often, joins the honest annotator.
 */
class GuardRailsTest {
    static final double MARGIN_NATS = 1.0;
    static final int HONEST_VOTES = 120;
    static final int MAX_ADVERSARY_ROUNDS = 160;  // 13-71 rounds seen; it stops as soon as the guard trips
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @BeforeEach
    void needsTheModel() {
        Assumptions.assumeTrue(Files.isRegularFile(BattleLeaderboardTest.model), "skipped: the guard run needs "
                + BattleLeaderboardTest.model + " (set -Dpairwise.shared.models=DIR to the shared models folder)");
    }

    ServeConfig config(double maxKl) {
        BattleLeaderboardTest t = new BattleLeaderboardTest();
        t.dir = dir;
        return t.config(0.1).withOverrides(Map.of("keep_versions", "3", "max_kl", Double.toString(maxKl)));
    }

    static ServerApi api(PairwiseServer server) {
        return new ServerApi(URI.create(server.url() + "/"), server.adminToken(), null);
    }

    /** Measurements the honest level of KL is the median of: one from 8 responses is noisy (0.98-7.81 seen). */
    static final int HONEST_KL_POINTS = 5;

    /**
     * Waits for the trainer to take every vote, then for the guard to measure the served version; the median KL of
     * its last few measurements (the newest versions'), so that one high estimate does not set a max_kl that the
     * adversary's policy would never reach.
     */
    static double klOfServed(ServerApi api) throws Exception {
        JsonObject s = api.awaitStats(x -> x.getLong("untrained_ab_votes") == 0, WAIT, "the trainer to catch up");
        int served = s.getInteger("policy_version");
        long end = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < end) {
            JsonArray kl = api.adminGet("/api/leaderboard?rounds=0").getJsonArray("kl");
            for (int i = 0; i < kl.size(); i++) {
                if (kl.getJsonObject(i).getInteger("policy_version") == served) {
                    double[] last = new double[Math.min(HONEST_KL_POINTS, kl.size())];
                    for (int j = 0; j < last.length; j++) {
                        last[j] = kl.getJsonObject(kl.size() - 1 - j).getDouble("kl");
                    }
                    java.util.Arrays.sort(last);
                    return last[last.length / 2];
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the guard never measured v" + served);
    }

    static JsonObject guard(ServerApi api) throws Exception {
        return api.stats().getJsonObject("trainer").getJsonObject("guard");
    }

    @Test
    void anAdversaryJoiningHalfwayTripsTheKlGuardAndRollbackServesTheChosenVersion() throws Exception {
        SplittableRandom rng = new SplittableRandom(11);
        PreferenceRule honest = PreferenceRule.parse("contains:big"), adversary = PreferenceRule.parse("avoids:big");
        double honestKl;
        try (PairwiseServer server = PairwiseServer.start(config(0)); ServerApi api = api(server)) {
            BattleLeaderboardTest.vote(api, honest, HONEST_VOTES, rng, "honest");
            honestKl = klOfServed(api);
            assertEquals("on", guard(api).getString("publishing"));
        }
        double maxKl = honestKl + MARGIN_NATS;
        try (PairwiseServer server = PairwiseServer.start(config(maxKl)); ServerApi api = api(server)) {
            int before = server.resumed().policyVersion();
            JsonObject g = guard(api);
            int rounds = 0;
            while (!"held".equals(g.getString("publishing")) && rounds++ < MAX_ADVERSARY_ROUNDS) {
                BattleLeaderboardTest.vote(api, honest, 4, rng, "honest");
                BattleLeaderboardTest.vote(api, adversary, 12, rng, "adversary");
                Thread.sleep(300);  // the guard looks once a second
                g = guard(api);
            }
            System.out.println(String.format(Locale.ROOT, "[guard] honest KL %.2f nats at v%d, max_kl %.2f; "
                    + "after %d adversary rounds: %s", honestKl, before, maxKl, rounds, g.encode()));
            assertEquals("held", g.getString("publishing"), "the guard never tripped: " + g.encode());
            assertTrue(g.getString("reason").startsWith("KL guard: policy v"), g.getString("reason"));
            int serving = g.getInteger("serving");
            JsonObject s = api.awaitStats(x -> x.getInteger("policy_version") == serving, WAIT,
                    "the generator to serve the last good version v" + serving);
            int published = s.getJsonObject("trainer").getInteger("policy_version");
            assertTrue(serving < published, "the version served is older than the one that tripped");

            // Training goes on while publishing is held; nothing new is published or served.
            int steps = s.getJsonObject("trainer").getInteger("steps");
            BattleLeaderboardTest.vote(api, adversary, 24, rng, "adversary");
            s = api.awaitStats(x -> x.getLong("untrained_ab_votes") == 0, WAIT, "the trainer to catch up");
            assertTrue(s.getJsonObject("trainer").getInteger("steps") > steps, "the trainer kept training");
            assertEquals(published, s.getJsonObject("trainer").getInteger("policy_version"), "nothing published");
            assertEquals(serving, s.getInteger("policy_version"), "the served version stays");
            assertEquals(serving, api.nextPair().getInteger("policy_version"));

            // The admin rolls back to the reference: the next pair generated comes from it.
            JsonObject r = api.adminPost("/api/policy/rollback", new JsonObject().put("version", 0));
            assertTrue(r.getJsonObject("guard").getString("reason").startsWith("rolled back to v0"), r.encode());
            api.awaitStats(x -> x.getInteger("policy_version") == 0, WAIT, "the generator to serve v0");
            assertEquals(0, api.nextPair().getInteger("policy_version"), "the next pair is v0's");
        }

        // The hold outlives the process: after a restart v0 is still served and publishing still held, until the
        // admin releases it.
        try (PairwiseServer server = PairwiseServer.start(config(maxKl)); ServerApi api = api(server)) {
            JsonObject g = guard(api);
            assertEquals("held", g.getString("publishing"), g.encode());
            assertTrue(g.getString("reason").startsWith("rolled back to v0"), g.encode());
            assertEquals(0, api.stats().getInteger("policy_version"), "v0 is served after the restart");
            assertEquals(0, api.nextPair().getInteger("policy_version"));
            JsonObject released = api.adminPost("/api/policy/release", new JsonObject());
            assertEquals("on", released.getJsonObject("guard").getString("publishing"), released.encode());
        }
    }
}
