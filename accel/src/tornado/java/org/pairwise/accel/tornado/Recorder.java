package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Kernel calls recorded, and when and how they run.
 *
 * <p>Calls are recorded ({@link #record}) and run when the host needs a tensor they touch (a download, an upload over
 * part of it, a sum of squares of a tensor being computed, {@link TornadoBackend#transfers}). A recorded sequence seen
 * for the first time runs call by call, each call as its own one-call {@link Fused} (compiled once per kernel, shape
 * and frozen weight); from its second appearance the whole sequence runs as one {@link Fused} ({@link Sequences}), so
 * its intermediates never leave the device ({@link Residency}). Two things keep even the remaining traffic off the bus
 * in a training loop:
 * <ul>
 *   <li>A sequence is rebuilt, on its third appearance, with resident inputs (see {@link Fused#resident}): parameters
 *       and moments it writes back, or tensors it only reads, go down again only if something else wrote them.</li>
 *   <li>Two sequences that keep following each other with host work between them are compiled into one plan of two
 *       parts ({@link Pairing}).</li>
 * </ul>
 */
final class Recorder implements AutoCloseable {
    private final Transfers transfers;
    private final Residency residency = new Residency();
    private final Pairing pairing;
    private final Sequences sequences;
    private List<Op> pending = new ArrayList<>();
    private final Set<TornadoTensor> pendingTensors = Collections.newSetFromMap(new IdentityHashMap<>());

    /** maxBytes caps the device memory the compiled sequences hold together (see {@link Sequences#MAX_BYTES}). */
    Recorder(Transfers transfers, long maxBytes) {
        this.transfers = transfers;
        this.pairing = new Pairing(transfers);
        this.sequences = new Sequences(maxBytes, pairing::bytes, residency::retire);
    }

    void record(Op op) {
        pending.add(op);
        for (Op.Access a : op.accesses) {
            pendingTensors.add(a.t());
        }
    }

    /** Whether a recorded call not yet run uses t (a whole tensor or a view's base). */
    boolean pending(TornadoTensor t) {
        return pendingTensors.contains(t);
    }

    /** Before the host reads t: run what is recorded against it and bring its value back. */
    void hostReads(TornadoTensor t) {
        if (pendingTensors.contains(t)) {
            flush();
        }
        residency.sync(t);
    }

    /** Before the host writes t: as for a read, except that a whole overwrite needs no old value. */
    void hostWrites(TornadoTensor t, boolean whole) {
        if (pendingTensors.contains(t)) {
            flush();
        }
        if (!whole) {
            residency.sync(t);
        }
        residency.invalidate(t);
    }

    /** Runs everything recorded. */
    void flush() {
        if (pending.isEmpty()) {
            return;
        }
        List<Op> ops = pending;
        pending = new ArrayList<>();
        pendingTensors.clear();
        Binding b = new Binding(ops);
        List<Object> key = SequenceKey.of(ops, b);
        Pairing.Pair p = pairing.takeAwaiting();
        if (p != null) {
            // the second part of a pair compiled together: what it takes from the first part must still be there
            List<Op> all = Pairing.concat(p.firstOps, ops);
            Binding ab = new Binding(all);
            if (SequenceKey.of(all, ab).equals(p.key) && Residency.carried(p.fused, ab)) {
                residency.run(p.fused, 1, ops, ab);
                pairing.ranSecondPart();
                return;
            }
        }
        p = pairing.startingWith(key);
        if (p != null) {
            p.fused = resident(p.fused, b, p.ops, p.split, p.binding);
            residency.run(p.fused, 0, ops, b);
            pairing.ranFirstPart(p, ops);
            return;
        }
        if (ops.size() > 1 && !sequences.seen(key)) {
            // A one-off sequence is not worth compiling as a whole: run it call by call, fuse it if it comes back.
            sequences.markSeen(key);
            for (Op op : ops) {
                Binding one = new Binding(List.of(op));
                runAlone(List.of(op), SequenceKey.of(List.of(op), one), one);
            }
        } else {
            runAlone(ops, key, b);
        }
        for (List<Object> k : pairing.learn(ops, key)) {
            // the pair's plan replaces their plans of their own (kept as seen, rebuilt if the pair ever breaks up)
            Fused alone = sequences.forget(k);
            if (alone != null) {
                residency.retire(alone);
            }
        }
    }

    /** Brings every value back to the host and closes every compiled sequence. */
    @Override
    public void close() {
        flush();
        sequences.clear();
        pairing.all().forEach(p -> residency.retire(p.fused));
        pairing.clear();
    }

    /** Compiled sequences (execution plans) held. */
    int compiled() {
        return sequences.compiled() + pairing.all().size();
    }

    /** Device bytes the compiled sequences hold together. */
    long compiledBytes() {
        return sequences.bytes() + pairing.bytes();
    }

    /** Tensors the residency bookkeeping refers to. */
    int tracked() {
        return residency.tracked();
    }

    private void runAlone(List<Op> ops, List<Object> key, Binding b) {
        Fused f = sequences.get(key);
        if (f == null) {
            f = new Fused(ops, ops.size(), b, null, transfers);
            sequences.put(key, f);
        } else if (ops.size() > 1) {
            Fused r = resident(f, b, ops, ops.size(), b);
            if (r != f) {
                sequences.put(key, f = r);
            }
        }
        residency.run(f, 0, ops, b);
    }

    /**
     * f, or f rebuilt once with the inputs that still sit in its slots (for this run's binding b) resident; ops, split
     * and built (their binding) are what f is rebuilt from.
     */
    private Fused resident(Fused f, Binding b, List<Op> ops, int split, Binding built) {
        if (f.resident != null) {
            return f;
        }
        boolean[] res = Residency.stillHeld(f, b);
        if (res == null) {
            return f;
        }
        residency.retire(f);
        return new Fused(ops, split, built, res, transfers);
    }
}
