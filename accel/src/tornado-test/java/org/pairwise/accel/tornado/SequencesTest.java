package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The cache of compiled sequences: which go when, and that each is retired as it goes (plans built, never run). */
class SequencesTest {
    private static final TornadoBackend be = new TornadoBackend(1);
    private static final List<Fused> built = new ArrayList<>();

    @AfterAll
    static void close() {
        built.forEach(Fused::close);
        be.close();
    }

    /** A compiled one-call sequence of the same size every time. */
    private static Fused fused() {
        List<Op> ops = List.of(PointwiseCalls.scale(be.allocate(100), 2f, 100));
        Fused f = new Fused(ops, 1, new Binding(ops), null, new Transfers());
        built.add(f);
        return f;
    }

    @Test
    void pastTheByteCapTheLeastRecentlyUsedGoNeverTheOneInUse() {
        Fused a = fused(), b = fused(), c = fused();
        List<Fused> retired = new ArrayList<>();
        Sequences s = new Sequences(a.bytes * 5 / 2, () -> 0, retired::add);
        s.put(List.of("a"), a);
        s.put(List.of("b"), b);
        assertSame(a, s.get(List.of("a")), "a is now the most recently used");
        s.put(List.of("c"), c);
        assertEquals(List.of(b), retired);
        assertFalse(s.seen(List.of("b")));
        assertEquals(2 * a.bytes, s.bytes());
        assertEquals(2, s.compiled());
        Sequences tiny = new Sequences(1, () -> 0, retired::add);
        tiny.put(List.of("a"), a);
        assertSame(a, tiny.get(List.of("a")), "the one in use stays although it alone is over the cap");
    }

    @Test
    void pinnedBytesOfCompiledPairsCountAgainstTheCap() {
        Fused a = fused(), b = fused();
        List<Fused> retired = new ArrayList<>();
        Sequences s = new Sequences(a.bytes * 5 / 2, () -> a.bytes, retired::add);
        s.put(List.of("a"), a);
        s.put(List.of("b"), b);
        assertEquals(List.of(a), retired);
    }

    @Test
    void aForgottenKeyStaysSeenAndHandsBackItsPlan() {
        Fused a = fused();
        Sequences s = new Sequences(Long.MAX_VALUE, () -> 0, f -> {});
        s.markSeen(List.of("a"));
        assertTrue(s.seen(List.of("a")));
        assertNull(s.get(List.of("a")), "seen once: ran call by call");
        s.put(List.of("a"), a);
        assertSame(a, s.forget(List.of("a")));
        assertTrue(s.seen(List.of("a")));
        assertEquals(0, s.compiled());
    }
}
