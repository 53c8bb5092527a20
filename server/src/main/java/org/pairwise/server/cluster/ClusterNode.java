package org.pairwise.server.cluster;

import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.gen.GeneratorVerticle;
import org.pairwise.server.store.StoreLocation.PostgresDatabase;
import org.pairwise.server.train.PublishedPolicies;
import org.pairwise.server.train.TrainerLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node of a cluster adds to the one-process server: the clustered Vert.x, the policy versions fetched from
 * the database into this node's data dir (its generator serves the newest one from the start, and each announced
 * one after), and, on a node that may train, its part in the election of the one trainer: the trainer loop is
 * resumed from the database's newest checkpoint and its verticle deployed only once this node holds the lock.
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final ServeConfig cfg;
    private final PostgresDatabase db;
    private final SharedTrainerState shared;
    private final PublishedPolicies policies;
    private final io.vertx.spi.cluster.hazelcast.HazelcastClusterManager manager;
    private ClusterTrainer election;
    private volatile NodeRegistry registry;

    private ClusterNode(ServeConfig cfg, PostgresDatabase db, SharedTrainerState shared, PublishedPolicies policies) {
        this.cfg = cfg;
        this.db = db;
        this.shared = shared;
        this.policies = policies;
        this.manager = ClusterVertx.manager(cfg);
    }

    public static ClusterNode open(ServeConfig cfg, PostgresDatabase db, PublishedPolicies policies)
            throws SQLException {
        return new ClusterNode(cfg, db, SharedTrainerState.open(db), policies);
    }

    /** The newest version in the database, fetched into this node's policy dir: what generation starts with. */
    public int newestVersion() throws Exception {
        int v = shared.newestVersion();
        if (v > 0) {
            shared.fetchVersion(v, policies.dir(v));
        }
        return v;
    }

    /** A version's directory on this node, fetched from the database when it is not here yet. */
    public GeneratorVerticle.PolicyDirs policyDirs() {
        return (version, announced) -> {
            Path local = policies.existing(version);
            if (local != null || version == 0) {
                return local;
            }
            if (!shared.fetchVersion(version, policies.dir(version))) {
                throw new IllegalStateException("policy version " + version + " is not in the database");
            }
            return policies.existing(version);
        };
    }

    public Future<Vertx> vertx(VertxBuilder builder, VertxOptions options) {
        return ClusterVertx.start(builder, options, cfg, manager);
    }

    /**
     * The registry of the cluster's nodes (deploy it once the server listens); {@code own} is this node's status
     * without its trainer part, which is added here.
     */
    public NodeRegistry registry(java.util.function.Supplier<io.vertx.core.json.JsonObject> own, TrainerLoop loop) {
        registry = new NodeRegistry(cfg.clusterName(), manager, () -> {
            var s = own.get().put("role", cfg.role()).put("trainer", training());
            return training() ? s.put("trainer_status", loop.status()) : s;
        });
        return registry;
    }

    /** The cluster as this node sees it (null before the registry is deployed). */
    public io.vertx.core.json.JsonObject view() {
        return registry == null ? null : registry.view();
    }

    /** The URL of the node that trains, as the registry last heard, or null when none does. */
    public String trainerUrl() {
        if (registry == null) {
            return null;
        }
        var view = registry.view();
        for (Object o : view.getJsonArray("nodes")) {
            var n = (io.vertx.core.json.JsonObject) o;
            if (n.getString("node_id").equals(view.getString("trainer_node"))) {
                return n.getString("url");
            }
        }
        return null;
    }

    /** The trainer's status: this node's loop if it trains, else the one the training node last published. */
    public io.vertx.core.json.JsonObject trainerStatus(TrainerLoop loop) {
        if (training() || registry == null) {
            return loop.status();
        }
        var remote = registry.trainerStatus();
        return remote != null ? remote : loop.status().put("state", "elsewhere").put("note", "no node of the "
                + "cluster trains right now (waiting for the trainer lock)");
    }

    /**
     * On a node that may train: waits for the trainer lock in the background; once held, resumes the loop from the
     * database's checkpoint and deploys {@code trainer}, adding its deployment id to {@code deployments} (undeployed
     * last on close). Losing the lock undeploys it again: this node then serves only.
     */
    public void joinElection(TrainerLoop loop, Vertx vertx, Supplier<Deployable> trainer, List<String> deployments)
            throws SQLException {
        if (!cfg.mayTrain()) {
            return;
        }
        String[] deployed = new String[1];
        election = new ClusterTrainer(() -> TrainerLock.open(db), shared, cfg.trainerDir(), cfg.keepCheckpoints(),
                new ClusterTrainer.Role() {
                    @Override
                    public void elected() throws Exception {
                        loop.resume();
                        deployed[0] = vertx.deployVerticle(trainer.get()).toCompletionStage().toCompletableFuture()
                                .get(120, TimeUnit.SECONDS);
                        deployments.add(deployed[0]);
                    }

                    @Override
                    public void lost(String why) {
                        if (deployed[0] != null) {
                            deployments.remove(deployed[0]);
                            vertx.undeploy(deployed[0]).onFailure(e -> LOG.warn("undeploying the trainer: {}",
                                    e.toString()));
                        }
                    }
                });
        loop.replicateTo(election.replica());
        election.start();
    }

    /** Whether this node trains now. */
    public boolean training() {
        return election != null && election.training();
    }

    @Override
    public void close() throws Exception {
        try {
            if (election != null) {
                election.close();
            }
        } finally {
            shared.close();
        }
    }
}
