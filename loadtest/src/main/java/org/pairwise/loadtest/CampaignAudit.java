package org.pairwise.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.pairwise.loadtest.Audit.Check;
import org.pairwise.loadtest.Audit.Status;
import org.sqlite.SQLiteConfig;

/**
 * The campaign audit: reads the server's SQLite file itself (read-only), not the server's answers, and checks what a
 * preference campaign promises. Every pair has at most its k votes ({@code pairs.votes_wanted}) and nobody's live
 * vote twice; every acknowledged skip is stored; with {@code majority} or {@code soft} aggregation every pair whose
 * votes are all in has been decided, the decision is the one recomputed here from its live votes, a decided
 * direction gave exactly one training item (vote_id NULL) and a tie none; every item is trained (trained_at_version
 * set) and the newest checkpoint's queue_position covers them. The direction rule, from the issue: A or B wins
 * when it has more votes than the other and more than tie and both-bad together; otherwise the pair is not trained.
 */
public final class CampaignAudit {
    private static final long POLL_MS = 250;

    private final Path file;
    private final String aggregation;

    /** aggregation: the server's ({@code each}, {@code majority}, {@code soft}), as its trainer status says. */
    public CampaignAudit(Path file, String aggregation) {
        this.file = file;
        this.aggregation = aggregation;
    }

    /** What the store holds, read in one transaction. */
    record Snapshot(Map<String, PairRow> pairs, List<Item> items, List<VoteRow> votes, Set<String> skips,
                    Set<String> flagged, long queuePosition, boolean hasCheckpoint) {}

    record PairRow(String id, String kind, int votesWanted, boolean harmful, String outcome, int handedOut,
                   int leased) {}

    record VoteRow(String pairId, String annotator, String choice) {}

    record Item(long id, String pairId, Long voteId, String chosen, Long trainedAt) {}

    public record Result(List<Check> checks, Map<String, Object> figures) {}

    /**
     * Waits up to {@code limit} for the server to catch up with the run: every training item trained and, when votes
     * are aggregated, every pair whose votes are all in decided (undo windows and batch windows pass first).
     */
    public void awaitSettled(Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end && waiting() > 0) {
            Thread.sleep(POLL_MS);
        }
    }

    /** Items not trained yet plus, when votes are aggregated, pairs with all their votes in and no decision. */
    private long waiting() throws SQLException {
        String undecided = aggregation.equals("each") ? "0" : """
                (SELECT COUNT(*) FROM pairs p WHERE p.kind = 'policy' AND p.flagged_harmful = 0
                   AND p.aggregated_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM training_items t WHERE t.pair_id = p.pair_id)
                   AND EXISTS (SELECT 1 FROM preferences v WHERE v.pair_id = p.pair_id AND v.retracted_at IS NULL)
                   AND ((SELECT COUNT(*) FROM preferences v WHERE v.pair_id = p.pair_id AND v.retracted_at IS NULL)
                          >= p.votes_wanted
                        OR (SELECT COUNT(*) FROM assignments a WHERE a.pair_id = p.pair_id) >= p.votes_wanted
                           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.pair_id = p.pair_id
                                           AND a.state = 'leased')))""";
        try (Connection c = open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT (SELECT COUNT(*) FROM training_items WHERE trained_at_version IS NULL) + " + undecided)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The checks; {@code serverStopped}: its last checkpoint is written, so it must cover every trained item. */
    public Result verify(VoteLedger ledger, boolean serverStopped) throws Exception {
        Snapshot s = read();
        List<Check> checks = new ArrayList<>();
        Map<String, Object> figures = new LinkedHashMap<>();

        Map<String, List<VoteRow>> byPair = new HashMap<>();
        s.votes().forEach(v -> byPair.computeIfAbsent(v.pairId(), k -> new ArrayList<>()).add(v));
        Map<Integer, Long> histogram = new TreeMap<>();
        List<String> over = new ArrayList<>(), twice = new ArrayList<>();
        long atK = 0;
        for (Map.Entry<String, List<VoteRow>> e : byPair.entrySet()) {
            PairRow p = s.pairs().get(e.getKey());
            int n = e.getValue().size();
            histogram.merge(n, 1L, Long::sum);
            atK += p != null && n == p.votesWanted() ? 1 : 0;
            if (p == null || n > p.votesWanted()) {
                over.add(e.getKey() + ": " + n + " votes, k = " + (p == null ? "?" : p.votesWanted()));
            }
            Set<String> who = new HashSet<>();
            e.getValue().forEach(v -> {
                if (!who.add(v.annotator())) {
                    twice.add(v.annotator() + " on " + e.getKey());
                }
            });
        }
        figures.put("pairs_with_votes", (long) byPair.size());
        figures.put("pairs_by_votes", histogram);
        figures.put("pairs_with_k_votes", atK);
        checks.add(check("no pair has more than its k votes", over, byPair.size() + " pairs with live votes, by "
                + "votes: " + histogram + "; " + atK + " have their k"));
        checks.add(check("nobody voted twice on one pair (store)", twice, s.votes().size() + " live votes"));
        List<String> acked = ledger.twiceByOnePerson();
        checks.add(check("nobody's vote on one pair was acknowledged twice", acked, ledger.acknowledged()
                + " acknowledged votes"));

        List<String> missing = new ArrayList<>();
        for (VoteLedger.Skip k : ledger.skips()) {
            if (!s.skips().contains(skipKey(k.pairId(), k.annotator(), k.reason()))) {
                missing.add(k.annotator() + " on " + k.pairId() + " (" + k.reason() + ")");
            }
        }
        figures.put("skips", (long) ledger.skips().size());
        checks.add(check("every acknowledged skip is stored", missing, ledger.skips().size() + " skips"));

        checks.add(aggregation.equals("each") ? new Check("each decided pair is one training item", Status.SKIPPED,
                "aggregation each: every A/B vote is its own item") : decisions(s, byPair, figures));
        checks.add(trained(s, serverStopped, figures));
        return new Result(checks, figures);
    }

    /** Recomputes every decision from the live votes and compares it with the store's outcome and items. */
    private Check decisions(Snapshot s, Map<String, List<VoteRow>> byPair, Map<String, Object> figures) {
        Map<String, List<Item>> aggregated = new HashMap<>();
        Set<String> perVote = perVotePairs(s);
        for (Item i : s.items()) {
            if (i.voteId() == null) {
                aggregated.computeIfAbsent(i.pairId(), k -> new ArrayList<>()).add(i);
            }
        }
        List<String> wrong = new ArrayList<>();
        Map<String, Long> outcomes = new TreeMap<>();
        long leftOut = 0;
        for (PairRow p : s.pairs().values()) {
            List<VoteRow> votes = byPair.getOrDefault(p.id(), List.of());
            List<Item> items = aggregated.getOrDefault(p.id(), List.of());
            if (perVote.contains(p.id())) {
                if (!items.isEmpty()) {
                    wrong.add(p.id() + ": trained per vote and as a pair");
                }
                continue;  // trained vote by vote (a run under each): not a decision to judge
            }
            if (votes.stream().anyMatch(v -> s.flagged().contains(v.annotator()))) {
                leftOut++;  // a flagged annotator's votes may or may not count (exclude_flagged): not judged here
                continue;
            }
            if (p.outcome() == null || p.outcome().equals("per_vote")) {
                if (!items.isEmpty()) {
                    wrong.add(p.id() + ": " + items.size() + " items but no decision");
                }
                continue;
            }
            if (!p.kind().equals("policy") || p.harmful()) {
                wrong.add(p.id() + ": a " + (p.harmful() ? "harmful" : p.kind()) + " pair was decided");
                continue;
            }
            String expected = majority(votes);
            outcomes.merge(p.outcome(), 1L, Long::sum);
            boolean direction = expected.equals("a") || expected.equals("b");
            if (!p.outcome().equals(expected)) {
                wrong.add(p.id() + ": decided " + p.outcome() + ", its votes say " + expected);
            } else if (items.size() != (direction ? 1 : 0)) {
                wrong.add(p.id() + ": " + p.outcome() + " with " + items.size() + " training items");
            } else if (direction && !items.getFirst().chosen().equals(expected)) {
                wrong.add(p.id() + ": the item trains " + items.getFirst().chosen() + ", the majority is " + expected);
            }
        }
        undecided(s).forEach(id -> wrong.add(id + ": all its votes are in, but it is not decided"));
        long items = aggregated.values().stream().mapToLong(List::size).sum();
        figures.put("decided_pairs", outcomes);
        figures.put("aggregated_items", items);
        figures.put("pairs_trained_per_vote", (long) perVote.size());
        return check("each decided pair is one training item", wrong, outcomes + " decided; " + items
                + " aggregated items" + (perVote.isEmpty() ? "" : "; " + perVote.size() + " pairs trained per vote")
                + (leftOut > 0 ? "; " + leftOut + " pairs with a flagged annotator's votes not judged" : ""));
    }

    /** Every item trained, and the checkpoint's queue position: no untrained item below it, no trained one above. */
    private static Check trained(Snapshot s, boolean serverStopped, Map<String, Object> figures) {
        List<String> wrong = new ArrayList<>();
        long maxTrained = 0, beyond = 0, trainedCount = 0;
        for (Item i : s.items()) {
            if (i.trainedAt() == null) {
                wrong.add("item " + i.id() + (i.id() <= s.queuePosition() ? " is below the checkpoint's queue "
                        + "position but was never trained" : " (pair " + i.pairId() + ") was never trained"));
                continue;
            }
            trainedCount++;
            maxTrained = Math.max(maxTrained, i.id());
            beyond += i.id() > s.queuePosition() ? 1 : 0;
        }
        if (serverStopped && beyond > 0) {
            wrong.add(beyond + " trained items lie after the last checkpoint's queue_position " + s.queuePosition()
                    + ": a restart would train them again");
        }
        figures.put("training_items", (long) s.items().size());
        figures.put("trained_items", trainedCount);
        figures.put("queue_position", s.queuePosition());
        String where = !s.hasCheckpoint() ? "no checkpoint yet" : "checkpoint queue_position " + s.queuePosition()
                + (beyond > 0 ? ", " + beyond + " trained since (the server is still running)" : "");
        return check("every training item trained once, within the checkpointed queue position", wrong,
                trainedCount + " of " + s.items().size() + " items trained, the last " + maxTrained + "; " + where);
    }

    /** The decision a pair's live votes give (see the class comment): a, b, tie or no_preference. */
    static String majority(List<VoteRow> votes) {
        int a = 0, b = 0, other = 0;
        for (VoteRow v : votes) {
            switch (v.choice()) {
                case "a" -> a++;
                case "b" -> b++;
                default -> other++;
            }
        }
        int top = Math.max(a, b);
        return top <= other ? "no_preference" : a == b ? "tie" : a > b ? "a" : "b";
    }

    /** Pairs with an item of a single vote: trained vote by vote (each), never aggregated. */
    private static Set<String> perVotePairs(Snapshot s) {
        Set<String> out = new HashSet<>();
        s.items().stream().filter(i -> i.voteId() != null).forEach(i -> out.add(i.pairId()));
        return out;
    }

    /**
     * Policy pairs, not harmful, not trained per vote, with every vote in (k of them, or k hand-outs and no lease
     * open), not decided. {@link #waiting} counts the same in SQL.
     */
    private List<String> undecided(Snapshot s) {
        if (aggregation.equals("each")) {
            return List.of();
        }
        Map<String, Integer> live = new HashMap<>();
        s.votes().forEach(v -> live.merge(v.pairId(), 1, Integer::sum));
        Set<String> perVote = perVotePairs(s);
        List<String> out = new ArrayList<>();
        for (PairRow p : s.pairs().values()) {
            if (perVote.contains(p.id())) {
                continue;
            }
            int n = live.getOrDefault(p.id(), 0);
            boolean allIn = n >= p.votesWanted() || p.handedOut() >= p.votesWanted() && p.leased() == 0;
            if (n > 0 && allIn && p.outcome() == null && p.kind().equals("policy") && !p.harmful()) {
                out.add(p.id());
            }
        }
        return out;
    }

    private static Check check(String name, List<String> problems, String detail) {
        return problems.isEmpty() ? new Check(name, Status.PASS, detail)
                : new Check(name, Status.FAIL, problems.size() + " found, e.g. " + String.join("; ",
                problems.subList(0, Math.min(Audit.SHOWN, problems.size()))));
    }

    private static String skipKey(String pairId, String annotator, String reason) {
        return pairId + "\n" + annotator + "\n" + reason;
    }

    // ---- reading the file ----

    private Connection open() throws SQLException {
        SQLiteConfig ro = new SQLiteConfig();
        ro.setReadOnly(true);
        return DriverManager.getConnection("jdbc:sqlite:" + file, ro.toProperties());
    }

    Snapshot read() throws SQLException, IOException {
        try (Connection c = open(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);  // one read transaction: the tables agree with each other
            Map<String, PairRow> pairs = new HashMap<>();
            try (ResultSet rs = st.executeQuery("""
                    SELECT p.pair_id, p.kind, p.votes_wanted, p.flagged_harmful, p.aggregate_outcome,
                           COUNT(s.annotator), COALESCE(SUM(CASE WHEN s.state = 'leased' THEN 1 ELSE 0 END), 0)
                    FROM pairs p LEFT JOIN assignments s ON s.pair_id = p.pair_id GROUP BY p.pair_id""")) {
                while (rs.next()) {
                    pairs.put(rs.getString(1), new PairRow(rs.getString(1), rs.getString(2), rs.getInt(3),
                            rs.getInt(4) == 1, rs.getString(5), rs.getInt(6), rs.getInt(7)));
                }
            }
            List<VoteRow> votes = new ArrayList<>();
            try (ResultSet rs = st.executeQuery(
                    "SELECT pair_id, annotator, choice FROM preferences WHERE retracted_at IS NULL ORDER BY id")) {
                while (rs.next()) {
                    votes.add(new VoteRow(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
            List<Item> items = new ArrayList<>();
            try (ResultSet rs = st.executeQuery(
                    "SELECT id, pair_id, vote_id, chosen, trained_at_version FROM training_items ORDER BY id")) {
                while (rs.next()) {
                    items.add(new Item(rs.getLong(1), rs.getString(2), rs.getObject(3) == null ? null : rs.getLong(3),
                            rs.getString(4), rs.getObject(5) == null ? null : rs.getLong(5)));
                }
            }
            Set<String> skips = new HashSet<>();
            try (ResultSet rs = st.executeQuery("SELECT pair_id, annotator, reason FROM skips")) {
                while (rs.next()) {
                    skips.add(skipKey(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
            Set<String> flagged = new HashSet<>();
            try (ResultSet rs = st.executeQuery("SELECT annotator FROM annotator_flags WHERE flagged = 1")) {
                while (rs.next()) {
                    flagged.add(rs.getString(1));
                }
            }
            String checkpoint = null;
            try (ResultSet rs = st.executeQuery("SELECT path FROM trainer_checkpoints ORDER BY id DESC LIMIT 1")) {
                if (rs.next()) {
                    checkpoint = rs.getString(1);
                }
            }
            c.rollback();
            return new Snapshot(pairs, items, votes, skips, flagged, queuePosition(checkpoint), checkpoint != null);
        }
    }

    /** The trainer's queue position as its newest checkpoint directory records it (0 without one). */
    private long queuePosition(String checkpointDir) throws IOException {
        if (checkpointDir == null) {
            return 0;
        }
        Path dir = Path.of(checkpointDir);
        Path state = (dir.isAbsolute() ? dir : file.resolveSibling(checkpointDir)).resolve("trainer_state.json");
        if (!Files.isRegularFile(state)) {
            throw new IOException("the newest checkpoint row names " + checkpointDir + ", which holds no "
                    + "trainer_state.json");
        }
        JsonNode j = LoadReport.JSON.readTree(state.toFile());
        return j.path("queue_position").asLong(j.path("last_vote_id").asLong(0));
    }
}
