package org.pairwise.server.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The admin token: configured, or read from {@code DATA_DIR/admin_token}, or generated there at first start (owner
 * read/write only) so that the operator sees it once and it survives restarts.
 */
public record AdminToken(String value, boolean generated, Path file) {
    public static final String FILE_NAME = "admin_token";
    /**
     * The shortest admin token accepted, configured or in the file: 32 characters, what 128 random bits take in hex
     * ({@code openssl rand -hex 16}). 128 bits is the usual floor for a long-lived secret that guards everything;
     * the rate limit on failed tokens slows guessing per client, but an attacker with many addresses, or a copy of
     * a request log with timing, should still face a space too large to search. The generated token is 48.
     */
    public static final int MIN_LENGTH = 32;

    public static AdminToken resolve(String configured, Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        if (configured != null) {
            return new AdminToken(configured, false, null);
        }
        if (Files.isRegularFile(file)) {
            String t = Files.readString(file).strip();
            if (t.length() < MIN_LENGTH) {
                throw new IOException(file + " holds no valid admin token (at least " + MIN_LENGTH
                        + " characters; delete the file to generate a new one)");
            }
            return new AdminToken(t, false, file);
        }
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String t = HexFormat.of().formatHex(raw);
        Files.createDirectories(dataDir);
        Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rw-------");
        try {
            // Created with 0600 from the start: no moment where another user could read it.
            Files.createFile(file, PosixFilePermissions.asFileAttribute(owner));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);  // not a POSIX file system; the directory's protection is all there is
        }
        Files.writeString(file, t + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        return new AdminToken(t, true, file);
    }
}
