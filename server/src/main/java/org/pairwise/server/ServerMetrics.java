package org.pairwise.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.train.TrainerLoop;

/** The product's own Prometheus meters, next to the Vert.x HTTP and event-bus meters on /metrics. */
public final class ServerMetrics {
    private final MeterRegistry registry;
    private final Map<String, Counter> votes = new ConcurrentHashMap<>();
    private final Counter pairs;
    private final Counter steps;

    public ServerMetrics(MeterRegistry registry, PairPool pool, TrainerLoop trainer) {
        this.registry = registry;
        this.pairs = Counter.builder("pairwise.pairs.generated").description("pairs generated and stored")
                .register(registry);
        this.steps = Counter.builder("pairwise.training.steps").description("DPO steps taken by this process")
                .register(registry);
        Gauge.builder("pairwise.policy.version", pool, PairPool::policyVersion)
                .description("policy version the generator samples from").register(registry);
        Gauge.builder("pairwise.pool.ready", pool, PairPool::readyCount).description("pairs ready to serve")
                .register(registry);
        Gauge.builder("pairwise.trainer.last.vote.id", trainer, t -> t.status().getLong("last_vote_id"))
                .description("id of the last vote trained on").register(registry);
    }

    public void vote(String choice) {
        votes.computeIfAbsent(choice, c -> Counter.builder("pairwise.votes").tag("choice", c)
                .description("votes recorded (acknowledged after commit)").register(registry)).increment();
    }

    public void pairGenerated() {
        pairs.increment();
    }

    public void step() {
        steps.increment();
    }
}
