package org.pairwise.server.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.pairwise.server.http.RouteTable.Body;

/**
 * Checks on every state-changing request, before its body is read. It must come from this server's own pages or the
 * {@code --cors} origin: a browser names the page that sent it in {@code Origin} (or, failing that, {@code Referer}),
 * and a request that names neither comes from a script, not a page. And its body must be of the route's type: a web
 * page can send text/plain, form and multipart bodies to any site without asking, but application/json only after a
 * CORS preflight that this server answers only for the {@code --cors} origin.
 */
final class WriteChecks {
    private static final Set<String> UPLOAD_TYPES = Set.of("application/json", "application/jsonl",
            "application/x-ndjson", "text/plain", "multipart/form-data");
    /** RFC 2046: 1 to 70 of these, not ending in a space. */
    private static final Pattern BOUNDARY = Pattern.compile(
            "[0-9A-Za-z'()+_,\\-./:=? ]{0,69}[0-9A-Za-z'()+_,\\-./:=?]");

    private final String cors;

    WriteChecks(String cors) {
        this.cors = cors;
    }

    /**
     * With {@code --cors} set, in front of Vert.x's CORS handler: requests from this server's own pages are not
     * cross-origin and pass untouched (the CORS handler would refuse their Origin); the allowed origin gets the CORS
     * handler's headers and preflight answers; any other page's request is refused.
     */
    Handler<RoutingContext> crossOrigin(Handler<RoutingContext> corsHandler) {
        return ctx -> {
            String origin = ctx.request().getHeader("Origin");
            if (origin == null || sameHost(origin, ctx.request().authority())) {
                ctx.next();
            } else if (cors.equals("*") || (originOf(origin) != null && originOf(origin).equalsIgnoreCase(
                    originOf(cors)))) {
                corsHandler.handle(ctx);
            } else {
                ctx.fail(refusal(origin));
            }
        };
    }

    /** First on a state-changing route: before anything else learns of the request. */
    Handler<RoutingContext> sameSite() {
        return ctx -> pass(ctx, sameSite(ctx.request()));
    }

    /** After the route's access check: a stranger learns nothing of what the route takes. */
    Handler<RoutingContext> body(Body body) {
        return ctx -> pass(ctx, contentType(ctx.request(), body));
    }

    private static void pass(RoutingContext ctx, ApiError refused) {
        if (refused != null) {
            ctx.fail(refused);
        } else {
            ctx.next();
        }
    }

    private ApiError sameSite(HttpServerRequest req) {
        String source = req.getHeader("Origin");
        if (source == null && req.getHeader("Referer") != null) {
            source = originOf(req.getHeader("Referer"));
        }
        if (source == null || cors.equals("*")) {
            return null;
        }
        if (!cors.equals("off") && originOf(source) != null && originOf(source).equalsIgnoreCase(originOf(cors))) {
            return null;
        }
        if (sameHost(source, req.authority())) {
            return null;
        }
        return refusal(source);
    }

    private ApiError refusal(String source) {
        String shown = source.length() > 200 ? source.substring(0, 200) + "…" : source;
        return new ApiError(403, "cross-site request refused: it comes from " + shown + ", not from this server's "
                + "pages" + (cors.equals("off") ? "" : " or " + cors));
    }

    /**
     * Whether the page's origin is this server as the request addressed it (its Host header). The scheme is not
     * compared: behind a proxy that terminates TLS the page is https and the Host the same.
     */
    private static boolean sameHost(String origin, HostAndPort authority) {
        if (authority == null) {
            return false;
        }
        URI u = uri(origin);
        if (u == null || u.getHost() == null || !(u.getScheme().equalsIgnoreCase("http")
                || u.getScheme().equalsIgnoreCase("https"))) {
            return false;
        }
        if (!bare(u.getHost()).equalsIgnoreCase(bare(authority.host()))) {
            return false;
        }
        int port = u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
        return authority.port() < 0 ? port == 80 || port == 443 : port == authority.port();
    }

    /** scheme://host[:port] of a URL, or null when it is not one. */
    private static String originOf(String url) {
        URI u = uri(url);
        if (u == null || u.getScheme() == null || u.getHost() == null) {
            return null;
        }
        return u.getScheme().toLowerCase(Locale.ROOT) + "://" + u.getHost().toLowerCase(Locale.ROOT)
                + (u.getPort() >= 0 ? ":" + u.getPort() : "");
    }

    private static URI uri(String s) {
        try {
            return new URI(s);
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    private static String bare(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static ApiError contentType(HttpServerRequest req, Body body) {
        String header = req.getHeader("Content-Type");
        String media = header == null ? null : header.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        boolean json = "application/json".equals(media) && utf8(header);
        return switch (body) {
            case NONE -> hasBody(req) && !json
                    ? new ApiError(415, "this route takes no body (or an application/json one)") : null;
            case JSON -> json ? null : new ApiError(415, "send the body as application/json"
                    + (media == null ? "" : ", not " + shorten(header)));
            case UPLOAD -> media != null && !UPLOAD_TYPES.contains(media) ? new ApiError(415, "send prompts as "
                    + "application/json, application/jsonl, text/plain or multipart/form-data (curl: -H "
                    + "'Content-Type: text/plain'), not " + shorten(header))
                    : "multipart/form-data".equals(media) && !BOUNDARY.matcher(param(header, "boundary")).matches()
                    ? ApiError.badRequest("multipart/form-data needs a boundary of 1 to 70 characters (RFC 2046)")
                    : null;
        };
    }

    static boolean hasBody(HttpServerRequest req) {
        String length = req.getHeader("Content-Length");
        return req.getHeader("Transfer-Encoding") != null || (length != null && !length.strip().equals("0"));
    }

    private static boolean utf8(String header) {
        String charset = param(header, "charset");
        return charset.isEmpty() || charset.equalsIgnoreCase("utf-8") || charset.equalsIgnoreCase("utf8");
    }

    /** A parameter of a Content-Type header, unquoted, or "" when absent. */
    private static String param(String header, String name) {
        String[] parts = header.split(";");
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].strip();
            int eq = p.indexOf('=');
            if (eq > 0 && p.substring(0, eq).strip().equalsIgnoreCase(name)) {
                String v = p.substring(eq + 1).strip();
                return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
            }
        }
        return "";
    }

    private static String shorten(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "…" : s;
    }
}
