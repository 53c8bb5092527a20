package org.pairwise.launcher.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.loadtest.rules.PreferenceRule;
import org.pairwise.server.PairwiseServer;
import org.pairwise.launcher.align.AlignmentExperiment.Result;
import org.pairwise.server.config.ServeConfig;

/**
 * The alignment proof on a real model (stories260K): the continual loop moves the policy toward what the simulated
 * annotators prefer, measurably, within a bounded number of votes and seconds, without the policy drifting into text
 * the base model finds unlikely.
 *
 * <p>The word is {@value #WORD}, chosen by measurement: 400 base-model samples at these settings (the built-in prompts,
 * max_new_tokens 32, temperature 1) gave story-level rates big 0.24, play 0.09, mom 0.08, tree 0.06, little 0.055,
 * toy 0.048, happy 0.043, ball/dog/cat/park 0.025, sun 0.013. "big" is the only candidate in the 10–30% band: a
 * minority of stories, yet common enough that about a third of the pairs have it on exactly one side and so carry
 * a preference signal (the rule flips a coin on the rest). The base rate is measured again in every run as the first
 * checkpoint, and the test checks it is still a minority.
 *
 * <p>Every run starts a fresh server (fresh base policy). A control run with the {@code random} rule shows that the
 * word assertion can fail: random votes also take DPO steps and move the policy, but not toward the word.
 */
class AlignmentProofTest {
    static final String WORD = "big";
    /** Per-token bounds, times max_new_tokens: 0.5 nats/token of KL is far from the base, far short of collapse. */
    static final int MAX_NEW_TOKENS = 32;
    static final double KL_BOUND = 0.5 * MAX_NEW_TOKENS;
    /**
     * The reference's mean log-prob per token of the policy's samples stays above this; the base model's own samples
     * sit near −1.5 and uniform noise over the 512-token vocabulary at −ln 512 = −6.2.
     */
    static final double REF_LOGPROB_PER_TOKEN_FLOOR = -3.0;
    static final Duration TIME_LIMIT = Duration.ofSeconds(150);
    /** Fresh samples per measurement: at a 24% base rate the Wilson interval is about ±5 points. */
    static final int SAMPLES = 300;

    static final List<Result> RESULTS = new ArrayList<>();

    @TempDir
    Path dir;

    static final Path model = Path.of(System.getProperty("pairwise.shared.models", "../shared/models"),
            "stories260K", "stories260K.gguf");

    // Per test rather than @BeforeAll, so that each test is reported as skipped with the reason.
    @BeforeEach
    void needsTheModel() {
        Assumptions.assumeTrue(Files.isRegularFile(model), "skipped: the alignment proof needs " + model
                + " (set -Dpairwise.shared.models=DIR to the shared models folder)");
    }

    @AfterAll
    static void writeReport() throws Exception {
        if (!RESULTS.isEmpty()) {
            Path out = Path.of("target", "alignment");
            Files.createDirectories(out);
            AlignmentReport.writeHtml(RESULTS, out.resolve("alignment.html"));
            AlignmentReport.writeJson(RESULTS, out.resolve("alignment.json"));
        }
    }

    /**
     * Settings tuned for a 2-core CI box: one DPO step per 8 A/B votes and a policy version per step, so the pool
     * serves pairs from recent policies; a learning rate for a tiny LoRA model (TRL's 5e-6 is for billions of
     * parameters and would not move this one within a few hundred votes); short responses.
     */
    ServeConfig config() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", model.toString());
        m.put("data_dir", dir.toString());
        m.put("port", "0");
        m.put("max_new_tokens", Integer.toString(MAX_NEW_TOKENS));
        m.put("temperature", "1.0");
        m.put("pool_size", "4");
        m.put("batch_size", "8");
        m.put("publish_every", "1");
        m.put("batch_window_ms", "200");
        m.put("undo_window", "0");
        m.put("learning_rate", "1e-3");
        m.put("beta", "0.1");
        m.put("lora_r", "8");
        m.put("lora_alpha", "16");
        m.put("save_steps", "1000");
        m.put("generation_threads", "1");
        m.put("training_threads", "1");
        return ServeConfig.defaults().withOverrides(m);
    }

    /**
     * The shorter rule must shorten responses by more than this Welch t (observed -13.4 after 100 votes): beyond the
     * drift that random votes cause (down to -5.3 after 300).
     */
    static final double LENGTH_T_BAR = -8;

    /**
     * The battle evaluation after the word run: the server restarted on the same data with every pair a blind battle
     * of the last version against v0 (half the time) or a checkpoint's pinned version, voted by the same rule. 400
     * votes meet each of the five pinned checkpoints about 40 times.
     */
    static final int BATTLE_VOTES = 400;

    Result run(String rule, int votes, int checkpointEvery) throws Exception {
        return run(rule, votes, checkpointEvery, 0);
    }

    /** A run; with {@code battles} > 0 each checkpoint's version is pinned and then judged in that many battles. */
    Result run(String rule, int votes, int checkpointEvery, int battles) throws Exception {
        ServeConfig cfg = config();
        Result r;
        try (PairwiseServer server = PairwiseServer.start(cfg); PolicyProbe probe = PolicyProbe.open(cfg, 2, 7);
             ServerApi admin = new ServerApi(URI.create(server.url() + "/"), server.adminToken(), null)) {
            var settings = AlignmentExperiment.Settings.forServer(server, PreferenceRule.parse(rule), WORD, votes,
                    checkpointEvery, TIME_LIMIT, SAMPLES, 1);
            r = new AlignmentExperiment(settings, probe).run(c -> {
                System.out.println(line(rule, c));
                if (battles > 0 && c.policyVersion() > 0) {
                    pin(admin, c);
                }
            });
            checkCommon(r, votes);
        }
        if (battles > 0) {
            try (PairwiseServer server = PairwiseServer.start(cfg.withOverrides(Map.of("eval_fraction", "1",
                    "keep_versions", "1")));
                 ServerApi api = new ServerApi(URI.create(server.url() + "/"), server.adminToken(), null)) {
                BattleLeaderboardTest.vote(api, PreferenceRule.parse(rule), battles, new SplittableRandom(11),
                        "judge-" + rule);
                r = r.withLeaderboard(api.adminGet("/api/leaderboard"));
            }
            for (AlignmentExperiment.Checkpoint c : r.checkpoints()) {
                JsonObject s = r.standing(c.policyVersion());
                System.out.println("[alignment " + rule + "] votes " + c.votes() + ", v" + c.policyVersion() + ": "
                        + (s == null ? "not on the leaderboard" : String.format(Locale.ROOT, "%.0f [%.0f, %.0f], "
                        + "%d battles", s.getDouble("rating"), s.getDouble("low"), s.getDouble("high"),
                        s.getInteger("battles"))));
            }
        }
        synchronized (RESULTS) {
            RESULTS.add(r);
        }
        return r;
    }

    /** Keeps a checkpoint's version for the battles after the run, named by the votes it had seen. */
    private static void pin(ServerApi admin, AlignmentExperiment.Checkpoint c) {
        try {
            admin.adminPost("/api/policy/pin", new JsonObject().put("version", c.policyVersion())
                    .put("name", "votes-" + c.votes()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** What every run must show: all votes cast in time, a sound probe, and a policy that stayed near the base. */
    static void checkCommon(Result r, int votes) {
        assertFalse(r.timedOut(), "the run hit the time limit of " + TIME_LIMIT.toSeconds() + " s after "
                + r.votesCast() + " votes");
        assertEquals(votes, r.votesCast());
        var before = r.first().measurement();
        var after = r.last().measurement();
        assertEquals(0, r.first().policyVersion());
        assertTrue(r.last().policyVersion() > 0, "no policy was published");
        // At version 0 the policy is the reference: the probe's two log-probs must agree, or its KL means nothing.
        assertEquals(0, before.kl().mean(), 1e-3, "KL of the base policy against itself");
        Stats.Proportion base = before.wordRate();
        assertTrue(base.rate() >= 0.10 && base.rate() <= 0.35, "'" + WORD + "' should be a minority word at base: "
                + base);
        assertTrue(after.kl().mean() < KL_BOUND, "KL estimate " + after.kl() + " exceeds " + KL_BOUND + " nats");
        double perToken = after.refLogprob().mean() / after.tokens().mean();
        assertTrue(perToken > REF_LOGPROB_PER_TOKEN_FLOOR, "the policy's samples have collapsed: mean log π_ref "
                + "per token " + perToken + " (base " + before.refLogprob().mean() / before.tokens().mean() + ")");
    }

    @Test
    void votesForTheWordDoubleItsRate() throws Exception {
        Result r = run("contains:" + WORD, 300, 50, BATTLE_VOTES);
        assertTrue(r.wordRateAtLeastDoubled(), "rate of '" + WORD + "' before " + r.first().measurement().wordRate()
                + ", after " + r.last().measurement().wordRate());
        // Every checkpoint's version was judged (the claims about the leaderboard are BattleLeaderboardTest's).
        // (the battles served among the run's pairs, at the default eval_fraction, count too)
        assertTrue(r.leaderboard().getInteger("counted_votes") >= BATTLE_VOTES, r.leaderboard().encode());
        for (AlignmentExperiment.Checkpoint c : r.checkpoints()) {
            JsonObject s = r.standing(c.policyVersion());
            assertNotNull(s, "v" + c.policyVersion() + " is not on the leaderboard: " + r.leaderboard().encode());
            assertTrue(s.getDouble("low") <= s.getDouble("rating") && s.getDouble("rating") <= s.getDouble("high"),
                    s.encode());
        }
    }

    @Test
    void votesForShorterResponsesShortenThem() throws Exception {
        // Every pair differs in length, so every vote carries signal (a third do for the word): the length falls
        // within a hundred votes, and more would only pull the policy further from the reference.
        Result r = run("shorter", 100, 25);
        assertTrue(r.lengthFell(), "mean length before " + r.first().measurement().chars() + ", after "
                + r.last().measurement().chars());
        assertTrue(r.lengthWelchT() < LENGTH_T_BAR, "Welch t " + r.lengthWelchT());
    }

    @Test
    void randomVotesMoveTheModelButNotTowardTheWord() throws Exception {
        Result r = run("random", 300, 50);
        assertTrue(r.last().measurement().kl().mean() > 0.5, "random votes should still move the policy (KL "
                + r.last().measurement().kl() + "), or this control shows nothing");
        assertFalse(r.wordRateAtLeastDoubled(), "random votes doubled the rate of '" + WORD + "': "
                + r.first().measurement().wordRate() + " -> " + r.last().measurement().wordRate());
        // Length is no control here: random preferences still take DPO steps, and those tend to shorten responses
        // too (observed Welch t from +0.7 down to -5.3 over 300 random votes), so only the word rate is asserted.
    }

    private static String line(String rule, AlignmentExperiment.Checkpoint c) {
        var m = c.measurement();
        return String.format(Locale.ROOT, "[alignment %s] votes %d, version %d, %.1f s: %s %.3f [%.3f, %.3f], "
                        + "chars %.1f, KL %.2f, ref logprob %.1f, rewards/margins %s", rule, c.votes(),
                c.policyVersion(), c.seconds(), WORD, m.wordRate().rate(), m.wordRate().low(), m.wordRate().high(),
                m.chars().mean(), m.kl().mean(), m.refLogprob().mean(), c.trainer().get("rewards/margins"));
    }
}
