package org.pairwise.server;

/** Why the server cannot start, in words for the person starting it (the CLI prints the message as it is). */
public final class StartException extends Exception {
    public StartException(String message) {
        super(message);
    }

    public StartException(String message, Throwable cause) {
        super(message, cause);
    }
}
