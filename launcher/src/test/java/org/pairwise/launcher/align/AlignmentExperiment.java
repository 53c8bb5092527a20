package org.pairwise.launcher.align;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.pairwise.loadtest.rules.Choice;
import org.pairwise.loadtest.rules.PreferenceRule;
import org.pairwise.loadtest.rules.WordRule;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.server.PairwiseServer;

/**
 * Does the online loop align the model with what people prefer? A simulated annotator votes on the server's pairs by
 * a {@link PreferenceRule}, and every {@code checkpointEvery} votes the experiment waits until the trainer has taken
 * every A/B vote, pauses it, downloads the policy the generator now samples from ({@code GET /api/adapter}) and
 * measures it on fresh samples with a {@link PolicyProbe}: the rate of responses containing the tracked word (Wilson
 * 95% interval), the mean length, and the KL estimate against the reference. The trainer's own TRL metrics
 * ({@code rewards/margins}, {@code rewards/accuracies}, {@code loss}) come from {@code GET /api/training/metrics}.
 *
 * <p>The experiment assumes it is the only voter: its checkpoints wait for "no untrained A/B votes", and the vote
 * counts on its curves are its own votes. It needs the admin token (pause, resume, adapter download) and the server's
 * base model on this machine (the probe samples locally, with the server's sampling settings).
 */
public final class AlignmentExperiment {

    /**
     * @param url             the server
     * @param adminToken      the server's admin token
     * @param annotatorToken  a token for token annotation, or null for open annotation
     * @param rule            how the simulated annotator votes
     * @param word            the word whose rate is tracked (null: the rule's word, if it is a word rule, else none)
     * @param votes           votes to cast at most
     * @param checkpointEvery votes between measurements (the first is before any vote, the last after the last vote)
     * @param timeLimit       stop voting (and measure a last time) once this much time has passed
     * @param samples         fresh policy samples per measurement
     * @param seed            the annotator's random seed (its tie-breaking coin)
     * @param annotator       the annotator name the votes carry
     */
    public record Settings(URI url, String adminToken, String annotatorToken, PreferenceRule rule, String word,
                           int votes, int checkpointEvery, Duration timeLimit, int samples, long seed,
                           String annotator) {
        public Settings {
            if (url == null || adminToken == null || rule == null) {
                throw new IllegalArgumentException("url, adminToken and rule are required");
            }
            if (votes < 1 || checkpointEvery < 1 || samples < 2) {
                throw new IllegalArgumentException("need votes >= 1, checkpointEvery >= 1, samples >= 2; got "
                        + votes + ", " + checkpointEvery + ", " + samples);
            }
            if (word == null && rule instanceof WordRule w) {
                word = w.word();
            }
            annotator = annotator == null ? "alignment-" + rule.spec() : annotator;
            timeLimit = timeLimit == null ? Duration.ofDays(1) : timeLimit;
        }

        /** Settings for an in-process server (its URL and admin token). */
        public static Settings forServer(PairwiseServer server, PreferenceRule rule, String word, int votes,
                                         int checkpointEvery, Duration timeLimit, int samples, long seed) {
            return new Settings(URI.create(server.url() + "/"), server.adminToken(), null, rule, word, votes,
                    checkpointEvery, timeLimit, samples, seed, null);
        }
    }

    /**
     * One measurement.
     *
     * @param votes          votes cast so far
     * @param policyVersion  the policy measured
     * @param trainerSteps   DPO steps taken so far
     * @param seconds        since the experiment started (measurements included)
     * @param measurement    rate, lengths and KL on fresh samples of that policy
     * @param trainer        means of the trainer's step metrics since the previous checkpoint (empty before any step)
     */
    public record Checkpoint(int votes, int policyVersion, int trainerSteps, double seconds,
                             PolicyProbe.Measurement measurement, Map<String, Double> trainer) {}

    /** One DPO step as the trainer logged it, placed on the vote axis by the last vote it trained on. */
    public record Step(int step, int votes, Map<String, Double> metrics) {}

    /**
     * Everything a run found; {@code word} is null when no word was tracked, {@code leaderboard} ({@code GET
     * /api/leaderboard} after a battle evaluation of the checkpoints' versions) null when none was run.
     */
    public record Result(String rule, String word, int votesCast, Map<Choice, Integer> choices, double seconds,
                         boolean timedOut, List<Checkpoint> checkpoints, List<Step> steps, JsonObject leaderboard) {
        public Result withLeaderboard(JsonObject board) {
            return new Result(rule, word, votesCast, choices, seconds, timedOut, checkpoints, steps, board);
        }

        /** The leaderboard's standing of a policy version, or null when there is no leaderboard or it is not on it. */
        public JsonObject standing(int version) {
            return leaderboard == null ? null : AlignmentExperiment.standing(leaderboard, version);
        }

        public Checkpoint first() {
            return checkpoints.getFirst();
        }

        public Checkpoint last() {
            return checkpoints.getLast();
        }

        /**
         * The claim the alignment proof makes: the word's rate at least doubled and the 95% intervals before and after
         * do not overlap.
         */
        public boolean wordRateAtLeastDoubled() {
            Stats.Proportion before = first().measurement().wordRate();
            Stats.Proportion after = last().measurement().wordRate();
            if (before == null) {
                throw new IllegalStateException("no word was tracked");
            }
            return after.rate() >= 2 * before.rate() && after.low() > before.high();
        }

        /** Mean length (characters) fell, and the 95% intervals of the means before and after do not overlap. */
        public boolean lengthFell() {
            Stats.Mean before = first().measurement().chars();
            Stats.Mean after = last().measurement().chars();
            return after.mean() < before.mean() && after.separatedFrom(before);
        }

        /** Welch's t of the mean length after against before (negative: shorter). */
        public double lengthWelchT() {
            return Stats.welchT(last().measurement().chars(), first().measurement().chars());
        }
    }

    /** A policy version's standing on a {@code GET /api/leaderboard} answer, or null when it is not on it. */
    static JsonObject standing(JsonObject board, int version) {
        for (Object o : board.getJsonArray("standings")) {
            if (((JsonObject) o).getInteger("policy_version") == version) {
                return (JsonObject) o;
            }
        }
        return null;
    }

    private static final Duration CATCH_UP = Duration.ofSeconds(180);
    private static final List<String> STEP_METRICS = List.of("loss", "rewards/chosen", "rewards/rejected",
            "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected", "off_policy_age");

    private final Settings settings;
    private final PolicyProbe probe;
    private final Predicate<String> hasWord;

    /** @param probe samples the policy locally: the server's base model, prompts and sampling settings */
    public AlignmentExperiment(Settings settings, PolicyProbe probe) {
        this.settings = settings;
        this.probe = probe;
        this.hasWord = settings.word() == null ? null : WordRule.contains(settings.word())::matches;
    }

    /**
     * The whole experiment against an in-process server (what {@code pairwise loadtest --serve} has): opens a probe on
     * the server's model, prompts and sampling settings, runs, and closes the probe.
     */
    public static Result runOn(PairwiseServer server, PreferenceRule rule, String word, int votes,
                               int checkpointEvery, Duration timeLimit, int samples, long seed,
                               Consumer<Checkpoint> progress) throws IOException, InterruptedException {
        try (PolicyProbe probe = PolicyProbe.open(server.config(), 0, seed)) {
            Settings s = Settings.forServer(server, rule, word, votes, checkpointEvery, timeLimit, samples, seed);
            return new AlignmentExperiment(s, probe).run(progress);
        }
    }

    public Result run() throws IOException, InterruptedException {
        return run(c -> {});
    }

    /** Runs the experiment; {@code progress} sees each checkpoint as it is measured. */
    public Result run(Consumer<Checkpoint> progress) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + settings.timeLimit().toNanos();
        SplittableRandom rng = new SplittableRandom(settings.seed());
        List<Checkpoint> checkpoints = new ArrayList<>();
        List<Long> voteIds = new ArrayList<>();
        Map<Choice, Integer> choices = new EnumMap<>(Choice.class);
        Path scratch = Files.createTempDirectory("pairwise-alignment-");
        // Idempotency keys unique to this run: a second run against the same server must cast new votes.
        String run = java.util.UUID.randomUUID().toString();
        int stepsSeen = 0;
        boolean timedOut = false;
        try (ServerApi api = new ServerApi(settings.url(), settings.adminToken(), settings.annotatorToken())) {
            stepsSeen = api.stats().getJsonObject("trainer").getInteger("steps");
            int firstStep = stepsSeen;
            Checkpoint c = checkpoint(api, 0, t0, stepsSeen, scratch);
            stepsSeen = c.trainerSteps();
            checkpoints.add(c);
            progress.accept(c);
            int cast = 0;
            while (cast < settings.votes()) {
                if (System.nanoTime() > deadline) {
                    timedOut = true;
                    break;
                }
                JsonObject pair = api.nextPair();
                Choice choice = settings.rule().choose(pair.getString("prompt"),
                        pair.getJsonObject("a").getString("text"), pair.getJsonObject("b").getString("text"), rng);
                voteIds.add(api.vote(pair.getString("pair_id"), choice.wireName(), settings.annotator(),
                        settings.annotator() + "-" + run + "-" + cast));
                choices.merge(choice, 1, Integer::sum);
                cast++;
                if (cast % settings.checkpointEvery() == 0 || cast == settings.votes()) {
                    c = checkpoint(api, cast, t0, stepsSeen, scratch);
                    stepsSeen = c.trainerSteps();
                    checkpoints.add(c);
                    progress.accept(c);
                }
            }
            if (checkpoints.getLast().votes() != cast) {
                c = checkpoint(api, cast, t0, stepsSeen, scratch);
                checkpoints.add(c);
                progress.accept(c);
            }
            List<Step> steps = steps(api.trainingSteps(firstStep), voteIds);
            return new Result(settings.rule().spec(), settings.word(), cast, choices,
                    (System.nanoTime() - t0) / 1e9, timedOut, checkpoints, steps, null);
        } finally {
            PublishedAdapter.deleteRecursively(scratch);
        }
    }

    /**
     * Waits for the trainer to take every A/B vote, pauses it so the policy stays put, measures the policy the
     * generator serves, and resumes the trainer.
     */
    private Checkpoint checkpoint(ServerApi api, int votes, long t0, int stepsBefore, Path scratch)
            throws IOException, InterruptedException {
        api.awaitStats(s -> s.getLong("untrained_ab_votes") == 0, CATCH_UP, "the trainer to take every A/B vote");
        api.trainer("pause");
        try {
            // "paused" is set at the top of the trainer's loop, after any step (and its publication) has finished.
            JsonObject s = api.awaitStats(x -> "paused".equals(x.getJsonObject("trainer").getString("state")),
                    CATCH_UP, "the trainer to pause");
            int version = s.getJsonObject("trainer").getInteger("policy_version");
            api.awaitStats(x -> x.getInteger("policy_version") == version, CATCH_UP,
                    "the generator to switch to policy version " + version);
            int steps = s.getJsonObject("trainer").getInteger("steps");
            LoraAdapter adapter = PublishedAdapter.download(api, scratch.resolve("v" + version), version, probe);
            PolicyProbe.Measurement m = probe.measure(adapter, settings.samples(), hasWord);
            Map<String, Double> trainer = meanMetrics(api.trainingSteps(stepsBefore));
            return new Checkpoint(votes, version, steps, (System.nanoTime() - t0) / 1e9, m, trainer);
        } finally {
            api.trainer("resume");
        }
    }

    private static Map<String, Double> meanMetrics(JsonArray steps) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String name : STEP_METRICS) {
            double sum = 0;
            int n = 0;
            for (int i = 0; i < steps.size(); i++) {
                Number v = steps.getJsonObject(i).getNumber(name);
                if (v != null) {
                    sum += v.doubleValue();
                    n++;
                }
            }
            if (n > 0) {
                out.put(name, sum / n);
            }
        }
        return out;
    }

    /** The trainer's steps, each placed at the number of this experiment's votes up to the last one it trained on. */
    private static List<Step> steps(JsonArray lines, List<Long> voteIds) {
        long[] ids = voteIds.stream().mapToLong(Long::longValue).sorted().toArray();
        List<Step> out = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonObject line = lines.getJsonObject(i);
            int at = Arrays.binarySearch(ids, line.getLong("last_vote_id", 0L));
            int votes = at >= 0 ? at + 1 : -at - 1;
            Map<String, Double> metrics = new LinkedHashMap<>();
            for (String name : STEP_METRICS) {
                Number v = line.getNumber(name);
                if (v != null) {
                    metrics.put(name, v.doubleValue());
                }
            }
            out.add(new Step(line.getInteger("step"), votes, metrics));
        }
        return out;
    }
}
