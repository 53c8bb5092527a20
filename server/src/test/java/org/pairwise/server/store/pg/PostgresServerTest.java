package org.pairwise.server.store.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;
import org.pairwise.server.store.StoreLocation;

/**
 * A server over real HTTP on loopback whose store is a PostgreSQL database (the URL without its password, which comes
 * from store_password_file): votes in, trained on, exported; everything is in the database (no SQLite file in the
 * data dir; checkpoint and published-version rows), and a restart on the same database resumes after the last step.
 */
@ExtendWith(VertxExtension.class)
class PostgresServerTest {
    @TempDir
    Path dir;

    @Test
    void aServerOnPostgresTakesVotesTrainsExportsAndResumes(Vertx vertx) throws Exception {
        PostgresHarness.assumeAvailable();
        try (PostgresHarness pg = PostgresHarness.start()) {
            pg.createDatabase("served");
            Path password = Files.writeString(dir.resolve("pgpass"), pg.password() + "\n");
            Map<String, String> settings = new HashMap<>(Map.of("store", "postgresql://" + pg.user() + "@127.0.0.1:"
                    + pg.port() + "/served", "store_password_file", password.toString(), "save_steps", "1"));
            Path data = dir.resolve("data");
            var config = TestServers.config(data, settings);
            assertTrue(config.storeLocation(null) instanceof StoreLocation.PostgresDatabase);

            long[] votes = new long[2];
            PairwiseServer server = PairwiseServer.start(config);
            try {
                Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
                String[] people = {"alice", "bob"};
                for (int i = 0; i < 2; i++) {
                    JsonObject pair = http.get("/api/pairs/next").bodyAsJsonObject();
                    var vote = http.vote(pair.getString("pair_id"), i == 0 ? "a" : "b", people[i]);
                    assertEquals(201, vote.statusCode(), vote.bodyAsString());
                    votes[i] = vote.bodyAsJsonObject().getLong("id");
                }
                TestServers.await(() -> http.asAdmin().get("/api/stats").bodyAsJsonObject(),
                        s -> s.getInteger("policy_version") >= 2, Duration.ofSeconds(120), "two policy versions");

                var export = http.admin(HttpMethod.GET, "/api/export?format=standard");
                assertEquals(200, export.statusCode(), export.bodyAsString());
                List<String> lines = export.bodyAsString().lines().toList();
                assertEquals(2, lines.size(), export.bodyAsString());
                for (String line : lines) {
                    JsonObject row = new JsonObject(line);
                    assertFalse(row.getString("prompt").isBlank());
                    assertTrue(row.containsKey("chosen") && row.containsKey("rejected"), line);
                }
            } finally {
                server.close();
            }

            try (Connection c = pg.connect("served"); Statement st = c.createStatement()) {
                assertEquals(2, count(st, "SELECT COUNT(*) FROM preferences WHERE id IN (" + votes[0] + ", "
                        + votes[1] + ") AND trained_at_version IS NOT NULL"));
                assertTrue(count(st, "SELECT COUNT(*) FROM trainer_checkpoints") >= 2, "a checkpoint row per step");
                assertEquals(2, count(st, "SELECT COUNT(*) FROM policy_versions WHERE version IN (1, 2)"),
                        "each published version has its row");
                assertEquals(votes[1], count(st, "SELECT last_vote_id FROM trainer_checkpoints ORDER BY id DESC"
                        + " LIMIT 1"));
            }
            assertFalse(Files.exists(data.resolve(PairwiseServer.DB_FILE)), "the votes went to PostgreSQL only");

            PairwiseServer again = PairwiseServer.start(config);
            try {
                assertEquals(2, again.resumed().step(), "resumed after the two steps");
                assertEquals(votes[1], again.resumed().lastVoteId());
                Client http = new Client(WebClient.create(vertx), again.port(), again.adminToken());
                assertEquals(2, http.asAdmin().get("/api/stats").bodyAsJsonObject().getLong("votes"));
            } finally {
                again.close();
            }
        }
    }

    private static long count(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
