package org.pairwise.server.train;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.pairwise.model.engine.Generation;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.server.eval.Matchup;
import org.pairwise.server.quality.Wilson;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.trainer.online.KlEstimate;

/**
 * Guard rails for continual training: decides whether the served policy version is still good, and holds publishing
 * when it is not. Two tests, each off at 0:
 *
 * <ul>
 *   <li>KL: once {@code kl_pairs} fresh pairs of the served version are stored, the reference (version 0) scores their
 *   samples and {@link KlEstimate} gives KL(π || π_ref) in nats per response from the log-probs the generator
 *   recorded; when its 95% lower bound (mean − 1.96 standard errors) is above {@code max_kl}, it trips (a
 *   few responses give a noisy estimate: the bound keeps noise from tripping it). Measured once per version (the dashboard charts every measurement). It
 *   is the KL only at temperature 1 without top-k/top-p (see KlEstimate); otherwise a drift measure.</li>
 *   <li>Battles: the served version's battle record against the newest kept version before it (decisive votes:
 *   ties and both-bad left out); when the Wilson 95% upper bound of its win rate is below
 *   {@code min_battle_win_rate}, it is worse than that version with confidence, and it trips.</li>
 * </ul>
 *
 * A trip holds publishing (the trainer keeps training, but announces nothing) and names the version to serve
 * instead: the one it lost to, or for KL the newest kept version before it. An admin rollback holds publishing too;
 * {@link #release} (POST /api/policy/release) lets the next version out. The hold is kept where {@link HoldRecord}
 * says (policy/hold.json beside the versions), so a restart, even after kill -9, still serves the version the hold
 * names and still holds publishing. Trainer thread only, except the status readers.
 */
public final class PolicyGuard {
    /** maxKl, minBattleWinRate: 0 = that test is off; excludeFlagged: battle votes of flagged annotators left out. */
    public record Settings(double maxKl, int klPairs, double minBattleWinRate, boolean excludeFlagged) {}

    /** One KL measurement of a served version. */
    public record KlPoint(int version, double mean, double standardError, int responses, long time) {}

    /** Why publishing is held, since when, and the version served instead. */
    public record Hold(String reason, long since, int serving) {
        JsonObject json() {
            return new JsonObject().put("reason", reason).put("since", since).put("serving", serving);
        }

        static Hold of(JsonObject o) {
            return new Hold(o.getString("reason"), o.getLong("since"), o.getInteger("serving"));
        }
    }

    /** Where a hold outlives the process: read once at start, written on every trip or hold, removed on release. */
    public interface HoldRecord {
        /** The hold in force, or null. */
        JsonObject read() throws IOException;

        /** Writes it (null: removes it), durably before returning. */
        void write(JsonObject hold) throws IOException;

        /** A record that forgets with the process (tests of the guard's rules). */
        static HoldRecord inMemory() {
            return new HoldRecord() {
                private JsonObject held;

                @Override
                public JsonObject read() {
                    return held;
                }

                @Override
                public void write(JsonObject hold) {
                    held = hold;
                }
            };
        }
    }

    private static final int KL_HISTORY = 1000;
    /** Versions before the served one the KL guard still measures when the served one has too few pairs yet. */
    private static final int KL_LOOKBACK = 8;

    private final Settings settings;
    private final PreferenceStore store;
    private final SequenceScorer scorer;
    private final LoraAdapter reference;
    private final List<KlPoint> kl = new ArrayList<>();
    private final HoldRecord record;
    private volatile Hold hold;
    private int klMeasured = -1;

    /**
     * scorer: the reference's scorer (the trainer's model); reference: version 0's adapter, null for the base;
     * record: where a hold is kept (the one it holds, if any, is in force from the start).
     */
    public PolicyGuard(Settings settings, PreferenceStore store, SequenceScorer scorer, LoraAdapter reference,
                       HoldRecord record) throws IOException {
        this.settings = settings;
        this.store = store;
        this.scorer = scorer;
        this.reference = reference;
        this.record = record;
        JsonObject held = record.read();
        this.hold = held == null ? null : Hold.of(held);
    }

    /**
     * Looks at the served version; returns the hold when this look trips a guard, else null. kept: the versions on
     * disk, ascending (the version to serve instead is the newest kept one before the version found wanting). Does
     * nothing while publishing is held. KL: the newest version not measured yet that has kl_pairs stored pairs, the
     * served one or one of the few before it (a version served for less than the guard's period would otherwise
     * never be measured).
     */
    Hold check(int served, List<Integer> kept) throws Exception {
        if (hold != null || served == 0) {
            return null;
        }
        for (int v = served; v > Math.max(klMeasured, served - KL_LOOKBACK) && v > 0; v--) {
            List<PairRecord> pairs = store.recentPairs(v, settings.klPairs()).get();
            if (pairs.size() < settings.klPairs()) {
                continue;
            }
            KlPoint p = measure(v, pairs);
            klMeasured = v;
            double low = p.mean() - Wilson.Z95 * (Double.isNaN(p.standardError()) ? 0 : p.standardError());
            if (settings.maxKl() > 0 && low > settings.maxKl()) {
                return trip(String.format(java.util.Locale.ROOT, "KL guard: policy v%d is %.2f ± %.2f nats from "
                        + "the reference (95%% lower bound %.2f > max_kl %.2f)", v, p.mean(),
                        Wilson.Z95 * p.standardError(), low, settings.maxKl()), before(kept, v));
            }
            break;
        }
        int previous = before(kept, served);
        if (settings.minBattleWinRate() > 0 && previous >= 0) {
            Matchup m = Matchup.of(store.battleVotes(settings.excludeFlagged()).get(), served, previous);
            if (m.decisive() > 0) {
                Wilson.Proportion p = Wilson.interval(m.wins(), m.decisive());
                if (p.high() < settings.minBattleWinRate()) {
                    return trip(String.format(java.util.Locale.ROOT, "battle guard: policy v%d won %d of %d "
                                    + "battles against v%d (95%% upper bound %.2f < min_battle_win_rate %.2f)",
                            served, m.wins(), m.decisive(), previous, p.high(), settings.minBattleWinRate()),
                            previous);
                }
            }
        }
        return null;
    }

    /** The newest kept version before v (0 is always kept), or -1 for v = 0. */
    static int before(List<Integer> kept, int v) {
        int out = -1;
        for (int k : kept) {
            out = k < v ? Math.max(out, k) : out;
        }
        return out;
    }

    private Hold trip(String reason, int previous) throws IOException {
        setHold(new Hold(reason, System.currentTimeMillis(), previous));
        return hold;
    }

    /**
     * Fails safe: a hold is in force in memory before it is written (a full disk leaves publishing held, though not
     * after a restart), and a release takes effect only once the record is gone.
     */
    private synchronized void setHold(Hold h) throws IOException {
        if (h != null) {
            hold = h;
            record.write(h.json());
        } else {
            record.write(null);
            hold = null;
        }
    }

    /** Holds publishing with this reason while {@code serving} is served (an admin rollback). */
    public void hold(String reason, int serving) throws IOException {
        setHold(new Hold(reason, System.currentTimeMillis(), serving));
    }

    /** Lets publishing go on; returns whether it was held. */
    public boolean release() throws IOException {
        boolean was = hold != null;
        setHold(null);
        return was;
    }

    public Hold holding() {
        return hold;
    }

    private KlPoint measure(int version, List<PairRecord> pairs) {
        List<Generation> samples = new ArrayList<>();
        for (PairRecord p : pairs) {
            samples.add(new Generation(p.promptIds(), p.aTokenIds(), p.aLogprobs(), p.aFinish()));
            samples.add(new Generation(p.promptIds(), p.bTokenIds(), p.bLogprobs(), p.bFinish()));
        }
        KlEstimate e = KlEstimate.of(samples, scorer.score(KlEstimate.sequences(samples), reference));
        KlPoint point = new KlPoint(version, e.mean(), e.standardError(), e.count(), System.currentTimeMillis());
        synchronized (kl) {
            kl.add(point);
            if (kl.size() > KL_HISTORY) {
                kl.removeFirst();
            }
        }
        return point;
    }

    /** The guard's part of the trainer status: publishing held or not, why, and the latest KL measurement. */
    JsonObject status() {
        Hold h = hold;
        JsonObject s = new JsonObject().put("publishing", h == null ? "on" : "held")
                .put("max_kl", settings.maxKl()).put("min_battle_win_rate", settings.minBattleWinRate());
        if (h != null) {
            s.put("reason", h.reason()).put("since", h.since()).put("serving", h.serving());
        }
        synchronized (kl) {
            if (!kl.isEmpty()) {
                s.put("kl", point(kl.getLast()));
            }
        }
        return s;
    }

    /** Every KL measurement, oldest first. */
    public JsonArray klHistory() {
        JsonArray out = new JsonArray();
        synchronized (kl) {
            kl.forEach(p -> out.add(point(p)));
        }
        return out;
    }

    private static JsonObject point(KlPoint p) {
        return new JsonObject().put("policy_version", p.version()).put("kl", p.mean())
                .put("standard_error", Double.isFinite(p.standardError()) ? p.standardError() : null)
                .put("responses", p.responses()).put("time", p.time());
    }
}
