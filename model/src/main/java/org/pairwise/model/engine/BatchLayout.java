package org.pairwise.model.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;
import org.pairwise.model.engine.SequenceScorer.Sequence;

/**
 * Where a batch's positions live. The row-wise layers (projections, norms, MLP, RoPE, the fused lm head) see N rows;
 * attention, the KV cache and the attention probabilities see B sequences of T positions. Padded: row b*T+t is
 * position pos0+t of sequence b, one to one. Shared prompts: sequences whose prompts are equal (a DPO pair's chosen
 * and rejected) keep all but the prompt's last position in rows of their own, once; each sequence's attention view
 * gets a copy of those rows' queries, keys and values, and backward sums every copy's gradient back into them. The
 * prompt's last position stays in each sequence's own rows, since it predicts each completion's first token.
 * Letters: N rows, B sequences, T positions each, W floats a row.
 */
public final class BatchLayout {
    /**
     * Rows [row, row+length) are positions [pos, pos+length) of every sequence in seqs; the first of them is the copy
     * whose attention output the rows read (the others' outputs are the same numbers).
     */
    record Segment(int row, int length, int pos, int[] seqs) {}

    final int rows;
    final int sequences;
    final int length;
    final int pos0;
    final boolean shared;   // false: padded, rows are the attention view's own (B,T) positions
    final int copies;       // the most sequences one segment belongs to
    final int[] tokens;     // (N)
    final int[] positions;  // (N)
    final List<Segment> segments;
    private final int[][] rowOf; // per sequence, the row of each of its positions (relative to pos0)

    private BatchLayout(int sequences, int length, int pos0, boolean shared, List<Segment> segments, int[] tokens,
                        int[][] rowOf) {
        this.rows = tokens.length;
        this.sequences = sequences;
        this.length = length;
        this.pos0 = pos0;
        this.shared = shared;
        this.segments = List.copyOf(segments);
        this.tokens = tokens;
        this.rowOf = rowOf;
        this.positions = new int[rows];
        int most = 1;
        for (Segment s : segments) {
            most = Math.max(most, s.seqs.length);
            for (int i = 0; i < s.length; i++) {
                positions[s.row + i] = s.pos + i;
            }
        }
        this.copies = most;
    }

    /** tokens (B,T) at positions pos0..pos0+T-1 of each sequence, right-padded: row b*T+t is (b, t). */
    public static BatchLayout padded(int[] tokens, int B, int T, int pos0) {
        List<Segment> segs = new ArrayList<>(B);
        int[][] rowOf = new int[B][T];
        for (int b = 0; b < B; b++) {
            segs.add(new Segment(b * T, T, pos0, new int[] {b}));
            for (int t = 0; t < T; t++) {
                rowOf[b][t] = b * T + t;
            }
        }
        return new BatchLayout(B, T, pos0, false, segs, Arrays.copyOf(tokens, B * T), rowOf);
    }

    /**
     * The sequences (T = the longest) from position 0, their prompts shared where sharePrompts is set and two or
     * more sequences have the same prompt of at least two tokens; otherwise (or when none shares) padded.
     */
    public static BatchLayout of(List<Sequence> seqs, boolean sharePrompts) {
        int B = seqs.size(), T = 0, whole = 0;
        for (Sequence s : seqs) {
            T = Math.max(T, s.ids().length);
            whole += s.ids().length;
        }
        // Sequences grouped by their prompt but its last token: the rows they can share. members[b]: the group of
        // the sequence b that comes first in it, null for every other sequence.
        Map<Prefix, List<Integer>> groups = new HashMap<>();
        for (int b = 0; sharePrompts && b < B; b++) {
            Sequence s = seqs.get(b);
            if (s.promptLength() >= 2) {
                groups.computeIfAbsent(new Prefix(Arrays.copyOf(s.ids(), s.promptLength() - 1)),
                        k -> new ArrayList<>()).add(b);
            }
        }
        int[][] members = new int[B][];
        int[] sharedLength = new int[B];
        int saved = 0;
        for (Map.Entry<Prefix, List<Integer>> e : groups.entrySet()) {
            List<Integer> g = e.getValue();
            if (g.size() > 1) {
                members[g.getFirst()] = g.stream().mapToInt(Integer::intValue).toArray();
                g.forEach(m -> sharedLength[m] = e.getKey().ids.length);
                saved += (g.size() - 1) * e.getKey().ids.length;
            }
        }
        if (saved == 0) {
            int[] tokens = new int[B * T];
            for (int b = 0; b < B; b++) {
                System.arraycopy(seqs.get(b).ids(), 0, tokens, b * T, seqs.get(b).ids().length);
            }
            return padded(tokens, B, T, 0);
        }
        List<Segment> segs = new ArrayList<>();
        int[][] rowOf = new int[B][];
        int[] tokens = new int[whole - saved];
        int row = 0;
        for (int b = 0; b < B; b++) {
            int[] ids = seqs.get(b).ids();
            int own = sharedLength[b];
            if (rowOf[b] == null) {
                rowOf[b] = new int[ids.length];
            }
            if (members[b] != null) {
                segs.add(new Segment(row, own, 0, members[b]));
                System.arraycopy(ids, 0, tokens, row, own);
                for (int m : members[b]) {
                    rowOf[m] = new int[seqs.get(m).ids().length];
                    for (int t = 0; t < own; t++) {
                        rowOf[m][t] = row + t;
                    }
                }
                row += own;
            }
            segs.add(new Segment(row, ids.length - own, own, new int[] {b}));
            System.arraycopy(ids, own, tokens, row, ids.length - own);
            for (int t = own; t < ids.length; t++) {
                rowOf[b][t] = row + t - own;
            }
            row += ids.length - own;
        }
        return new BatchLayout(B, T, 0, true, segs, tokens, rowOf);
    }

    private record Prefix(int[] ids) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Prefix p && Arrays.equals(p.ids, ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }
    }

    /** N, the rows the row-wise layers compute. */
    public int rows() {
        return rows;
    }

    /** B, the sequences of the attention view. */
    public int sequences() {
        return sequences;
    }

    /** T, the positions of each sequence in the attention view. */
    public int length() {
        return length;
    }

    /** Whether some sequences share rows (false: padded, N = B*T). */
    public boolean shared() {
        return shared;
    }

    /** The token of every row (N). */
    public int[] tokens() {
        return tokens.clone();
    }

    /** The row that holds position pos0+t of sequence b (t below that sequence's length; padded: below T). */
    public int row(int b, int t) {
        return rowOf[b][t];
    }

    // view (B,stride,W) <- rows (N,W): each segment into its first sequence only, or into every one of them. A
    // segment's position p lands at view row b*stride + p (the cache's absolute positions; attention's own view of
    // a shared layout starts at 0 too).
    void scatter(Backend be, Tensor view, int stride, Tensor rowsIn, int W, boolean everyCopy) {
        for (Segment s : segments) {
            for (int c = 0; c < (everyCopy ? s.seqs.length : 1); c++) {
                be.copy(view, ((long) s.seqs[c] * stride + s.pos) * W, rowsIn, (long) s.row * W, (long) s.length * W);
            }
        }
    }

    // rows (N,W) <- view (B,T,W) from each segment's first copy
    void gather(Backend be, Tensor rowsOut, Tensor view, int W) {
        gatherCopy(be, rowsOut, view, W, 0);
    }

    // rows (N,W) = the sum over every segment's copies in view (B,T,W); scratch (N,W) is overwritten
    void gatherSum(Backend be, Tensor rowsOut, Tensor view, Tensor scratch, int W) {
        gatherCopy(be, rowsOut, view, W, 0);
        for (int c = 1; c < copies; c++) {
            be.zero(scratch);
            gatherCopy(be, scratch, view, W, c);
            be.add(rowsOut, scratch, (long) rows * W);
        }
    }

    private void gatherCopy(Backend be, Tensor rowsOut, Tensor view, int W, int c) {
        for (Segment s : segments) {
            if (c < s.seqs.length) {
                be.copy(rowsOut, (long) s.row * W, view, ((long) s.seqs[c] * length + s.pos) * W, (long) s.length * W);
            }
        }
    }
}
