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
    /**
     * A published version's adapter directory on this node: the one announced (one node), or a copy fetched from
     * the cluster's database into this node's data dir. Called on the generation thread; null for the base model.
     */
    @FunctionalInterface
    public interface PolicyDirs {
        Path dir(int version, String announcedDir) throws Exception;

        PolicyDirs ANNOUNCED = (version, announced) -> announced == null ? null : Path.of(announced);
    }

    private final PairPool pool;
    private final ServerMetrics metrics;
    private final PolicyDirs dirs;

    public GeneratorVerticle(PairPool pool, ServerMetrics metrics) {
        this(pool, metrics, PolicyDirs.ANNOUNCED);
    }

    public GeneratorVerticle(PairPool pool, ServerMetrics metrics, PolicyDirs dirs) {
        this.pool = pool;
        this.metrics = metrics;
        this.dirs = dirs;
    }

    @Override
    public Future<?> start() {
        pool.onGenerated(p -> {
            metrics.pairGenerated();
            vertx.eventBus().publish(Addresses.PAIR_GENERATED, new JsonObject().put("pair_id", p.pairId())
                    .put("policy_version", p.policyVersion()));
        });
        var consumer = vertx.eventBus().<JsonObject>consumer(Addresses.POLICY_UPDATED, m -> {
            int version = m.body().getInteger("policy_version");
            String announced = m.body().getString("adapter_dir");
            pool.switchPolicy(() -> dirs.dir(version, announced), version);
        });
        var serve = vertx.eventBus().<JsonObject>consumer(Addresses.POLICY_SERVE, m -> {
            int version = m.body().getInteger("policy_version");
            String announced = m.body().getString("adapter_dir");
            pool.rollBack(() -> dirs.dir(version, announced), version);
        });
        pool.start();
        return Future.all(consumer.completion(), serve.completion());
    }

    @Override
    public Future<?> stop() {
        return Future.fromCompletionStage(pool.stop(), context);
    }
}
