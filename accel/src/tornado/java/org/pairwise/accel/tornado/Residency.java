package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each tensor's latest value is: on the host, or in slots of compiled sequences on the device. Tensors here are
 * whole buffers: a view's value is where its base's is, so an adapter's parameters, gradients and moments are four
 * entries, not one per matrix. A slot holds a range of its tensor ({@link Binding}); the rule that keeps that simple:
 * where a slot holds a tensor's latest value, the host holds the latest value of the rest of it.
 *
 * <p>After a run, what it wrote stays on the device ({@link #dirty}); it comes back only when the host asks, or when
 * another plan needs it as input (device buffers are not shared between plans in TornadoVM 5.2), or when the slot that
 * holds it is about to be reused for another tensor, or when its compiled sequence is retired.
 */
final class Residency {
    /** A slot of a compiled sequence, and the part that last used it there. */
    private record Held(Fused fused, int slot, int part) {
        boolean at(Fused f, int s) {
            return fused == f && slot == s;
        }
    }

    /** Tensors whose latest value is only on the device, and where. */
    private final Map<TornadoTensor, Held> dirty = new IdentityHashMap<>();
    /** Slots that hold a tensor's latest value (after a fetch the host holds it too); kept in step with Fused.owner. */
    private final Map<TornadoTensor, List<Held>> holders = new IdentityHashMap<>();

    /**
     * Runs one part of f over the tensors bound to its slots (null: a slot the part does not reach yet): values other
     * tensors left in the slots it starts using come back first, its inputs go into their slots (all of them when a
     * resident one is stale: the load graphs send every resident slot), and afterwards its slots hold what it used.
     */
    void run(Fused f, int part, List<Op> partOps, Binding b) {
        SlotLayout l = f.layout;
        Binding.Bound[] bind = new Binding.Bound[l.slots];
        for (int s = 0; s < l.slots; s++) {
            bind[s] = s < b.slots() ? b.bound(s) : null; // null: a slot of the part that runs later
            if (l.firstPart[s] == part && f.owner[s] != null && !f.owner[s].equals(bind[s])) {
                release(f, s);
            }
        }
        boolean load = false;
        for (int s = 0; s < l.slots; s++) {
            load |= part == 0 && l.resident(s) && !bind[s].equals(f.owner[s]);
        }
        for (int s = 0; s < l.slots; s++) {
            if (l.firstPart[s] != part) {
                continue;
            }
            TornadoTensor t = bind[s].t();
            if (l.input[s] && (load || !l.resident(s))) {
                sync(t);
                f.load(s, bind[s]);
            } else if (!l.input[s] && !b.whole(s) && !heldAt(t, f, s)) {
                // overwritten over the slot's range only: the rest of the tensor must be on the host first
                sync(t);
            }
        }
        f.execute(part, partOps, b, load);
        for (int s = 0; s < l.slots; s++) {
            if (!l.usedIn[part][s]) {
                continue;
            }
            TornadoTensor t = bind[s].t();
            Held h = new Held(f, s, part);
            if (l.writtenIn[part][s]) {
                invalidate(t);
                dirty.put(t, h);
                holders.put(t, new ArrayList<>(List.of(h)));
                f.owner[s] = bind[s];
            } else if (!bind[s].equals(f.owner[s])) {
                // an input only read: the slot now holds the tensor's value as well as the host does
                holders.computeIfAbsent(t, k -> new ArrayList<>()).add(h);
                f.owner[s] = bind[s];
            }
        }
    }

    /**
     * The input slots of f's first part that still hold the tensor bound to them, as the last run left them (written
     * back by the sequence, like parameters and moments, or only read and unchanged since, like the adapter during
     * scoring): what can stay on the device from run to run. Null where there are none.
     */
    static boolean[] stillHeld(Fused f, Binding b) {
        SlotLayout l = f.layout;
        boolean[] res = new boolean[l.slots];
        boolean any = false;
        for (int s = 0; s < l.slots; s++) {
            res[s] = l.firstPart[s] == 0 && l.input[s] && b.bound(s).equals(f.owner[s]);
            any |= res[s];
        }
        return any ? res : null;
    }

    /** Whether everything the second part of f takes from its first part is still in its slot. */
    static boolean carried(Fused f, Binding b) {
        SlotLayout l = f.layout;
        for (int s = 0; s < l.slots; s++) {
            if (l.firstPart[s] == 0 && l.usedIn[1][s] && !b.bound(s).equals(f.owner[s])) {
                return false;
            }
        }
        return true;
    }

    /** The host needs t's latest value: fetch it if only the device has it (the slot keeps holding it). */
    void sync(TornadoTensor t) {
        Held h = dirty.remove(t);
        if (h != null) {
            h.fused().fetch(h.slot(), h.part());
        }
    }

    /** Whether t's latest value is in slot s of f (and the rest of it on the host). */
    private boolean heldAt(TornadoTensor t, Fused f, int s) {
        Held h = dirty.get(t);
        return h != null && h.at(f, s);
    }

    /** t is about to be overwritten (by the host or a run): no slot holds its value any more. */
    void invalidate(TornadoTensor t) {
        dirty.remove(t);
        List<Held> hs = holders.remove(t);
        if (hs != null) {
            hs.forEach(h -> h.fused().owner[h.slot()] = null);
        }
    }

    /** Before a compiled sequence goes: what it still holds comes back to the host; then it is closed. */
    void retire(Fused f) {
        for (int s = 0; s < f.owner.length; s++) {
            if (f.owner[s] != null) {
                release(f, s);
            }
        }
        f.close();
    }

    /** Tensors this bookkeeping refers to (for a test that fresh tensors per step do not pile up). */
    int tracked() {
        return holders.size() + dirty.size();
    }

    /** Slot s of f stops holding its owner's value (fetched first if nowhere else has it). */
    private void release(Fused f, int s) {
        TornadoTensor o = f.owner[s].t();
        if (heldAt(o, f, s)) {
            sync(o);
        }
        List<Held> hs = holders.get(o);
        hs.removeIf(h -> h.at(f, s));
        if (hs.isEmpty()) {
            holders.remove(o); // a fresh tensor per step (an upload, a KV cache) must not stay reachable from here
        }
        f.owner[s] = null;
    }
}
