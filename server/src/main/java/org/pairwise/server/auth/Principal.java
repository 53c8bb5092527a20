package org.pairwise.server.auth;

/**
 * Who a request comes from: the name its votes are stored under and its role. The server, never the request body,
 * names the person: from a bearer token, or in open mode from the browser's anonymous identity cookie.
 */
public record Principal(String name, Role role) {
    /** The admin token's principal; votes cast with it are stored under this name. */
    public static final Principal ADMIN = new Principal("admin", Role.ADMIN);

    public Principal {
        if (name == null || name.isEmpty() || role == null) {
            throw new IllegalArgumentException("a principal has a name and a role");
        }
    }
}
