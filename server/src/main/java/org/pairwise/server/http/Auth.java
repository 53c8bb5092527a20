package org.pairwise.server.http;

import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.server.auth.Tokens;

/**
 * Bearer-token checks. Admin routes always need the admin token; annotation routes need an annotator token only in
 * token mode, and then the vote's annotator is the token's name (a person cannot vote as someone else).
 */
final class Auth {
    static final String ANNOTATOR = "pairwise.annotator";

    private final String adminToken;
    private final boolean tokenAnnotation;
    private final Map<String, String> annotatorsByToken = new LinkedHashMap<>();

    Auth(String adminToken, boolean tokenAnnotation, List<String> annotatorTokens) {
        this.adminToken = adminToken;
        this.tokenAnnotation = tokenAnnotation;
        for (String entry : annotatorTokens) {
            int colon = entry.indexOf(':');
            annotatorsByToken.put(entry.substring(colon + 1), entry.substring(0, colon));
        }
    }

    void admin(RoutingContext ctx) {
        String presented = Tokens.bearer(ctx.request().getHeader("Authorization"));
        if (presented == null) {
            ctx.fail(new ApiError(401, "admin token required (Authorization: Bearer TOKEN)"));
        } else if (!Tokens.matches(presented, adminToken)) {
            ctx.fail(new ApiError(401, "invalid admin token"));
        } else {
            ctx.next();
        }
    }

    void annotator(RoutingContext ctx) {
        if (!tokenAnnotation) {
            ctx.next();
            return;
        }
        String presented = Tokens.bearer(ctx.request().getHeader("Authorization"));
        if (presented == null) {
            ctx.fail(new ApiError(401, "annotator token required (Authorization: Bearer TOKEN)"));
            return;
        }
        // Every token is compared, matched or not, so the time taken says nothing about which one was close.
        String name = null;
        for (Map.Entry<String, String> e : annotatorsByToken.entrySet()) {
            if (Tokens.matches(presented, e.getKey())) {
                name = e.getValue();
            }
        }
        if (name == null && Tokens.matches(presented, adminToken)) {
            name = "admin";
        }
        if (name == null) {
            ctx.fail(new ApiError(401, "invalid annotator token"));
            return;
        }
        ctx.put(ANNOTATOR, name);
        ctx.next();
    }
}
