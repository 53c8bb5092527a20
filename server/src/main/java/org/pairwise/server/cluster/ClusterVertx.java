package org.pairwise.server.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.pairwise.server.config.ServeConfig;

/**
 * Vert.x in clustered mode over Hazelcast, configured in code from the serve settings and nothing else (no
 * cluster.xml to find): Vert.x's own maps and multimaps from its default configuration, then a TCP-IP join with the
 * configured members (no multicast, no cloud discovery, no phone-home), the cluster port and the 19 above it, and
 * the cluster and event-bus connections bound to {@code cluster_host}. Nodes started on one host with nothing but
 * {@code --cluster} find each other: the member 127.0.0.1 is tried on every port of the range.
 */
public final class ClusterVertx {
    /** Ports a node tries from cluster_port on, and the ports a member without a port is looked for on. */
    public static final int PORTS = 20;

    private ClusterVertx() {}

    /** The cluster manager for these settings (Hazelcast, configured in code). */
    public static HazelcastClusterManager manager(ServeConfig cfg) {
        return new HazelcastClusterManager(hazelcast(cfg, address(cfg.clusterHost())));
    }

    /** A clustered Vert.x built from {@code builder} (its metrics already set) joined through {@code manager}. */
    public static Future<Vertx> start(VertxBuilder builder, VertxOptions options, ServeConfig cfg,
                                      HazelcastClusterManager manager) {
        String host = address(cfg.clusterHost());
        options.getEventBusOptions().setHost(host).setPort(0).setClusterPublicHost(host);
        return builder.with(options).withClusterManager(manager).buildClustered();
    }

    static Config hazelcast(ServeConfig cfg, String host) {
        Config hz = ConfigUtil.loadConfig();
        hz.setClusterName(cfg.clusterName());
        hz.setProperty("hazelcast.phone.home.enabled", "false");
        hz.setProperty("hazelcast.logging.type", "slf4j");
        hz.setProperty("hazelcast.socket.bind.any", "false");
        hz.setProperty("hazelcast.tcp.join.port.try.count", Integer.toString(PORTS));
        // Loopback and LAN answer in milliseconds: the first node need not wait the default 5 s twice to find it
        // is alone.
        hz.setProperty("hazelcast.wait.seconds.before.join", "1");
        hz.setProperty("hazelcast.max.wait.seconds.before.join", "3");
        // A member that stops answering (kill -9, a cut cable) is dropped after seconds, not the default minute.
        hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        hz.setProperty("hazelcast.max.no.heartbeat.seconds", "8");
        // The node leaves the cluster when the server closes (Vert.x's close), not from a JVM hook racing it.
        hz.setProperty("hazelcast.shutdownhook.enabled", "false");
        NetworkConfig net = hz.getNetworkConfig();
        net.setPort(cfg.clusterPort()).setPortAutoIncrement(true).setPortCount(PORTS);
        net.getInterfaces().setEnabled(true).setInterfaces(List.of(host));
        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(cfg.clusterMembers()).setConnectionTimeoutSeconds(2);
        return hz;
    }

    /** Hazelcast binds interfaces by IP address: a host name is resolved once, here. */
    static String address(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cluster_host: cannot resolve '" + host + "'");
        }
    }
}
