package org.pairwise.server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.pairwise.server.store.pg.PostgresHarness;
import org.pairwise.server.store.pg.SharedPostgres;

/**
 * The two stores the contract tests run on. A test class is a {@code @ParameterizedClass} over this enum and asks
 * {@link #fresh} for an empty store location per test: a file in the test's temporary folder, or a database of its
 * own on one PostgreSQL server per test JVM (started at first use, stopped and deleted by the harness's shutdown
 * hook), so the PostgreSQL runs cost one initdb, not one per test.
 */
enum StoreKind {
    SQLITE,
    POSTGRES;

    /** An empty location for one test; on PostgreSQL, skips the test where no PostgreSQL is installed. */
    StoreUnderTest fresh(Path dir) throws Exception {
        if (this == SQLITE) {
            return new StoreUnderTest(this, new StoreLocation.SqliteFile(dir.resolve("p.db")), null);
        }
        return new StoreUnderTest(this, SharedPostgres.freshDatabase("t"), SharedPostgres.server());
    }

    static PostgresHarness server() throws Exception {
        return SharedPostgres.server();
    }

    /** A store's location, and a plain JDBC connection that bypasses the store to check what it wrote. */
    record StoreUnderTest(StoreKind kind, StoreLocation location, PostgresHarness pg) implements AutoCloseable {
        JdbcPreferenceStore open(int writeQueueCapacity) {
            return (JdbcPreferenceStore) location.open(writeQueueCapacity);
        }

        Connection jdbc() throws SQLException {
            return switch (location) {
                case StoreLocation.SqliteFile f -> DriverManager.getConnection("jdbc:sqlite:" + f.file());
                case StoreLocation.PostgresDatabase d -> pg.connect(d.database());
            };
        }

        long count(String sql) throws SQLException {
            try (Connection c = jdbc(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }

        /**
         * Holds the writer at its next statement from another connection, as a slow disk or another process would,
         * until the returned stall is closed: SQLite's write lock; PostgreSQL's table locks on what every write reads.
         */
        AutoCloseable stallWriter() throws SQLException {
            Connection c = jdbc();
            Statement st = c.createStatement();
            if (kind == SQLITE) {
                st.execute("BEGIN IMMEDIATE");
            } else {
                st.execute("BEGIN");
                st.execute("LOCK TABLE pairs, prompts IN ACCESS EXCLUSIVE MODE");
            }
            return () -> {
                st.execute("COMMIT");
                c.close();
            };
        }

        /** Drops a PostgreSQL test's database (its store is closed by now); the file goes with the test folder. */
        @Override
        public void close() throws SQLException {
            if (location instanceof StoreLocation.PostgresDatabase d) {
                try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                    st.execute("DROP DATABASE IF EXISTS " + d.database() + " WITH (FORCE)");
                }
            }
        }
    }
}
