package org.pairwise.loadtest;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;

/**
 * Accounts for a run ({@code --annotators-from accounts}): the admin API creates each simulated person as an
 * annotator ({@code POST /api/annotators} with {@code token: true}) and answers with the account's bearer token, the
 * credential the server offers scripts. A token needs no session cookie and no CSRF token, and the server resolves
 * it to the account on every request, so each person votes, skips and is counted under its account's name.
 */
final class AccountSetup {
    /** Accounts created at once: a few requests in flight, not a thousand. */
    private static final int IN_FLIGHT = 8;

    private AccountSetup() {}

    /** Creates {@code n} annotators named {@code lt-RUN-I}; their identities in order. */
    static Future<List<Identity>> create(WebClient client, String adminToken, String runId, int n) {
        if (adminToken == null) {
            return Future.failedFuture(new IllegalStateException("--annotators-from accounts creates accounts "
                    + "through the admin API: give --admin-token (or --serve)"));
        }
        List<Identity> made = new ArrayList<>(n);
        Future<Void> chain = Future.succeededFuture();
        for (int from = 0; from < n; from += IN_FLIGHT) {
            int lo = from, hi = Math.min(n, from + IN_FLIGHT);
            chain = chain.compose(v -> {
                List<Future<Identity>> batch = new ArrayList<>();
                for (int i = lo; i < hi; i++) {
                    batch.add(createOne(client, adminToken, "lt-" + runId + "-" + i));
                }
                return Future.all(batch).map(all -> {
                    for (int i = 0; i < batch.size(); i++) {
                        made.add(all.resultAt(i));
                    }
                    return null;
                });
            });
        }
        return chain.map(v -> List.copyOf(made));
    }

    private static Future<Identity> createOne(WebClient client, String adminToken, String name) {
        JsonObject body = new JsonObject().put("name", name).put("role", "annotator").put("token", true);
        return client.post("/api/annotators").putHeader("Authorization", "Bearer " + adminToken)
                .sendJsonObject(body).compose(r -> {
                    if (r.statusCode() != 201) {
                        return Future.failedFuture(new IllegalStateException("POST /api/annotators answered "
                                + r.statusCode() + ": " + ServedPair.abbreviate(String.valueOf(r.bodyAsString()))
                                + (r.statusCode() == 409 ? " (is the server in --annotation accounts?)" : "")));
                    }
                    JsonObject o = r.bodyAsJsonObject();
                    return Future.succeededFuture(new Identity(o.getJsonObject("annotator").getString("name"),
                            o.getString("token"), null));
                });
    }
}
