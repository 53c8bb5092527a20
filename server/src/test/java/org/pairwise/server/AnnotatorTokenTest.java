package org.pairwise.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.TestServers.Client;

/** Token annotation: votes need an annotator token, and the token, not the body, names the annotator. */
@ExtendWith(VertxExtension.class)
class AnnotatorTokenTest {
    @Test
    void onlyTokenHoldersVoteAndTheTokenNamesThem(@TempDir Path dir, Vertx vertx) throws Exception {
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir, Map.of("annotation", "token",
                "annotator_tokens", "ann:secret-ann-token,ben:secret-ben-token", "admin_token",
                "configured-admin-token-of-32-chars")))) {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            assertEquals("configured-admin-token-of-32-chars", server.adminToken());
            assertEquals(401, http.get("/api/pairs/next").statusCode());
            MultiMap ann = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer secret-ann-token")
                    .add("Content-Type", "application/json");
            var next = http.send(HttpMethod.GET, "/api/pairs/next", null, ann);
            assertEquals(200, next.statusCode(), next.bodyAsString());
            String pair = next.bodyAsJsonObject().getString("pair_id");
            String body = new JsonObject().put("pair_id", pair).put("choice", "a").put("annotator", "ben").encode();

            assertEquals(401, http.post("/api/preferences", body).statusCode());
            MultiMap wrong = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer secret-ann-tokeN");
            assertEquals(401, http.send(HttpMethod.POST, "/api/preferences", body, wrong).statusCode());
            var vote = http.send(HttpMethod.POST, "/api/preferences", body, ann);
            assertEquals(201, vote.statusCode(), vote.bodyAsString());
            assertEquals("ann", vote.bodyAsJsonObject().getString("annotator"));
            // Admin routes still take only the admin token.
            assertEquals(401, http.send(HttpMethod.GET, "/api/export", null, ann).statusCode());
            assertEquals(200, http.admin(HttpMethod.GET, "/api/export").statusCode());
        }
    }
}
