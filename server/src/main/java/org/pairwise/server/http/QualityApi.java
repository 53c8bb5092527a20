package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.pairwise.server.quality.AnnotatorStats;
import org.pairwise.server.quality.CohenKappa;
import org.pairwise.server.quality.FleissKappa;
import org.pairwise.server.quality.KrippendorffAlpha;
import org.pairwise.server.quality.QualityReport;
import org.pairwise.server.quality.QualityService;
import org.pairwise.server.quality.Wilson;

/**
 * GET /api/quality?min_shared=N (viewers and the admin): per annotator their votes, pace and agreement with the
 * majority of the others (with its 95% Wilson interval); Cohen's kappa for every pair of annotators with at least N
 * shared pairs (default {@value #DEFAULT_MIN_SHARED}); Fleiss' kappa and Krippendorff's alpha over the pairs with two
 * or more votes. A figure that is undefined (no shared pair, no variation) is null, never a made-up number.
 */
final class QualityApi {
    static final int DEFAULT_MIN_SHARED = 10;

    private final QualityService quality;
    private final Context context;

    QualityApi(QualityService quality, Context context) {
        this.quality = quality;
        this.context = context;
    }

    void report(RoutingContext ctx) {
        int minShared = Responses.intParam(ctx, "min_shared", DEFAULT_MIN_SHARED, 1, 1_000_000);
        Future.fromCompletionStage(quality.report(minShared), context)
                .onSuccess(r -> Responses.json(ctx, 200, wire(r))).onFailure(ctx::fail);
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
                            .put("rate", agreement.rate().map(QualityApi::proportion).orElse(null))));
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

    private static JsonObject proportion(Wilson.Proportion p) {
        return new JsonObject().put("value", p.rate()).put("low", p.low()).put("high", p.high());
    }

    /** JSON has no NaN: an undefined statistic is null. */
    private static Double number(double d) {
        return Double.isFinite(d) ? d : null;
    }
}
