package org.pairwise.server.store.pg;

import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.pairwise.server.store.PostgresPreferenceStore;
import org.pairwise.server.store.StoreLocation.PostgresDatabase;

/**
 * One throwaway PostgreSQL server per test JVM (started at first use, stopped and deleted by the harness's shutdown
 * hook), and a fresh database on it per caller: a copy of one the store migrated once (a copy is faster than
 * migrating). Tests that need PostgreSQL call {@link #freshDatabase}; it skips them where no PostgreSQL is installed.
 */
public final class SharedPostgres {
    /** The database the store migrated once; every fresh one is a copy. */
    private static final String TEMPLATE = "pairwise_template";
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresHarness server;

    private SharedPostgres() {}

    public static synchronized PostgresHarness server() throws Exception {
        PostgresHarness.assumeAvailable();
        if (server == null) {
            PostgresHarness pg = PostgresHarness.start();
            pg.createDatabase(TEMPLATE);
            new PostgresPreferenceStore(database(pg, TEMPLATE), 16).close();
            server = pg;
        }
        return server;
    }

    /** An empty, migrated database of its own, named {@code prefix} and a counter. */
    public static PostgresDatabase freshDatabase(String prefix) throws Exception {
        PostgresHarness pg = server();
        String name = prefix + DATABASES.incrementAndGet();
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name + " TEMPLATE " + TEMPLATE);
        }
        return database(pg, name);
    }

    public static PostgresDatabase database(PostgresHarness pg, String name) {
        return new PostgresDatabase("127.0.0.1", pg.port(), name, pg.user(), pg.password(), null);
    }

    /** The URL form the server's --store takes, with the password. */
    public static String url(PostgresDatabase db) {
        return "postgresql://" + db.user() + ":" + db.password() + "@" + db.host() + ":" + db.port() + "/"
                + db.database();
    }
}
