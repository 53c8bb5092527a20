package org.pairwise.server.store;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the preference store lives, as {@code --store} says it: {@code sqlite:PATH} (one file, the default
 * {@code sqlite:DATA_DIR/pairwise.db}) or a PostgreSQL URL, {@code postgresql://user:password@host:port/db}. A
 * location never prints its password: {@link #toString} leaves it out, and a malformed spec is refused in words
 * that never quote the spec itself.
 */
public sealed interface StoreLocation {
    /** The SQLite file in the data dir when no store is named. */
    String DEFAULT_FILE = "pairwise.db";

    /** What {@link #parse} refuses; its message is safe to show (it holds no part of the spec). */
    final class BadLocation extends IllegalArgumentException {
        BadLocation(String message) {
            super(message);
        }
    }

    /** Opens (creating or migrating as needed) the store here. */
    PreferenceStore open(int writeQueueCapacity);

    record SqliteFile(Path file) implements StoreLocation {
        @Override
        public PreferenceStore open(int writeQueueCapacity) {
            return new SqlitePreferenceStore(file, writeQueueCapacity);
        }

        @Override
        public String toString() {
            return "sqlite:" + file;
        }
    }

    /**
     * A PostgreSQL database. {@code password} null: PostgreSQL is asked without one (trust or peer auth).
     * {@code options}: the URL's query (JDBC properties such as sslmode=require), or null.
     */
    record PostgresDatabase(String host, int port, String database, String user, String password, String options)
            implements StoreLocation {
        public static final int DEFAULT_PORT = 5432;

        public String jdbcUrl() {
            String h = host.contains(":") ? "[" + host + "]" : host;
            return "jdbc:postgresql://" + h + ":" + port + "/" + database + (options == null ? "" : "?" + options);
        }

        /**
         * A connection of its own to this database (10 s to connect, TCP keep-alive on), named for the server's
         * activity view; {@code extra}: more JDBC properties.
         */
        public java.sql.Connection connect(String applicationName, java.util.Map<String, String> extra)
                throws java.sql.SQLException {
            java.util.Properties p = new java.util.Properties();
            if (user != null) {
                p.setProperty("user", user);
            }
            if (password != null) {
                p.setProperty("password", password);
            }
            p.setProperty("ApplicationName", applicationName);
            p.setProperty("connectTimeout", "10");
            p.setProperty("tcpKeepAlive", "true");
            extra.forEach(p::setProperty);
            return java.sql.DriverManager.getConnection(jdbcUrl(), p);
        }

        /** The same database with this password (the URL's own, if it has one, stays: it is the most specific). */
        public PostgresDatabase withPasswordIfNone(String fallback) {
            return password != null || fallback == null ? this
                    : new PostgresDatabase(host, port, database, user, fallback, options);
        }

        @Override
        public PreferenceStore open(int writeQueueCapacity) {
            return new PostgresPreferenceStore(this, writeQueueCapacity);
        }

        @Override
        public String toString() {
            return "postgresql://" + (user == null ? "" : user + "@") + (host.contains(":") ? "[" + host + "]" : host)
                    + ":" + port + "/" + database;
        }
    }

    /**
     * Reads a spec; null means the default file in dataDir. The password of a PostgreSQL URL without one comes from
     * the file {@code passwordFile} (its first line) if given, else from {@code pgPassword} (PGPASSWORD).
     */
    static StoreLocation parse(String spec, Path dataDir, Path passwordFile, String pgPassword) {
        StoreLocation at = parse(spec, dataDir);
        if (at instanceof PostgresDatabase pg) {
            return pg.withPasswordIfNone(passwordFile != null ? readPassword(passwordFile) : pgPassword);
        }
        return at;
    }

    /** Reads a spec without looking anywhere else for a password; null means the default file in dataDir. */
    static StoreLocation parse(String spec, Path dataDir) {
        if (spec == null) {
            return new SqliteFile(dataDir.resolve(DEFAULT_FILE));
        }
        if (spec.startsWith("sqlite:")) {
            String path = spec.substring("sqlite:".length());
            if (path.isBlank()) {
                throw new BadLocation("sqlite: needs a file, e.g. sqlite:data/pairwise.db");
            }
            return new SqliteFile(Path.of(path));
        }
        if (spec.startsWith("postgresql://") || spec.startsWith("postgres://")) {
            return postgres(spec);
        }
        throw new BadLocation("must be sqlite:PATH or postgresql://user:password@host:port/db");
    }

    private static PostgresDatabase postgres(String spec) {
        String form = "; the form is postgresql://user:password@host:port/db";
        URI uri;
        try {
            uri = new URI(spec);
        } catch (URISyntaxException e) {
            throw new BadLocation("not a valid PostgreSQL URL (characters such as @ : / in the password must "
                    + "be percent-encoded)" + form);
        }
        if (uri.getHost() == null) {
            throw new BadLocation("the PostgreSQL URL names no host" + form);
        }
        String path = uri.getRawPath();
        if (path == null || path.length() < 2 || path.indexOf('/', 1) >= 0) {
            throw new BadLocation("the PostgreSQL URL names no database" + form);
        }
        if (uri.getRawFragment() != null) {
            throw new BadLocation("the PostgreSQL URL has a #fragment" + form);
        }
        String user = null;
        String password = null;
        String info = uri.getRawUserInfo();
        if (info != null) {
            int colon = info.indexOf(':');
            user = decode(colon < 0 ? info : info.substring(0, colon));
            password = colon < 0 ? null : decode(info.substring(colon + 1));
        }
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1)
                : uri.getHost();
        return new PostgresDatabase(host, uri.getPort() < 0 ? PostgresDatabase.DEFAULT_PORT : uri.getPort(),
                decode(path.substring(1)), user, password, uri.getRawQuery());
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadLocation("a bad %-escape in the PostgreSQL URL");
        }
    }

    private static String readPassword(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int end = text.indexOf('\n');
            return (end < 0 ? text : text.substring(0, end)).strip();
        } catch (IOException e) {
            throw new BadLocation("cannot read " + file + " (" + e.getClass().getSimpleName()
                    + ")");
        }
    }
}
