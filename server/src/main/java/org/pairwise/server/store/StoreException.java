package org.pairwise.server.store;

/** A database failure surfaced through a future (reads run in lambdas that cannot throw SQLException). */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
