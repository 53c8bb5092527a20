package org.pairwise.server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.pairwise.server.store.PreferenceStore.PairRecord;

/** Pairs with recognisable contents, and a plain JDBC connection that bypasses the store to check what is on disk. */
final class Fixtures {
    private Fixtures() {}

    static final int[] PROMPT_IDS = {1, 15043, 29892};

    /** Side a's tokens start with 100 + n, side b's with 200 + n, so a swapped chosen/rejected shows. */
    static PairRecord pair(String pairId, long promptId, int n, int policyVersion) {
        return new PairRecord(pairId, promptId, "prompt " + n, PROMPT_IDS, "answer a" + n, new int[] {100 + n, 7},
                new float[] {-0.5f, -1.25f}, "stop", "answer b" + n, new int[] {200 + n, 8, 9},
                new float[] {-0.75f, -2f, -0.125f}, "length", n % 2 == 0, policyVersion, "{\"temperature\":0.8}", 0);
    }

    /** Adds one prompt and n pairs "p0".."p(n-1)" at policy version n % 3; returns the pair ids. */
    static List<String> addPairs(PreferenceStore store, int n) {
        long promptId = store.addPrompt("test", "the prompt", null).join();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            store.addPair(pair("p" + i, promptId, i, i % 3)).join();
            ids.add("p" + i);
        }
        return ids;
    }

    static Connection jdbc(Path file) throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    }

    static long count(Path file, String sql) throws SQLException {
        try (Connection c = jdbc(file); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
