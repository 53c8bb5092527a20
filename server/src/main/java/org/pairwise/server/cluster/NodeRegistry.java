package org.pairwise.server.cluster;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeListener;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.pairwise.server.Addresses;

/**
 * Every node's view of the cluster: each node publishes its status on {@link Addresses#NODE_STATUS} every
 * {@value #EVERY_MS} ms and keeps the last status of every other; a node is dropped when the cluster manager says
 * it left, or when nothing came from it for {@value #SILENT_MS} ms. {@link #view} is what {@code /api/stats} shows.
 */
public final class NodeRegistry extends VerticleBase {
    static final long EVERY_MS = 2_000;
    static final long SILENT_MS = 10_000;

    private record Seen(JsonObject status, long at) {}

    private final String clusterName;
    private final ClusterManager manager;
    private final Supplier<JsonObject> own;
    private final Map<String, Seen> nodes = new ConcurrentHashMap<>();
    private volatile String nodeId = "";
    private long timer;
    private MessageConsumer<JsonObject> consumer;

    /** @param own this node's status (without its id), built on the event loop every period */
    public NodeRegistry(String clusterName, ClusterManager manager, Supplier<JsonObject> own) {
        this.clusterName = clusterName;
        this.manager = manager;
        this.own = own;
    }

    @Override
    public Future<?> start() {
        nodeId = manager.getNodeId();
        manager.nodeListener(new NodeListener() {
            @Override
            public void nodeAdded(String id) {}

            @Override
            public void nodeLeft(String id) {
                nodes.remove(id);
            }
        });
        consumer = vertx.eventBus().consumer(Addresses.NODE_STATUS, m -> nodes.put(m.body().getString("node_id"),
                new Seen(m.body(), System.currentTimeMillis())));
        timer = vertx.setPeriodic(0, EVERY_MS, t -> vertx.eventBus().publish(Addresses.NODE_STATUS,
                own.get().put("node_id", nodeId)));
        return consumer.completion();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        return consumer.unregister();
    }

    /** {name, this_node, trainer_node (null when none trains), nodes: [status..., ordered by url]}. */
    public JsonObject view() {
        long now = System.currentTimeMillis();
        nodes.values().removeIf(s -> now - s.at() > SILENT_MS);
        JsonArray list = new JsonArray();
        String trainer = null;
        for (Seen s : nodes.values().stream().sorted(java.util.Comparator.comparing(x -> x.status().getString("url",
                ""))).toList()) {
            JsonObject st = s.status().copy().put("seen_ms_ago", now - s.at());
            st.remove("trainer_status");
            list.add(st);
            if (s.status().getBoolean("trainer", false)) {
                trainer = s.status().getString("node_id");
            }
        }
        return new JsonObject().put("name", clusterName).put("this_node", nodeId).put("trainer_node", trainer)
                .put("nodes", list);
    }

    /** The trainer loop status the training node last published, or null when no node trains. */
    public JsonObject trainerStatus() {
        for (Seen s : nodes.values()) {
            if (s.status().getBoolean("trainer", false) && s.status().getJsonObject("trainer_status") != null) {
                return s.status().getJsonObject("trainer_status");
            }
        }
        return null;
    }
}
