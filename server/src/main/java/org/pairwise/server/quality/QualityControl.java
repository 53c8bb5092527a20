package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.AnnotatorFlag;
import org.pairwise.server.store.PreferenceStore.NamedVote;
import org.pairwise.server.store.QualityStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The automatic flags: every {@link #CHECK_EVERY_MS} ms, on its own thread (never an event loop or the store's
 * writer), the thresholds of a {@link FlagRule} are applied to each annotator's votes, and an annotator who breaks
 * one is flagged ({@code changed_by} {@value QualityStore#AUTO}); the finaliser then leaves their votes out of the
 * trainer's queue (exclude_flagged). The check runs only when something changed since the last one.
 *
 * <p>A person's decision wins. The thresholds only ever raise a flag: nobody flagged (by hand or automatically) is
 * un-flagged by them, that is the admin's call. And an annotator an admin un-flagged at time T is judged again on
 * the votes they cast after T alone (at least flag_min_votes of them): the evidence the admin overruled never flags
 * them again, new evidence may. With a check every 5 s and the default undo window of 10 s, votes cast after the
 * evidence that flags someone are still in their window when the flag is raised, so they never reach the trainer.
 */
public final class QualityControl implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QualityControl.class);
    public static final long CHECK_EVERY_MS = 5_000;

    /** A flag the rule raises: who, why, and the flag row's changed_at it was decided on (null: no row). */
    public record Decision(String annotator, String reason, Long basisChangedAt) {}

    private final PreferenceStore store;
    private final FlagRule rule;
    private ScheduledExecutorService timer;
    private String lastMark;

    public QualityControl(PreferenceStore store, FlagRule rule) {
        this.store = store;
        this.rule = rule;
    }

    /** Starts the periodic check when a threshold is set (else there is nothing to check); returns this. */
    public QualityControl start() {
        if (rule.on()) {
            timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("pairwise-quality")
                    .daemon().factory());
            timer.scheduleWithFixedDelay(this::checkLogged, CHECK_EVERY_MS, CHECK_EVERY_MS, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    private void checkLogged() {
        try {
            for (Decision d : check()) {
                LOG.info("quality control flagged {}: {}", d.annotator(), d.reason());
            }
        } catch (Exception e) {
            LOG.warn("the quality check failed, it runs again in {} s: {}", CHECK_EVERY_MS / 1000, e.toString());
        }
    }

    /**
     * One check, blocking on the store (call it on a thread of its own): the flags it raised. Nothing when nothing
     * changed since the last check that succeeded.
     */
    public synchronized List<Decision> check() throws Exception {
        String mark = store.quality().changeMark().get();
        if (mark.equals(lastMark)) {
            return List.of();
        }
        List<Decision> raised = new ArrayList<>();
        for (Decision d : decide(store.namedVotes().get(), store.annotatorFlags().get(), rule)) {
            if (store.quality().raiseAutoFlag(d.annotator(), d.reason(), d.basisChangedAt()).get()) {
                raised.add(d);
            }
        }
        lastMark = raised.isEmpty() ? mark : null;  // a flag written moves the mark: look once more
        return raised;
    }

    /** The flags the rule raises on these votes, given the flags set so far; annotators in name order. */
    public static List<Decision> decide(List<NamedVote> votes, List<AnnotatorFlag> flags, FlagRule rule) {
        if (!rule.on()) {
            return List.of();
        }
        List<Annotation> labels = new ArrayList<>(votes.size());
        Map<String, Map<String, Long>> votedAt = new TreeMap<>();  // annotator -> pair -> created_at
        for (NamedVote v : votes) {
            labels.add(new Annotation(v.pairId(), v.annotator(), v.choice().wire()));
            votedAt.computeIfAbsent(v.annotator(), k -> new HashMap<>()).put(v.pairId(), v.createdAtMillis());
        }
        Map<String, Map<String, MajorityAgreement.Outcome>> outcomes =
                MajorityAgreement.outcomes(AnnotationTable.of(labels));
        Map<String, AnnotatorFlag> flagOf = new HashMap<>();
        flags.forEach(f -> flagOf.put(f.annotator(), f));
        Map<String, List<GoldAccuracy.GoldVote>> gold = new HashMap<>();
        Map<String, Long> since = new HashMap<>();
        for (String name : votedAt.keySet()) {
            AnnotatorFlag f = flagOf.get(name);
            since.put(name, f != null && !QualityStore.AUTO.equals(f.changedBy()) ? f.changedAtMillis()
                    : Long.MIN_VALUE);
        }
        for (NamedVote v : votes) {
            if (v.goldChoice() != null && v.createdAtMillis() > since.get(v.annotator())) {
                gold.computeIfAbsent(v.annotator(), k -> new ArrayList<>())
                        .add(new GoldAccuracy.GoldVote(v.annotator(), v.choice().wire(), v.goldChoice()));
            }
        }
        List<Decision> out = new ArrayList<>();
        for (Map.Entry<String, Map<String, Long>> e : votedAt.entrySet()) {
            String name = e.getKey();
            AnnotatorFlag f = flagOf.get(name);
            if (f != null && f.flagged()) {
                continue;  // flagged already: only a person un-flags
            }
            long after = since.get(name);
            List<MajorityAgreement.Outcome> mine = new ArrayList<>();
            outcomes.getOrDefault(name, Map.of()).forEach((pair, o) -> {
                if (e.getValue().get(pair) > after) {
                    mine.add(o);
                }
            });
            List<GoldAccuracy> g = GoldAccuracy.perAnnotator(gold.getOrDefault(name, List.of()));
            GoldAccuracy accuracy = g.isEmpty() ? new GoldAccuracy(name, 0, 0) : g.getFirst();
            rule.reason(accuracy, MajorityAgreement.of(name, mine)).ifPresent(why -> out.add(new Decision(name,
                    after == Long.MIN_VALUE ? why : why + ", counting only votes since " + f.changedBy()
                            + " un-flagged them", f == null ? null : f.changedAtMillis())));
        }
        return out;
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
