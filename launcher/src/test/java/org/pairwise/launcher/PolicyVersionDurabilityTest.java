package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;

/**
 * SIGKILL right after a new policy version shows up in a served pair, several times over: a version number is never
 * handed out twice, so the pairs' policy_version never goes backwards across restarts. Before a version had to be in
 * a checkpoint before it was announced, the restart resumed from the last save_steps checkpoint and generated with an
 * older version, then trained the same numbers again to other weights.
 */
@ExtendWith(VertxExtension.class)
class PolicyVersionDurabilityTest {
    private static final int KILLS = 3;

    @TempDir
    Path dir;

    @Test
    void aPublishedVersionSurvivesSigkillSoNoNumberIsReused(Vertx vertx) throws Exception {
        Map<String, String> settings = TestServers.fastSettings(dir);
        settings.put("save_steps", "10");  // serve's default: most versions are published between checkpoints
        settings.put("pool_size", "2");
        settings.put("max_new_tokens", "8");
        int highestServed = -1;
        List<String> cycles = new ArrayList<>();
        int voter = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            try (ServeProcess child = ServeProcess.start(settings)) {
                Client http = new Client(WebClient.create(vertx), child.awaitPort(), null);
                int first = -1;
                int version;
                long end = System.nanoTime() + 90_000_000_000L;
                while (true) {
                    assertTrue(System.nanoTime() < end, "no new policy version within 90 s:\n" + child.output());
                    var next = http.get("/api/pairs/next");
                    if (next.statusCode() != 200) {
                        Thread.sleep(50);  // the pool is warming up
                        continue;
                    }
                    JsonObject pair = next.bodyAsJsonObject();
                    version = pair.getInteger("policy_version");
                    if (first < 0) {
                        first = version;
                        assertTrue(first >= highestServed, "after kill " + kill + " the server generates with "
                                + "version " + first + ", but version " + highestServed + " was served before");
                    } else if (version > first) {
                        break;  // a version published in this run is in a pair: kill now, before anything else
                    }
                    http.vote(pair.getString("pair_id"), "a", "voter-" + voter++);
                }
                child.kill();
                cycles.add("v" + first + "..v" + version);
                highestServed = Math.max(highestServed, version);
            }
        }

        List<Integer> versions = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(PairwiseServer.DB_FILE));
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT policy_version FROM pairs ORDER BY rowid")) {
            while (rs.next()) {
                versions.add(rs.getInt(1));
            }
        }
        System.out.printf("policy versions over %d kills: %s; stored pairs' versions in order: %s%n", KILLS, cycles,
                versions);
        for (int i = 1; i < versions.size(); i++) {
            assertTrue(versions.get(i) >= versions.get(i - 1), "a pair's policy_version went backwards: " + versions);
        }
        assertEquals(highestServed, versions.stream().mapToInt(Integer::intValue).max().orElse(-1));
    }
}
