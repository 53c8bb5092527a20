package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.NamedVote;

/** The reads behind the annotation-quality statistics, on a reader thread's read-only connection. */
final class QualityQueries {
    private QualityQueries() {}

    /**
     * Which rows of {@code preferences} count as votes for quality: every vote of a named annotator. This is the one
     * place to narrow it (a withdrawn vote, once votes can be withdrawn: {@code AND v.retracted_at IS NULL}); every
     * quality query filters with it.
     */
    static final String COUNTED_VOTES = "v.annotator IS NOT NULL AND v.retracted_at IS NULL";

    /** One pass over the table, in no particular order (a sort would cost more than the read): a few MB per 100k. */
    static List<NamedVote> namedVotes(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT v.pair_id, v.annotator, v.choice, v.created_at"
                + " FROM preferences v WHERE " + COUNTED_VOTES)) {
            ps.setFetchSize(4096);
            List<NamedVote> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new NamedVote(rs.getString(1), rs.getString(2), Choice.fromWire(rs.getString(3)),
                            rs.getLong(4)));
                }
            }
            return out;
        }
    }
}
