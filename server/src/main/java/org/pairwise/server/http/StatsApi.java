package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.pairwise.server.auth.Principal;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.train.TrainerLoop;

/**
 * GET /api/stats and GET /api/training/metrics?since=STEP: counts and training metrics for anyone the server knows;
 * per-annotator counts and the trainer's error text as {@link Visibility} allows.
 */
final class StatsApi {
    private final PreferenceStore store;
    private final PairPool pool;
    private final TrainerLoop trainer;
    private final ApiServices services;
    private final VotesApi votes;
    private final int poolSize;
    private final Context context;

    StatsApi(ApiServices s, VotesApi votes, Context context) {
        this.store = s.store();
        this.pool = s.pool();
        this.trainer = s.trainer();
        this.services = s;
        this.votes = votes;
        this.poolSize = s.config().poolSize();
        this.context = context;
    }

    void stats(RoutingContext ctx) {
        Principal who = Auth.principal(ctx);
        Future.fromCompletionStage(store.stats(), context).onSuccess(s -> {
            JsonObject byChoice = new JsonObject();
            for (Choice c : Choice.values()) {
                byChoice.put(c.wire(), s.byChoice().getOrDefault(c.wire(), 0L));
            }
            JsonObject byVersion = new JsonObject();
            s.byPolicyVersion().forEach((v, n) -> byVersion.put(Integer.toString(v), n));
            JsonObject out = new JsonObject()
                    .put("policy_version", pool.policyVersion())
                    .put("votes", s.votes())
                    .put("votes_by_choice", byChoice)
                    .put("votes_by_annotator", Visibility.byAnnotator(s.byAnnotator(), who))
                    .put("votes_by_policy_version", byVersion)
                    .put("untrained_ab_votes", s.untrainedAbVotes())
                    .put("votes_per_minute", votes.votesPerMinute())
                    .put("prompts", s.prompts())
                    .put("pairs", s.pairs())
                    .put("pool", new JsonObject().put("ready", pool.readyCount()).put("size", poolSize)
                            .put("prompts", pool.promptCount()))
                    .put("chat_template", pool.hasChatTemplate())
                    .put("campaign", new JsonObject()
                            .put("skips_by_reason", new JsonObject(new java.util.LinkedHashMap<>(
                                    s.campaign().skipsByReason())))
                            .put("pairs_flagged_harmful", s.campaign().pairsFlaggedHarmful())
                            .put("pair_flags", s.campaign().pairFlags())
                            .put("withdrawn_votes", s.campaign().withdrawnVotes())
                            .put("training_items", s.campaign().trainingItems())
                            .put("untrained_items", s.campaign().untrainedItems()))
                    .put("trainer", Visibility.trainer(services.trainerStatus(), who));
            if (services.cluster() != null) {
                out.put("cluster", services.cluster().view());
            }
            Responses.json(ctx, 200, out);
        }).onFailure(ctx::fail);
    }

    void trainingMetrics(RoutingContext ctx) {
        int since = Responses.intParam(ctx, "since", 0, 0, Integer.MAX_VALUE);
        Responses.json(ctx, 200, new JsonObject().put("since", since).put("steps", trainer.history(since))
                .put("trainer", Visibility.trainer(services.trainerStatus(), Auth.principal(ctx))));
    }
}
