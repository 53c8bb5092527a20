package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each tensor's latest value is, and when recorded calls run.
 *
 * <p>Kernel calls are recorded ({@link #record}) and run when the host needs a tensor they touch (a download, an
 * upload over part of it, a sum of squares of a tensor being computed, {@link TornadoBackend#transfers}). A recorded
 * sequence seen for the first time runs call by call, each call as its own one-call {@link Fused} (compiled once per
 * kernel, shape and frozen weight); from its second appearance the whole sequence runs as one {@link Fused}, so its
 * intermediates never leave the device. Keys name tensors by order of first use and size, not by identity, so a
 * sequence over fresh tensors of the same shapes (a new KV cache, an uploaded dlogp) is the same sequence.
 *
 * <p>After a run, what it wrote stays on the device ({@link #dirty}); it comes back only when the host asks, or when
 * another plan needs it as input (device buffers are not shared between plans in TornadoVM 5.2), or when the slot that
 * holds it is about to be reused for another tensor. Two things keep even that traffic off the bus in a training loop:
 * <ul>
 *   <li>A sequence is rebuilt, on its third appearance, with resident inputs (see {@link Fused#resident}): parameters
 *       and moments it writes back, or tensors it only reads, go down again only if something else wrote them.</li>
 *   <li>Two sequences that keep following each other with host work between them (a step's forward, the loss on the
 *       host, its backward) are compiled into one plan of two parts ({@link #learn}), so that what the backward reads
 *       from the forward, and what the next step's optimizer reads from the backward, stays on the device.</li>
 * </ul>
 */
final class Residency implements AutoCloseable {
    /** Compiled sequences kept (each holds compiled kernels and device buffers); least recently used go first. */
    static final int SEQUENCES = 256;
    /**
     * Device bytes the compiled sequences may hold together before the least recently used go (each holds its own
     * copy of the frozen weights it reads: a model's forward and backward are two copies). The one in use always
     * stays, and so do compiled pairs (a training step's two halves). Default 4 GiB.
     */
    static final long MAX_BYTES = Long.getLong("pairwise.tornado.compiledBytes", 4L << 30);

    /** Where a tensor's latest value is: a slot of a compiled sequence, on the device. */
    private record Held(Fused fused, int slot, int part) {
        boolean at(Fused f, int s) {
            return fused == f && slot == s;
        }
    }

    /** An array named by identity (a frozen weight or a rope table): its contents never change. */
    private record Ref(Object o) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Ref r && r.o == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(o);
        }
    }

    private final Transfers transfers;
    private final long maxBytes;
    private List<Op> pending = new ArrayList<>();
    private final Set<TornadoTensor> pendingTensors = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Tensors whose latest value is only on the device, and where. */
    private final Map<TornadoTensor, Held> dirty = new IdentityHashMap<>();
    /** Slots that hold a tensor's latest value (after a fetch the host holds it too); kept in step with Fused.owner. */
    private final Map<TornadoTensor, List<Held>> holders = new IdentityHashMap<>();
    /** Sequence key to its compiled form; null: seen once (ran call by call). */
    private final Map<List<Object>, Fused> sequences = new LinkedHashMap<>(16, 0.75f, true);

    /** A pair of sequences compiled as the two parts of one Fused; built from ops (split after the first part). */
    private static final class Trace {
        Fused fused;
        final List<Object> key;
        final List<Op> ops;
        final Map<TornadoTensor, Integer> slotOf;
        final int split;
        /** The calls of the first part as last run (the second part's key is checked against them). */
        List<Op> firstOps;

        Trace(Fused fused, List<Object> key, List<Op> ops, Map<TornadoTensor, Integer> slotOf, int split) {
            this.fused = fused;
            this.key = key;
            this.ops = ops;
            this.slotOf = slotOf;
            this.split = split;
        }
    }

    /** Compiled pairs, by the key of their first part; the keys already in a pair; pairs seen once. */
    private final Map<List<Object>, Trace> traces = new HashMap<>();
    private final Set<List<Object>> paired = new HashSet<>();
    private final Set<List<Object>> pairs = new HashSet<>();
    /** The pair whose first part ran last (its second part may come next), and the last sequence run alone. */
    private Trace awaiting;
    private List<Op> last;
    private List<Object> lastKey;

    Residency(Transfers transfers, long maxBytes) {
        this.transfers = transfers;
        this.maxBytes = maxBytes;
    }

    void record(Op op) {
        pending.add(op);
        for (Op.Access a : op.accesses) {
            pendingTensors.add(a.t());
        }
    }

    /** Whether a recorded call not yet run uses t. */
    boolean pending(TornadoTensor t) {
        return pendingTensors.contains(t);
    }

    /** Before the host reads t: run what is recorded against it and bring its value back. */
    void hostReads(TornadoTensor t) {
        if (pendingTensors.contains(t)) {
            flush();
        }
        sync(t);
    }

    /** Before the host writes t: as for a read, except that a whole overwrite needs no old value. */
    void hostWrites(TornadoTensor t, boolean whole) {
        if (pendingTensors.contains(t)) {
            flush();
        }
        if (!whole) {
            sync(t);
        }
        invalidate(t);
    }

    /** Runs everything recorded. */
    void flush() {
        if (pending.isEmpty()) {
            return;
        }
        List<Op> ops = pending;
        pending = new ArrayList<>();
        pendingTensors.clear();
        Map<TornadoTensor, Integer> slotOf = new IdentityHashMap<>();
        List<Object> key = key(ops, slotOf);
        Trace t = awaiting;
        awaiting = null;
        if (t != null) {
            // the second part of a pair compiled together: what it takes from the first part must still be there
            List<Op> all = concat(t.firstOps, ops);
            Map<TornadoTensor, Integer> allSlots = new IdentityHashMap<>();
            if (key(all, allSlots).equals(t.key) && carried(t.fused, bind(allSlots))) {
                execute(t.fused, 1, ops, bind(allSlots));
                last = null;
                return;
            }
        }
        t = traces.get(key);
        if (t != null) {
            t.fused = resident(t.fused, bind(slotOf), t.ops, t.split, t.slotOf);
            execute(t.fused, 0, ops, bind(slotOf));
            t.firstOps = ops;
            awaiting = t;
            last = null;
            return;
        }
        if (ops.size() > 1 && !sequences.containsKey(key)) {
            // A one-off sequence is not worth compiling as a whole: run it call by call, fuse it if it comes back.
            sequences.put(key, null);
            trim(key);
            for (Op op : ops) {
                Map<TornadoTensor, Integer> one = new IdentityHashMap<>();
                run(List.of(op), key(List.of(op), one), one);
            }
        } else {
            run(ops, key, slotOf);
        }
        learn(ops, key);
    }

    /** Brings every value back to the host and closes every compiled sequence. */
    @Override
    public void close() {
        flush();
        for (Fused f : new ArrayList<>(sequences.values())) {
            if (f != null) {
                retire(f);
            }
        }
        sequences.clear();
        traces.values().forEach(t -> retire(t.fused));
        traces.clear();
    }

    /** Retires least recently used sequences, never the one in use, until both caps hold. */
    private void trim(List<Object> inUse) {
        List<Map.Entry<List<Object>, Fused>> victims = new ArrayList<>();
        long bytes = compiledBytes();
        int n = sequences.size();
        for (Map.Entry<List<Object>, Fused> e : sequences.entrySet()) {
            if (n <= SEQUENCES && bytes <= maxBytes) {
                break;
            }
            if (!e.getKey().equals(inUse)) {
                victims.add(e);
                n--;
                bytes -= e.getValue() == null ? 0 : e.getValue().bytes;
            }
        }
        for (Map.Entry<List<Object>, Fused> e : victims) {
            sequences.remove(e.getKey());
            if (e.getValue() != null) {
                retire(e.getValue());
            }
        }
    }

    /** Tensors this residency keeps track of (for a test that fresh tensors per step do not pile up). */
    int tracked() {
        return holders.size() + dirty.size();
    }

    /** Device bytes the compiled sequences hold together. */
    long compiledBytes() {
        long b = 0;
        for (Fused f : sequences.values()) {
            b += f == null ? 0 : f.bytes;
        }
        for (Trace t : traces.values()) {
            b += t.fused.bytes;
        }
        return b;
    }

    /** Number of compiled sequences held. */
    int compiled() {
        return (int) sequences.values().stream().filter(f -> f != null).count() + traces.size();
    }

    /**
     * A pair of sequences that follow each other twice (the forward and the backward of a step, with the host's loss
     * between them) is compiled into one plan of two parts (see {@link Fused#split}), so what the second takes from
     * the first never leaves the device. Each sequence joins at most one pair.
     */
    private void learn(List<Op> ops, List<Object> key) {
        if (ops.size() > 1 && last != null && !lastKey.equals(key) && !paired.contains(lastKey)
                && !paired.contains(key)) {
            if (pairs.size() > 64) {
                pairs.clear(); // pairs seen once are only candidates: keep a few
            }
            List<Op> all = concat(last, ops);
            Map<TornadoTensor, Integer> allSlots = new IdentityHashMap<>();
            List<Object> k = key(all, allSlots);
            // Seen twice, the two alternate. Start the pair with the one that reads first what the pair writes (the
            // optimizer step before the forward, not the backward): only the first part's inputs can stay on the
            // device from one run to the next. If that is the other order, wait for it (it comes next), so that the
            // pair is built from two calls sequences that ran one after the other.
            if (!pairs.add(k) && stuck(all, last.size()) <= stuck(concat(ops, last), ops.size())) {
                traces.put(lastKey, new Trace(new Fused(all, last.size(), allSlots, null, transfers), k, all, allSlots,
                        last.size()));
                paired.add(lastKey);
                paired.add(key);
                pairs.clear();
                // their plans of their own are no longer run (kept as seen, rebuilt if the pair ever breaks up)
                for (List<Object> k2 : List.of(lastKey, key)) {
                    Fused alone = sequences.put(k2, null);
                    if (alone != null) {
                        retire(alone);
                    }
                }
            }
        }
        last = ops.size() > 1 ? ops : null;
        lastKey = key;
    }

    private void run(List<Op> ops, List<Object> key, Map<TornadoTensor, Integer> slotOf) {
        Fused f = sequences.get(key);
        if (f == null) {
            f = new Fused(ops, ops.size(), slotOf, null, transfers);
            sequences.put(key, f);
            trim(key);
        } else if (ops.size() > 1) {
            Fused r = resident(f, bind(slotOf), ops, ops.size(), slotOf);
            if (r != f) {
                sequences.put(key, f = r);
                trim(key);
            }
        }
        execute(f, 0, ops, bind(slotOf));
    }

    /**
     * f, or f rebuilt with resident inputs: those of its first part still in the slot the last run left them in
     * (written back by the sequence, like parameters and moments, or only read and unchanged since, like the adapter
     * during scoring). Rebuilt once; ops, split and slotOf are what f was built from.
     */
    private Fused resident(Fused f, TornadoTensor[] bind, List<Op> ops, int split, Map<TornadoTensor, Integer> slotOf) {
        if (f.resident != null) {
            return f;
        }
        boolean[] res = new boolean[f.slots.length];
        boolean any = false;
        for (int s = 0; s < res.length; s++) {
            res[s] = f.firstPart[s] == 0 && f.input[s] && f.owner[s] != null && f.owner[s] == bind[s];
            any |= res[s];
        }
        if (!any) {
            return f;
        }
        retire(f);
        return new Fused(ops, split, slotOf, res, transfers);
    }

    /** Runs one part of f over the tensors bound to its slots (null: a slot the part does not reach yet). */
    private void execute(Fused f, int part, List<Op> partOps, TornadoTensor[] bind) {
        int n = f.slots.length;
        for (int s = 0; s < n; s++) {
            // a value another tensor left in a slot this part starts using comes back before the slot is reused
            TornadoTensor o = f.owner[s];
            if (f.firstPart[s] == part && o != null && o != bind[s]) {
                release(f, s, o);
            }
        }
        boolean load = false;
        for (int s = 0; s < n; s++) {
            load |= part == 0 && f.resident != null && f.resident[s] && f.owner[s] != bind[s];
        }
        for (int s = 0; s < n; s++) {
            if (f.firstPart[s] == part && f.input[s] && (load || f.resident == null || !f.resident[s])) {
                sync(bind[s]);
                f.load(s, bind[s]);
            }
        }
        f.execute(part, partOps, load);
        for (int s = 0; s < n; s++) {
            if (!f.usedIn[part][s]) {
                continue;
            }
            Held h = new Held(f, s, part);
            if (f.writtenIn[part][s]) {
                invalidate(bind[s]);
                dirty.put(bind[s], h);
                holders.put(bind[s], new ArrayList<>(List.of(h)));
                f.owner[s] = bind[s];
            } else if (f.owner[s] != bind[s]) {
                // an input only read: the slot now holds the tensor's value as well as the host does
                holders.computeIfAbsent(bind[s], t -> new ArrayList<>()).add(h);
                f.owner[s] = bind[s];
            }
        }
    }

    /** Whether everything the second part of f takes from its first part is still in its slot. */
    private static boolean carried(Fused f, TornadoTensor[] bind) {
        for (int s = 0; s < f.slots.length; s++) {
            if (f.firstPart[s] == 0 && f.usedIn[1][s] && f.owner[s] != bind[s]) {
                return false;
            }
        }
        return true;
    }

    /** How many tensors the second part (from op split) reads first although the pair writes them. */
    private static int stuck(List<Op> ops, int split) {
        Set<TornadoTensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<TornadoTensor> written = Collections.newSetFromMap(new IdentityHashMap<>());
        List<TornadoTensor> secondInputs = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            for (Op.Access a : op.accesses) {
                if (seen.add(a.t()) && i >= split && !Fused.wholeWriteOnly(op, a.t())) {
                    secondInputs.add(a.t());
                }
                if (a.write()) {
                    written.add(a.t());
                }
            }
        }
        return (int) secondInputs.stream().filter(written::contains).count();
    }

    private static TornadoTensor[] bind(Map<TornadoTensor, Integer> slotOf) {
        TornadoTensor[] bind = new TornadoTensor[slotOf.size()];
        slotOf.forEach((t, s) -> bind[s] = t);
        return bind;
    }

    private static List<Op> concat(List<Op> a, List<Op> b) {
        List<Op> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** The host needs t's latest value: fetch it if only the device has it (the slot keeps holding it). */
    private void sync(TornadoTensor t) {
        Held h = dirty.remove(t);
        if (h != null) {
            h.fused().fetch(h.slot(), h.part(), t);
        }
    }

    /** t is about to be overwritten (by the host or a run): no slot holds its value any more. */
    private void invalidate(TornadoTensor t) {
        dirty.remove(t);
        List<Held> hs = holders.remove(t);
        if (hs != null) {
            hs.forEach(h -> h.fused().owner[h.slot()] = null);
        }
    }

    /** Before a compiled sequence goes: what it still holds comes back to the host. */
    private void retire(Fused f) {
        if (awaiting != null && awaiting.fused == f) {
            awaiting = null;
        }
        for (int s = 0; s < f.owner.length; s++) {
            if (f.owner[s] != null) {
                release(f, s, f.owner[s]);
            }
        }
        f.close();
    }

    /** Slot s of f stops holding o's value (fetched first if nowhere else has it). */
    private void release(Fused f, int s, TornadoTensor o) {
        Held d = dirty.get(o);
        if (d != null && d.at(f, s)) {
            sync(o);
        }
        List<Held> hs = holders.get(o);
        hs.removeIf(h -> h.at(f, s));
        if (hs.isEmpty()) {
            holders.remove(o); // a fresh tensor per step (an upload, a KV cache) must not stay reachable from here
        }
        f.owner[s] = null;
    }

    /**
     * A sequence's key: per call, its shape, then each tensor as (slot, size, how it is used), frozen arrays by
     * identity, and the lengths of its per-call values. Fills slotOf (tensor to slot, in order of first use).
     */
    static List<Object> key(List<Op> ops, Map<TornadoTensor, Integer> slotOf) {
        List<Object> key = new ArrayList<>(ops.size());
        for (Op op : ops) {
            List<Object> k = new ArrayList<>(op.shape);
            for (Op.Access a : op.accesses) {
                Integer s = slotOf.get(a.t());
                if (s == null) {
                    s = slotOf.size();
                    slotOf.put(a.t(), s);
                }
                k.add(s);
                k.add(a.t().size());
                k.add((a.read() ? 1 : 0) + (a.write() ? 2 : 0) + (a.whole() ? 4 : 0));
            }
            for (Object c : op.constants) {
                k.add(new Ref(c));
            }
            k.add(op.ints == null ? -1 : op.ints.length);
            k.add(op.floats == null ? -1 : op.floats.length);
            key.add(k);
        }
        return key;
    }
}
