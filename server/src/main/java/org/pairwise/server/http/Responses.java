package org.pairwise.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writing JSON replies and reading JSON request bodies, with the checks every handler needs. */
final class Responses {
    private Responses() {}

    static void json(RoutingContext ctx, int status, Object body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
                .end(Json.encode(body));
    }

    /** The body as a JSON object, or 400 naming what is wrong with it. */
    static JsonObject object(RoutingContext ctx) {
        var body = ctx.body();
        if (body == null || body.buffer() == null || body.buffer().length() == 0) {
            throw ApiError.badRequest("the request body must be a JSON object");
        }
        Object v;
        try {
            v = Json.decodeValue(body.buffer());
        } catch (DecodeException e) {
            // Where, not Jackson's own words about it.
            JsonObject where = new JsonObject();
            if (e.getCause() instanceof JsonProcessingException j && j.getLocation() != null) {
                where.put("line", j.getLocation().getLineNr()).put("column", j.getLocation().getColumnNr());
            }
            throw new ApiError(400, "malformed JSON", where);
        }
        if (!(v instanceof JsonObject o)) {
            throw ApiError.badRequest("the request body must be a JSON object");
        }
        return o;
    }

    /** The longest id (pair, idempotency key, annotator name) and comment a request body may carry. */
    static final int MAX_ID = 200;
    static final int MAX_COMMENT = 4000;

    static String requiredString(JsonObject o, String key, int maxLength) {
        String s = optionalString(o, key, maxLength);
        if (s == null || s.isEmpty()) {
            throw ApiError.badRequest(key + " is required (a non-empty string)");
        }
        return s;
    }

    static String optionalString(JsonObject o, String key, int maxLength) {
        Object v = o.getValue(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw ApiError.badRequest(key + " must be a string");
        }
        if (s.length() > maxLength) {
            throw ApiError.badRequest(key + " is longer than " + maxLength + " characters");
        }
        return s;
    }

    /** A query parameter, or null when absent; 400 when the query string is not valid percent-encoding. */
    static String query(RoutingContext ctx, String name) {
        try {
            return ctx.queryParams().get(name);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("the query string is not valid percent-encoding");
        }
    }

    /** An integer query parameter, or the default when absent. */
    static int intParam(RoutingContext ctx, String name, int dflt, int min, int max) {
        String v = query(ctx, name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n < min || n > max) {
                throw ApiError.badRequest(name + " must be in " + min + ".." + max + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(name + " must be an integer, got '" + v + "'");
        }
    }
}
