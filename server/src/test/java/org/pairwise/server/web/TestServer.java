package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.model.SharedModels;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.config.ServeConfig;

/**
 * A real server on a free port with its own SQLite file: stories260K from ../shared/models when present (it writes
 * real words, and a step on it is fast), else the built-in demo model. Small generations and one-vote batches keep
 * a training step within seconds.
 */
final class TestServer implements AutoCloseable {
    final PairwiseServer server;
    final Path dataDir;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private TestServer(PairwiseServer server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
    }

    static TestServer start(Map<String, String> extra) throws Exception {
        Path dataDir = Files.createTempDirectory("pairwise-web-");
        Map<String, String> o = new HashMap<>();
        o.put("port", "0");
        o.put("data_dir", dataDir.toString());
        o.put("max_new_tokens", "16");
        o.put("batch_size", "1");
        o.put("gradient_accumulation_steps", "1");
        o.put("publish_every", "1");
        o.put("pool_size", "4");
        o.put("undo_window", "0");
        SharedModels.find("stories260K/stories260K.gguf").ifPresent(p -> o.put("model", p.toString()));
        o.putAll(extra);
        ServeConfig cfg = ServeConfig.defaults().withOverrides(o);
        return new TestServer(PairwiseServer.start(cfg), dataDir);
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    /** The votes in the SQLite file, as (pair_id, choice) for one annotator, oldest first. */
    List<String[]> votesOf(String annotator) throws SQLException {
        List<String[]> out = new ArrayList<>();
        // A second connection to the live file: WAL lets it read committed votes while the server's writer works.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dbFile());
             PreparedStatement ps = c.prepareStatement(
                     "SELECT pair_id, choice FROM preferences WHERE annotator = ? ORDER BY id")) {
            ps.setString(1, annotator);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
        }
        return out;
    }

    /** The first column of each row a query with one parameter reads from the live SQLite file. */
    List<String> rows(String sql, String arg) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dbFile());
             PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** Why each side of a stored pair stopped: {a_finish, b_finish} ("eos", "length", ...). */
    String[] finishOf(String pairId) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dbFile());
             PreparedStatement ps = c.prepareStatement("SELECT a_finish, b_finish FROM pairs WHERE pair_id = ?")) {
            ps.setString(1, pairId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new AssertionError("no stored pair " + pairId);
                }
                return new String[] {rs.getString(1), rs.getString(2)};
            }
        }
    }

    /** Casts a vote over HTTP, as another person's browser would; returns the pair's id. */
    String vote(String choice, String annotator) throws Exception {
        HttpResponse<String> next = null;
        // The pool fills in the background after start-up.
        for (int i = 0; i < 600; i++) {
            next = get("/api/pairs/next");
            if (next.statusCode() == 200) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals(200, next.statusCode(), next.body());
        String pairId = new JsonObject(next.body()).getString("pair_id");
        JsonObject vote = new JsonObject().put("pair_id", pairId).put("choice", choice);
        HttpResponse<String> r = postJson("/api/preferences", (annotator == null ? vote
                : vote.put("annotator", annotator)).encode());
        assertEquals(201, r.statusCode(), r.body());
        return pairId;
    }

    Path dbFile() {
        return dataDir.resolve("pairwise.db");
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postJson(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url(path)))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws Exception {
        try {
            server.close();
        } finally {
            try (var files = Files.walk(dataDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(java.io.File::delete);
            }
        }
    }
}
