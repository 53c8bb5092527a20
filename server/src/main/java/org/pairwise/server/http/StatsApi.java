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
    private final VotesApi votes;
    private final int poolSize;
    private final Context context;

    StatsApi(PreferenceStore store, PairPool pool, TrainerLoop trainer, VotesApi votes, int poolSize,
             Context context) {
        this.store = store;
        this.pool = pool;
        this.trainer = trainer;
        this.votes = votes;
        this.poolSize = poolSize;
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
                    .put("trainer", Visibility.trainer(trainer.status(), who));
            Responses.json(ctx, 200, out);
        }).onFailure(ctx::fail);
    }

    void trainingMetrics(RoutingContext ctx) {
        int since = Responses.intParam(ctx, "since", 0, 0, Integer.MAX_VALUE);
        Responses.json(ctx, 200, new JsonObject().put("since", since).put("steps", trainer.history(since))
                .put("trainer", Visibility.trainer(trainer.status(), Auth.principal(ctx))));
    }
}
