package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import org.pairwise.server.quality.AnnotatorStats;
import org.pairwise.server.quality.CohenKappa;
import org.pairwise.server.quality.FlagRule;
import org.pairwise.server.quality.FleissKappa;
import org.pairwise.server.quality.KrippendorffAlpha;
import org.pairwise.server.quality.QualityReport;
import org.pairwise.server.quality.QualityService;
import org.pairwise.server.quality.Wilson;
import org.pairwise.server.store.PreferenceStore.SkipReason;
import org.pairwise.server.store.QualityStore;
import org.pairwise.server.store.QualityStore.PairReview;
import org.pairwise.server.store.QualityStore.PairSummary;
import org.pairwise.server.store.QualityStore.PairVote;

/**
 * GET /api/quality?min_shared=N (viewers and the admin): per annotator their votes, pace, lease-to-vote time, gold
 * accuracy and agreement with the majority of the others (each with its 95% Wilson interval), skips by reason and
 * quality-control flag; Cohen's kappa for every pair of annotators with at least N shared pairs (default
 * {@value #DEFAULT_MIN_SHARED}); Fleiss' kappa and Krippendorff's alpha over the pairs with two or more votes; the
 * automatic flags' thresholds. GET /api/quality/pairs?limit=N: the latest pairs someone voted on, skipped or
 * commented on; GET /api/quality/pair?pair_id=ID: one pair with all its votes (withdrawn ones too), skips, comments
 * and what the trainer got from it. A figure that is undefined (no shared pair, no variation) is null, never a
 * made-up number.
 */
final class QualityApi {
    static final int DEFAULT_MIN_SHARED = 10;

    static final int DEFAULT_PAIRS = 50;

    private final QualityService quality;
    private final QualityStore store;
    private final boolean excludeFlagged;
    private final Context context;

    QualityApi(QualityService quality, QualityStore store, boolean excludeFlagged, Context context) {
        this.quality = quality;
        this.store = store;
        this.excludeFlagged = excludeFlagged;
        this.context = context;
    }

    void report(RoutingContext ctx) {
        int minShared = Responses.intParam(ctx, "min_shared", DEFAULT_MIN_SHARED, 1, 1_000_000);
        Future.fromCompletionStage(quality.report(minShared), context)
                .onSuccess(r -> Responses.json(ctx, 200, wire(r).put("flagging", flagging(r.flagRule()))))
                .onFailure(ctx::fail);
    }

    void pairs(RoutingContext ctx) {
        int limit = Responses.intParam(ctx, "limit", DEFAULT_PAIRS, 1, 1000);
        Future.fromCompletionStage(store.recentPairs(limit), context).onSuccess(list -> {
            JsonArray out = new JsonArray();
            list.forEach(p -> out.add(summary(p)));
            Responses.json(ctx, 200, new JsonObject().put("pairs", out));
        }).onFailure(ctx::fail);
    }

    void pair(RoutingContext ctx) {
        String pairId = Responses.query(ctx, "pair_id");
        if (pairId == null || pairId.isEmpty() || pairId.length() > Responses.MAX_ID) {
            throw ApiError.badRequest("pair_id is required (at most " + Responses.MAX_ID + " characters)");
        }
        Future.fromCompletionStage(store.pairReview(pairId), context).onSuccess(found -> {
            if (found.isEmpty()) {
                ctx.fail(new ApiError(404, "no pair with that pair_id"));
            } else {
                Responses.json(ctx, 200, review(found.get()));
            }
        }).onFailure(ctx::fail);
    }

    private JsonObject flagging(FlagRule rule) {
        return new JsonObject().put("min_gold_accuracy", rule.minGoldAccuracy())
                .put("min_agreement", rule.minAgreement()).put("min_votes", rule.minVotes())
                .put("exclude_flagged", excludeFlagged).put("compares", "wilson_upper_bound");
    }

    static JsonObject wire(QualityReport r) {
        JsonArray annotators = new JsonArray();
        for (AnnotatorStats a : r.annotators()) {
            var pace = a.pace();
            var agreement = a.agreement();
            annotators.add(new JsonObject().put("annotator", a.annotator()).put("votes", pace.votes())
                    .put("first_vote_at", pace.firstAtMillis()).put("last_vote_at", pace.lastAtMillis())
                    .put("active_seconds", pace.activeMillis() / 1000.0)
                    .put("votes_per_hour", number(pace.votesPerHour()))
                    .put("median_seconds_between_votes", number(pace.medianSecondsBetweenVotes()))
                    .put("agreement", new JsonObject().put("compared", agreement.compared())
                            .put("agreed", agreement.agreed()).put("tied", agreement.tied())
                            .put("rate", agreement.rate().map(QualityApi::proportion).orElse(null)))
                    .put("median_seconds_lease_to_vote", number(a.leaseToVote().medianSeconds()))
                    .put("lease_to_vote_votes", a.leaseToVote().measured())
                    .put("gold", new JsonObject().put("answered", a.gold().answered())
                            .put("correct", a.gold().correct())
                            .put("rate", a.gold().rate().map(QualityApi::proportion).orElse(null)))
                    .put("skips", skips(a.skips()))
                    .put("flag", a.flag() == null ? null : new JsonObject().put("flagged", a.flag().flagged())
                            .put("reason", a.flag().reason()).put("changed_at", a.flag().changedAtMillis())
                            .put("changed_by", a.flag().changedBy())
                            .put("automatic", QualityStore.AUTO.equals(a.flag().changedBy()))));
        }
        JsonArray pairwise = new JsonArray();
        for (CohenKappa k : r.pairwise()) {
            pairwise.add(new JsonObject().put("a", k.annotatorA()).put("b", k.annotatorB())
                    .put("shared", k.sharedItems()).put("observed", number(k.observed()))
                    .put("expected", number(k.expected())).put("kappa", number(k.kappa())));
        }
        FleissKappa f = r.fleiss();
        KrippendorffAlpha alpha = r.alpha();
        return new JsonObject().put("votes", r.votes()).put("pairs", r.items())
                .put("pairs_with_two_or_more_votes", r.itemsWithTwoOrMore())
                .put("annotators", annotators)
                .put("fleiss_kappa", new JsonObject().put("pairs", f.items()).put("votes", f.ratings())
                        .put("constant_votes_per_pair", f.constantRaters()).put("observed", number(f.observed()))
                        .put("expected", number(f.expected())).put("kappa", number(f.kappa())))
                .put("krippendorff_alpha", new JsonObject().put("pairs", alpha.pairableUnits())
                        .put("votes", alpha.pairableValues())
                        .put("observed_disagreement", number(alpha.observedDisagreement()))
                        .put("expected_disagreement", number(alpha.expectedDisagreement()))
                        .put("alpha", number(alpha.alpha())))
                .put("cohen_kappa", new JsonObject().put("min_shared", r.minShared()).put("pairs", pairwise));
    }

    private static JsonObject skips(Map<SkipReason, Long> counts) {
        JsonObject out = new JsonObject();
        for (SkipReason reason : SkipReason.values()) {
            out.put(reason.wire(), counts.getOrDefault(reason, 0L));
        }
        return out;
    }

    private static JsonObject summary(PairSummary p) {
        return new JsonObject().put("pair_id", p.pairId()).put("kind", p.kind()).put("prompt", p.promptText())
                .put("created_at", p.createdAtMillis()).put("votes_wanted", p.votesWanted()).put("votes", p.votes())
                .put("withdrawn", p.withdrawn()).put("skips", p.skips()).put("comments", p.notes())
                .put("flagged_harmful", p.flaggedHarmful()).put("aggregate_outcome", p.aggregateOutcome());
    }

    private static JsonObject review(PairReview r) {
        JsonArray votes = new JsonArray();
        for (PairVote v : r.votes()) {
            votes.add(new JsonObject().put("id", v.id()).put("annotator", v.annotator())
                    .put("choice", v.choice().wire()).put("comment", v.comment()).put("created_at", v.createdAtMillis())
                    .put("changed_at", v.changedAtMillis()).put("withdrawn", v.retractedAtMillis() != null)
                    .put("retracted_at", v.retractedAtMillis()).put("guideline_version", v.guidelineVersion())
                    .put("leased_at", v.leasedAtMillis()).put("trained_at_version", v.trainedAtVersion()));
        }
        JsonArray skips = new JsonArray();
        r.skips().forEach(k -> skips.add(new JsonObject().put("annotator", k.annotator())
                .put("reason", k.reason().wire()).put("comment", k.comment()).put("created_at", k.createdAtMillis())));
        JsonArray notes = new JsonArray();
        r.notes().forEach(n -> notes.add(new JsonObject().put("annotator", n.annotator()).put("comment", n.comment())
                .put("created_at", n.createdAtMillis())));
        JsonArray items = new JsonArray();
        r.trainingItems().forEach(t -> items.add(new JsonObject().put("id", t.id()).put("vote_id", t.voteId())
                .put("chosen", t.chosen()).put("label_smoothing", t.labelSmoothing()).put("votes", t.votes())
                .put("trained_at_version", t.trainedAtVersion())));
        return summary(r.summary()).put("a", r.aText()).put("b", r.bText()).put("policy_version", r.policyVersion())
                .put("gold_choice", r.goldChoice()).put("aggregated_at", r.aggregatedAtMillis())
                .put("vote_list", votes).put("skip_list", skips).put("comment_list", notes)
                .put("training_items", items);
    }

    private static JsonObject proportion(Wilson.Proportion p) {
        return new JsonObject().put("value", p.rate()).put("low", p.low()).put("high", p.high());
    }

    /** JSON has no NaN: an undefined statistic is null. */
    private static Double number(double d) {
        return Double.isFinite(d) ? d : null;
    }
}
