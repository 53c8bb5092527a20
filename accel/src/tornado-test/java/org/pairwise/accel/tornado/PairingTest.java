package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;

/**
 * Which two sequences become a compiled pair, and in which order (a plan is built for the pair, never run): the
 * optimizer step with the forward [AdamW, matmul through p] and the backward [dW into g] alternate with host work
 * between them.
 */
class PairingTest {
    private static final TornadoBackend be = new TornadoBackend(1);
    private static final int N = 2, C = 4, OC = 3;
    private final Tensor p = be.allocate(OC * C), g = be.allocate(OC * C), m = be.allocate(OC * C),
            v = be.allocate(OC * C), x = be.allocate(N * C), out = be.allocate(N * OC), dout = be.allocate(N * OC);
    private final Weight w = be.weightOf(p, OC, C);

    @AfterAll
    static void close() {
        be.close();
    }

    private List<Op> optimizerAndForward() {
        return List.of(PointwiseCalls.adamw(p, g, m, v, OC * C, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                LinearCalls.matmulForward(out, x, w, null, N, C, OC));
    }

    private List<Op> backward() {
        return List.of(LinearCalls.matmulBackwardWeight(g, dout, x, N, C, OC), PointwiseCalls.scale(g, 0.5f, OC * C));
    }

    private static List<Object> key(List<Op> ops) {
        return SequenceKey.of(ops, new Binding(ops));
    }

    /** Runs the sequences through learn in turn; returns the keys of the pair formed, and at which turn. */
    private static Object[] learnInTurn(Pairing pairing, List<List<Op>> turns) {
        for (int i = 0; i < turns.size(); i++) {
            List<List<Object>> joined = pairing.learn(turns.get(i), key(turns.get(i)));
            if (!joined.isEmpty()) {
                return new Object[] {joined, i};
            }
        }
        return new Object[] {List.of(), -1};
    }

    @Test
    void theOptimizerSequenceStartsThePairWhicheverCameFirst() {
        List<Op> a = optimizerAndForward(), b = backward();
        Pairing first = new Pairing(new Transfers());
        Object[] r = learnInTurn(first, List.of(a, b, a, b));
        // seen as a then b twice: the pair [a | b] forms on the fourth sequence
        assertEquals(List.of(key(a), key(b)), r[0]);
        assertEquals(3, r[1]);
        Pairing.Pair pair = first.startingWith(key(a));
        assertNotNull(pair);
        assertEquals(a.size(), pair.split);
        assertNull(first.startingWith(key(b)));

        Pairing second = new Pairing(new Transfers());
        r = learnInTurn(second, List.of(b, a, b, a, b));
        // b then a twice would start the pair with the backward, whose inputs (the gradient) cannot stay on the
        // device from run to run; it waits one more sequence and pairs [a | b]
        assertEquals(List.of(key(a), key(b)), r[0]);
        assertEquals(4, r[1]);
        assertNotNull(second.startingWith(key(a)));
        first.all().forEach(q -> q.fused.close());
        second.all().forEach(q -> q.fused.close());
    }

    @Test
    void secondInputsThePairWritesAreCounted() {
        List<Op> a = optimizerAndForward(), b = backward();
        // [b | a]: a reads p, m, v first in its part, and the pair writes them; [a | b]: b's dout is only read
        assertEquals(3, Pairing.stuck(Pairing.concat(b, a), b.size()));
        assertEquals(0, Pairing.stuck(Pairing.concat(a, b), a.size()));
    }
}
