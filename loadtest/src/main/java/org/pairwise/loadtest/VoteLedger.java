package org.pairwise.loadtest;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Every vote the server acknowledged during a run, by the id it answered with: what the audit then looks for in the
 * server's store. A/B votes keep a 64-bit hash of the TRL export line they must appear as (prompt, chosen,
 * rejected), so a million votes fit in memory without their text.
 */
public final class VoteLedger {

    /** One acknowledged vote. lineHash is 0 for tie and both_bad (they are not in the TRL export). */
    public record Ack(long id, String annotator, String idempotencyKey, String pairId, String choice, long lineHash) {}

    /** One acknowledged skip (201, or 200 for a repeat the server already had). */
    public record Skip(String annotator, String pairId, String reason) {}

    private final Map<Long, Ack> byId = new ConcurrentHashMap<>();
    private final Map<String, Skip> skips = new ConcurrentHashMap<>();
    private final LongAdder created = new LongAdder();
    private final LongAdder duplicateReplies = new LongAdder();
    private final LongAdder collisions = new LongAdder();

    /**
     * Records an acknowledgement: 201 ({@code created}) or 200 (a duplicate: the server already had this vote and
     * answered with the original's id). Two different votes answered with one id is a collision: one of them was not
     * stored as itself.
     */
    public void acknowledged(boolean wasCreated, Ack ack) {
        (wasCreated ? created : duplicateReplies).increment();
        Ack prior = byId.putIfAbsent(ack.id(), ack);
        if (prior != null && !prior.idempotencyKey().equals(ack.idempotencyKey())) {
            collisions.increment();
        }
    }

    /** Records an acknowledged skip; one person's skips of one pair are one skip. */
    public void skipped(Skip skip) {
        skips.putIfAbsent(skip.annotator() + "\n" + skip.pairId(), skip);
    }

    public Collection<Skip> skips() {
        return skips.values();
    }

    /**
     * Acknowledgements that put one person's vote on one pair twice (under two ids): "annotator on pair_id", each
     * once. The server must refuse a second vote by the same person on a pair; none should ever be acknowledged.
     */
    public List<String> twiceByOnePerson() {
        Map<String, Long> votes = new HashMap<>();
        byId.values().forEach(a -> votes.merge(a.annotator() + " on " + a.pairId(), 1L, Long::sum));
        return votes.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).sorted().toList();
    }

    /** The ledger's totals at one moment. */
    public record Counts(long acknowledged, long created, long duplicates) {}

    public Counts counts() {
        return new Counts(acknowledged(), created(), duplicateReplies());
    }

    public long acknowledged() {
        return byId.size();
    }

    public long created() {
        return created.sum();
    }

    public long duplicateReplies() {
        return duplicateReplies.sum();
    }

    /** Distinct votes that were acknowledged under an id another vote also got. */
    public long collisions() {
        return collisions.sum();
    }

    public Map<Long, Ack> acks() {
        return byId;
    }

    public Map<String, Long> countsByAnnotator() {
        Map<String, Long> m = new HashMap<>();
        byId.values().forEach(a -> m.merge(a.annotator(), 1L, Long::sum));
        return m;
    }

    public Map<String, Long> countsByChoice() {
        Map<String, Long> m = new HashMap<>();
        byId.values().forEach(a -> m.merge(a.choice(), 1L, Long::sum));
        return m;
    }

    /** Expected export lines: hash -> how many acknowledged votes must appear as that line. */
    public Map<Long, Long> expectedLines() {
        Map<Long, Long> m = new HashMap<>();
        byId.values().forEach(a -> {
            if (a.lineHash() != 0) {
                m.merge(a.lineHash(), 1L, Long::sum);
            }
        });
        return m;
    }

    /**
     * The hash of a TRL standard export line {prompt, chosen, rejected}: 64-bit FNV-1a over the UTF-8 of the three
     * strings with a separator that cannot occur in them. Never 0 (0 means "not an A/B vote").
     */
    public static long lineHash(String prompt, String chosen, String rejected) {
        long h = 0xcbf29ce484222325L;
        for (String s : new String[] {prompt, chosen, rejected}) {
            for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                h = (h ^ (b & 0xff)) * 0x100000001b3L;
            }
            h = (h ^ 0xff) * 0x100000001b3L;  // 0xff never occurs in UTF-8
        }
        return h == 0 ? 1 : h;
    }
}
