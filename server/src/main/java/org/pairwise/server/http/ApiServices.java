package org.pairwise.server.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.Executor;
import org.pairwise.server.cluster.ClusterNode;
import org.pairwise.server.ServerMetrics;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.train.PublishedPolicies;
import org.pairwise.server.train.TrainerLoop;

/**
 * What the HTTP layer calls. Everything here is thread-safe and non-blocking except {@code io}, the executor the
 * handlers hand blocking work to (exports, zips, prompt uploads).
 */
public record ApiServices(ServeConfig config, PreferenceStore store, PairPool pool, TrainerLoop trainer,
                          PublishedPolicies policies, String adminToken, PrometheusMeterRegistry registry,
                          ServerMetrics metrics, Executor io, ClusterNode cluster) {
    /** The trainer's status: this process's loop, or in a cluster the training node's (see ClusterNode). */
    public io.vertx.core.json.JsonObject trainerStatus() {
        return cluster == null ? trainer.status() : cluster.trainerStatus(trainer);
    }
}
