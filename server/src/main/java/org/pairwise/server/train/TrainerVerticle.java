package org.pairwise.server.train;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.pairwise.server.Addresses;
import org.pairwise.server.ServerMetrics;

/**
 * Connects the trainer loop (its own thread) to the event bus: every {@link Addresses#PREFERENCES_RECORDED} wakes
 * it, {@link Addresses#TRAINER_CONTROL} pauses and resumes it, and its steps, policy versions and state changes go
 * out as {@link Addresses#TRAINING_STEP}, {@link Addresses#POLICY_UPDATED} and {@link Addresses#TRAINER_STATE}.
 */
public final class TrainerVerticle extends VerticleBase {
    private final TrainerLoop loop;
    private final ServerMetrics metrics;

    public TrainerVerticle(TrainerLoop loop, ServerMetrics metrics) {
        this.loop = loop;
        this.metrics = metrics;
    }

    @Override
    public Future<?> start() {
        var bus = vertx.eventBus();
        var votes = bus.<JsonObject>consumer(Addresses.PREFERENCES_RECORDED, m -> loop.wake());
        var control = bus.<String>consumer(Addresses.TRAINER_CONTROL, m -> {
            switch (m.body()) {
                case "pause" -> m.reply(loop.setPaused(true));
                case "resume" -> m.reply(loop.setPaused(false));
                default -> m.fail(400, "unknown trainer command '" + m.body() + "'");
            }
        });
        // Called on the trainer thread; publishing is thread-safe.
        loop.start(new TrainerLoop.Events() {
            @Override
            public void step(JsonObject step) {
                metrics.step();
                bus.publish(Addresses.TRAINING_STEP, step);
            }

            @Override
            public void policy(int version, int step, Path adapterDir) {
                bus.publish(Addresses.POLICY_UPDATED, new JsonObject().put("policy_version", version)
                        .put("step", step).put("adapter_dir", adapterDir.toString()));
            }

            @Override
            public void state(JsonObject state) {
                bus.publish(Addresses.TRAINER_STATE, state);
            }

            @Override
            public void serve(int version, Path adapterDir) {
                bus.publish(Addresses.POLICY_SERVE, new JsonObject().put("policy_version", version)
                        .put("adapter_dir", adapterDir == null ? null : adapterDir.toString()));
            }
        });
        return Future.all(votes.completion(), control.completion());
    }

    @Override
    public Future<?> stop() {
        return Future.fromCompletionStage(loop.stop(), context);
    }
}
