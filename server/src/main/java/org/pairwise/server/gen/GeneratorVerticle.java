package org.pairwise.server.gen;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.pairwise.server.Addresses;
import org.pairwise.server.ServerMetrics;

/**
 * Connects the pair pool (its own generation thread) to the event bus: switches policy on
 * {@link Addresses#POLICY_UPDATED} (and to any kept version on {@link Addresses#POLICY_SERVE}) and announces every stored pair on {@link Addresses#PAIR_GENERATED}.
 */
public final class GeneratorVerticle extends VerticleBase {
    private final PairPool pool;
    private final ServerMetrics metrics;

    public GeneratorVerticle(PairPool pool, ServerMetrics metrics) {
        this.pool = pool;
        this.metrics = metrics;
    }

    @Override
    public Future<?> start() {
        pool.onGenerated(p -> {
            metrics.pairGenerated();
            vertx.eventBus().publish(Addresses.PAIR_GENERATED, new JsonObject().put("pair_id", p.pairId())
                    .put("policy_version", p.policyVersion()));
        });
        var consumer = vertx.eventBus().<JsonObject>consumer(Addresses.POLICY_UPDATED, m -> pool.switchPolicy(
                Path.of(m.body().getString("adapter_dir")), m.body().getInteger("policy_version")));
        var serve = vertx.eventBus().<JsonObject>consumer(Addresses.POLICY_SERVE, m -> pool.rollBack(
                m.body().getString("adapter_dir") == null ? null : Path.of(m.body().getString("adapter_dir")),
                m.body().getInteger("policy_version")));
        pool.start();
        return Future.all(consumer.completion(), serve.completion());
    }

    @Override
    public Future<?> stop() {
        return Future.fromCompletionStage(pool.stop(), context);
    }
}
