package org.pairwise.server.http;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.pairwise.server.auth.Principal;
import org.pairwise.server.auth.Role;

/**
 * How much of other people's data a principal reads. A vote is whole to its own annotator and the admin; a viewer
 * reads it without its idempotency key (a key is its annotator's handle for retries, nobody else's business); anyone
 * else sees only that a vote was cast ({@code id}, {@code choice}, {@code created_at}). Per-annotator counts and the
 * trainer's error text are for viewers and the admin; an annotator sees their own count.
 */
final class Visibility {
    private Visibility() {}

    enum View { WHOLE, WITHOUT_KEY, COUNT_ONLY }

    static View of(Principal reader, String annotator) {
        if (reader.role() == Role.ADMIN || reader.name().equals(annotator)) {
            return View.WHOLE;
        }
        return reader.role() == Role.VIEWER ? View.WITHOUT_KEY : View.COUNT_ONLY;
    }

    /** A vote as {@link Wire#vote} writes it, cut to what {@code view} may read. */
    static JsonObject vote(JsonObject vote, View view) {
        return switch (view) {
            case WHOLE -> vote;
            case WITHOUT_KEY -> {
                JsonObject v = vote.copy();
                v.remove("idempotency_key");
                yield v;
            }
            case COUNT_ONLY -> new JsonObject().put("id", vote.getValue("id")).put("choice", vote.getValue("choice"))
                    .put("created_at", vote.getValue("created_at"));
        };
    }

    static JsonObject vote(JsonObject vote, Principal reader) {
        return vote(vote, of(reader, vote.getString("annotator")));
    }

    /** votes_by_annotator: everyone's for viewers and the admin, the reader's own otherwise. */
    static JsonObject byAnnotator(Map<String, Long> counts, Principal reader) {
        JsonObject out = new JsonObject();
        counts.forEach((a, n) -> {
            if (reader.role().readsEveryone() || reader.name().equals(a)) {
                out.put(a == null ? "(anonymous)" : a, n);
            }
        });
        return out;
    }

    /** The trainer's status; its error text (an exception's) only for viewers and the admin. */
    static JsonObject trainer(JsonObject status, Principal reader) {
        return reader.role().readsEveryone() ? status : withoutError(status);
    }

    static JsonObject withoutError(JsonObject status) {
        if (!status.containsKey("error")) {
            return status;
        }
        JsonObject s = status.copy();
        s.remove("error");
        return s;
    }
}
