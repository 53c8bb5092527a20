package org.pairwise.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;
import org.pairwise.server.quality.HandExample;

/**
 * GET /api/quality on a real server over loopback: four annotators with their own tokens cast the hand-worked
 * example's votes through POST /api/preferences, and a viewer reads the example's figures back as JSON.
 */
@ExtendWith(VertxExtension.class)
class QualityApiTest {
    static final String ADMIN = "quality-api-admin-token-0123456789";
    static final String VIEWER = "vic-quality-viewer-token";
    static final List<String> NAMES = List.of("ann", "ben", "cat", "dan");

    static String token(String name) {
        return name + "-quality-token-1";
    }

    static MultiMap bearer(String token) {
        return MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + token)
                .add("Content-Type", "application/json");
    }

    static JsonObject quality(Client http, String query) {
        var r = http.send(HttpMethod.GET, "/api/quality" + query, null, bearer(VIEWER));
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    @Test
    void theHandExampleCastOverHttpReadsBackWithItsFigures(Vertx vertx, @TempDir Path dir) throws Exception {
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir, Map.of("annotation", "token",
                "admin_token", ADMIN, "annotator_tokens", String.join(",", NAMES.stream()
                        .map(n -> n + ":" + token(n)).toList()), "viewer_tokens", "vic:" + VIEWER)))) {
            castAndRead(new Client(WebClient.create(vertx), server.port(), ADMIN));
        }
    }

    private static void castAndRead(Client http) {
        JsonObject empty = quality(http, "");
        assertEquals(0, empty.getInteger("votes"));
        assertEquals(new JsonArray(), empty.getJsonArray("annotators"));
        assertNull(empty.getJsonObject("fleiss_kappa").getValue("kappa"), "undefined is null, not NaN or 0");
        assertNull(empty.getJsonObject("krippendorff_alpha").getValue("alpha"));
        assertEquals(10, empty.getJsonObject("cohen_kappa").getInteger("min_shared"));

        Map<String, String> pairIds = new HashMap<>();
        for (String p : HandExample.PAIRS) {
            var next = http.send(HttpMethod.GET, "/api/pairs/next", null, bearer(token("ann")));
            assertEquals(200, next.statusCode(), next.bodyAsString());
            pairIds.put(p, next.bodyAsJsonObject().getString("pair_id"));
        }
        assertEquals(5, new java.util.HashSet<>(pairIds.values()).size(), "five different pairs: " + pairIds);
        for (HandExample.Vote v : HandExample.VOTES) {
            var r = http.send(HttpMethod.POST, "/api/preferences", new JsonObject().put("pair_id",
                    pairIds.get(v.pair())).put("choice", v.choice()).encode(), bearer(token(v.annotator())));
            assertEquals(201, r.statusCode(), r.bodyAsString());
        }

        JsonObject q = quality(http, "?min_shared=3");
        assertEquals(12, q.getInteger("votes"));
        assertEquals(5, q.getInteger("pairs"));
        assertEquals(4, q.getInteger("pairs_with_two_or_more_votes"));
        JsonArray annotators = q.getJsonArray("annotators");
        assertEquals(NAMES, annotators.stream().map(a -> ((JsonObject) a).getString("annotator")).toList());
        int[][] expected = {{4, 2, 1, 2}, {4, 2, 1, 2}, {3, 3, 1, 0}, {1, 0, 0, 0}}; // votes, compared, agreed, tied
        for (int i = 0; i < 4; i++) {
            JsonObject a = annotators.getJsonObject(i);
            JsonObject agreement = a.getJsonObject("agreement");
            assertEquals(List.of(expected[i][0], expected[i][1], expected[i][2], expected[i][3]),
                    List.of(a.getInteger("votes"), agreement.getInteger("compared"), agreement.getInteger("agreed"),
                            agreement.getInteger("tied")), a.encode());
        }
        JsonObject annRate = annotators.getJsonObject(0).getJsonObject("agreement").getJsonObject("rate");
        assertEquals(0.5, annRate.getDouble("value"), 1e-12);
        assertEquals(HandExample.WILSON_1_2[0], annRate.getDouble("low"), 5e-5);
        assertEquals(HandExample.WILSON_1_2[1], annRate.getDouble("high"), 5e-5);
        JsonObject catRate = annotators.getJsonObject(2).getJsonObject("agreement").getJsonObject("rate");
        assertEquals(HandExample.WILSON_1_3[0], catRate.getDouble("low"), 5e-5);
        assertTrue(annotators.getJsonObject(3).getJsonObject("agreement").containsKey("rate"));
        assertNull(annotators.getJsonObject(3).getJsonObject("agreement").getValue("rate"), "dan shares no pair");
        assertNull(annotators.getJsonObject(3).getValue("votes_per_hour"), "one vote has no pace");
        assertEquals(HandExample.FLEISS, q.getJsonObject("fleiss_kappa").getDouble("kappa"), 1e-12);
        assertEquals(HandExample.FLEISS_EXPECTED, q.getJsonObject("fleiss_kappa").getDouble("expected"), 1e-12);
        assertFalse(q.getJsonObject("fleiss_kappa").getBoolean("constant_votes_per_pair"));
        assertEquals(HandExample.ALPHA, q.getJsonObject("krippendorff_alpha").getDouble("alpha"), 1e-12);
        assertEquals(11, q.getJsonObject("krippendorff_alpha").getInteger("votes"));

        JsonArray kappas = q.getJsonObject("cohen_kappa").getJsonArray("pairs");
        assertEquals(3, kappas.size(), kappas.encode());
        assertEquals(new JsonObject().put("a", "ann").put("b", "ben").put("shared", 4).put("observed", 0.75)
                .put("expected", 0.5).put("kappa", HandExample.COHEN_ANN_BEN), kappas.getJsonObject(0));
        assertEquals(HandExample.COHEN_WITH_CAT, kappas.getJsonObject(1).getDouble("kappa"), 1e-12);
        assertEquals(1, quality(http, "?min_shared=4").getJsonObject("cohen_kappa").getJsonArray("pairs").size());

        // The admin reads the same; an annotator is refused in words; a bad threshold is a 400 naming it.
        var asAdmin = http.send(HttpMethod.GET, "/api/quality?min_shared=3", null, bearer(ADMIN));
        assertEquals(q, asAdmin.bodyAsJsonObject());
        var asAnn = http.send(HttpMethod.GET, "/api/quality", null, bearer(token("ann")));
        assertEquals(403, asAnn.statusCode());
        assertTrue(asAnn.bodyAsJsonObject().getString("error").contains("viewers and the admin"), asAnn.bodyAsString());
        var bad = http.send(HttpMethod.GET, "/api/quality?min_shared=0", null, bearer(VIEWER));
        assertEquals(400, bad.statusCode());
        assertTrue(bad.bodyAsJsonObject().getString("error").contains("min_shared"), bad.bodyAsString());
    }
}
