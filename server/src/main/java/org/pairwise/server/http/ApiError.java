package org.pairwise.server.http;

/**
 * A request that cannot be served, with the status and the message the client gets in the one error format
 * {@code {"error": message, "detail": detail}}. Handlers throw it or pass it to {@code ctx.fail}.
 */
public final class ApiError extends RuntimeException {
    final int status;
    final Object detail;

    public ApiError(int status, String message, Object detail) {
        super(message, null, false, false);
        this.status = status;
        this.detail = detail;
    }

    public ApiError(int status, String message) {
        this(status, message, null);
    }

    public static ApiError badRequest(String message) {
        return new ApiError(400, message);
    }
}
