package org.pairwise.accel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One conformance suite for every backend: each kernel's forward and backward on odd shapes (no multiple of a tile,
 * chunk or vector width; masked rows; repeated tokens; GQA groups; partial rotary dims) against the cpu backend, which
 * its own tests check against double-precision references and finite differences. Both backends get identical inputs.
 *
 * <p>Tolerance: |got - cpu| <= TOL * (1 + |cpu|) elementwise, with TOL = 1e-4 (float sums in another order); sums of a
 * thousand logits get 1e-3. A subclass opens the backend under test.
 */
public abstract class BackendConformance extends AgainstReference {
    protected static final double TOL = 1e-4;

    // --- matmul: N=5 rows, C=67 (96 for Q8_0), OC=19

    @ParameterizedTest
    @EnumSource(DType.class)
    void matmulForwardWithAndWithoutBias(DType dtype) {
        int N = 5, C = dtype == DType.Q8_0 ? 96 : 67, OC = 19;
        Random r = new Random(1);
        MemorySegment w = store(random(r, OC * C, 0.5), dtype);
        float[] x = random(r, N * C, 1), bias = random(r, OC, 1);
        for (boolean withBias : new boolean[] {true, false}) {
            float[][] got = both((b, in) -> {
                Tensor out = b.allocate(N * OC);
                b.matmulForward(out, in[0], b.weight(w, dtype, OC, C), withBias ? in[1] : null, N, C, OC);
                return new Tensor[] {out};
            }, x, bias);
            assertClose(dtype + " out (bias " + withBias + ")", got[0], got[1], TOL);
        }
    }

    @Test
    void matmulBackwardInputBiasAndWeight() {
        int N = 7, C = 23, OC = 13;
        Random r = new Random(2);
        MemorySegment w = store(random(r, OC * C, 0.5), DType.BF16);
        float[] dout = random(r, N * OC, 1), dinp = random(r, N * C, 1), dbias = random(r, OC, 1), inp = random(r, N * C, 1),
                dw = random(r, OC * C, 1);
        float[][] got = both((b, in) -> {
            Tensor gx = in[1], gb = in[2], gw = in[4];
            b.matmulBackward(gx, gb, in[0], b.weight(w, DType.BF16, OC, C), N, C, OC);
            b.matmulBackwardWeight(gw, in[0], in[3], N, C, OC);
            return new Tensor[] {gx, gb, gw};
        }, dout, dinp, dbias, inp, dw);
        assertClose("dinp (accumulated)", got[0], got[3], TOL);
        assertClose("dbias (accumulated)", got[1], got[4], TOL);
        assertClose("dw (accumulated)", got[2], got[5], TOL);
        float[][] only = both((b, in) -> {
            b.matmulBackward(in[1], null, in[0], b.weight(w, DType.BF16, OC, C), N, C, OC);
            b.matmulBackward(null, in[2], in[0], b.weight(w, DType.BF16, OC, C), N, C, OC);
            return new Tensor[] {in[1], in[2]};
        }, dout, dinp, dbias);
        assertClose("dinp alone", only[0], only[2], TOL);
        assertClose("dbias alone", only[1], only[3], TOL);
    }

    @Test
    void loraWeightViewSeesUpdates() {
        int N = 4, C = 9, OC = 3;
        Random r = new Random(3);
        float[] a = random(r, OC * C, 1), a2 = random(r, OC * C, 1), x = random(r, N * C, 1);
        float[][] got = both((b, in) -> {
            Weight view = b.weightOf(in[0], OC, C);
            Tensor out1 = b.allocate(N * OC), out2 = b.allocate(N * OC);
            b.matmulForward(out1, in[1], view, null, N, C, OC);
            b.copy(in[0], 0, in[2], 0, OC * C);
            b.matmulForward(out2, in[1], view, null, N, C, OC);
            return new Tensor[] {out1, out2};
        }, a, x, a2);
        assertClose("before the update", got[0], got[2], TOL);
        assertClose("after the update", got[1], got[3], TOL);
    }

    // --- RMSNorm: N=6, C=37

    @Test
    void rmsnormForwardAndBackward() {
        int N = 6, C = 37;
        Random r = new Random(4);
        float[] x = random(r, N * C, 2), w = random(r, C, 1), dout = random(r, N * C, 1), dinp = random(r, N * C, 1),
                dw = random(r, C, 1);
        float[][] got = both((b, in) -> {
            Tensor out = b.allocate(N * C), rstd = b.allocate(N);
            b.rmsnormForward(out, rstd, in[0], in[1], 1e-5f, N, C);
            b.rmsnormBackward(in[3], in[4], in[2], in[0], rstd, in[1], N, C);
            Tensor frozen = b.upload(new float[N * C]);
            b.rmsnormBackward(frozen, null, in[2], in[0], rstd, in[1], N, C);
            return new Tensor[] {out, rstd, in[3], in[4], frozen};
        }, x, w, dout, dinp, dw);
        String[] names = {"out", "rstd", "dinp", "dw", "dinp with dw null"};
        for (int i = 0; i < names.length; i++) {
            assertClose(names[i], got[i], got[i + names.length], TOL);
        }
    }

    // --- RoPE: N=5 rows, H=3 heads, HS=10, rotaryDim=6 (partial), both pairings

    @ParameterizedTest
    @EnumSource(RopeTable.Pairing.class)
    void ropeForwardAndBackward(RopeTable.Pairing pairing) {
        int N = 5, H = 3, HS = 10;
        int[] positions = {0, 1, 7, 30, 63};
        RopeTable rope = RopeTable.create(pairing, 6, 64, 10000, null);
        Random r = new Random(5);
        float[] x = random(r, N * H * HS, 1), dx = random(r, N * H * HS, 1);
        float[][] got = both((b, in) -> {
            b.ropeForward(in[0], positions, rope, N, H, HS);
            b.ropeBackward(in[1], positions, rope, N, H, HS);
            return new Tensor[] {in[0], in[1]};
        }, x, dx);
        assertClose("x rotated", got[0], got[2], 1e-5);
        assertClose("dx rotated back", got[1], got[3], 1e-5);
    }

    // --- attention: B=2, T=5, NH=6, KV=2 (groups of 3), HS=6

    @Test
    void attentionForwardOverCache() {
        int B = 2, T = 5, NH = 6, KV = 2, HS = 6, pos0 = 3, maxT = 11;
        Random r = new Random(6);
        float[] q = random(r, B * T * NH * HS, 1.5), k = random(r, B * maxT * KV * HS, 1.5), v = random(r, B * maxT * KV * HS, 1);
        float[][] got = both((b, in) -> {
            Tensor out = b.allocate(B * T * NH * HS), att = b.upload(random(new Random(7), B * NH * T * maxT, 1));
            Tensor out2 = b.allocate(B * T * NH * HS);
            b.attentionForward(out, att, in[0], in[1], in[2], B, T, pos0, maxT, NH, KV, HS);
            b.attentionForward(out2, null, in[0], in[1], in[2], B, T, pos0, maxT, NH, KV, HS);
            return new Tensor[] {out, att, out2};
        }, q, k, v);
        assertClose("out", got[0], got[3], TOL);
        assertClose("att (zero past each causal row)", got[1], got[4], TOL);
        assertClose("out without att", got[2], got[5], TOL);
    }

    @Test
    void attentionBackward() {
        int B = 2, T = 5, NH = 6, KV = 2, HS = 6;
        Random r = new Random(8);
        float[] q = random(r, B * T * NH * HS, 1.5), k = random(r, B * T * KV * HS, 1.5), v = random(r, B * T * KV * HS, 1),
                dout = random(r, B * T * NH * HS, 1), dq = random(r, B * T * NH * HS, 1), dk = random(r, B * T * KV * HS, 1),
                dv = random(r, B * T * KV * HS, 1);
        float[][] got = both((b, in) -> {
            Tensor out = b.allocate(B * T * NH * HS), att = b.allocate(B * NH * T * T);
            b.attentionForward(out, att, in[0], in[1], in[2], B, T, 0, T, NH, KV, HS);
            b.attentionBackward(in[4], in[5], in[6], in[3], att, in[0], in[1], in[2], B, T, NH, KV, HS);
            return new Tensor[] {in[4], in[5], in[6]};
        }, q, k, v, dout, dq, dk, dv);
        assertClose("dq", got[0], got[3], TOL);
        assertClose("dk", got[1], got[4], TOL);
        assertClose("dv", got[2], got[5], TOL);
    }

    // --- SwiGLU, add, scale, copy, zero: N=3, C=41

    @Test
    void swigluForwardAndBackward() {
        int N = 3, C = 41;
        Random r = new Random(9);
        float[] gate = random(r, N * C, 4), up = random(r, N * C, 2), dout = random(r, N * C, 1),
                dgate = random(r, N * C, 1), dup = random(r, N * C, 1);
        float[][] got = both((b, in) -> {
            Tensor out = b.allocate(N * C);
            b.swigluForward(out, in[0], in[1], N, C);
            b.swigluBackward(in[3], in[4], in[2], in[0], in[1], N, C);
            Tensor gateOnly = b.allocate(N * C);
            b.swigluBackward(gateOnly, null, in[2], in[0], in[1], N, C);
            return new Tensor[] {out, in[3], in[4], gateOnly};
        }, gate, up, dout, dgate, dup);
        String[] names = {"out", "dgate", "dup", "dgate with dup null"};
        for (int i = 0; i < names.length; i++) {
            assertClose(names[i], got[i], got[i + names.length], TOL);
        }
    }

    @Test
    void addScaleCopyZeroAndHostCopies() {
        int n = 123;
        Random r = new Random(10);
        float[] a = random(r, n, 1), x = random(r, n, 1);
        float[][] got = both((b, in) -> {
            b.add(in[0], in[1], n);
            b.scale(in[0], -0.37f, n);
            b.scale(in[1], 3f, 50);
            Tensor c = b.allocate(n + 5);
            b.copy(c, 5, in[0], 0, n);
            Tensor z = b.upload(a);
            b.zero(z);
            b.upload(z, 7, a, 3, 11);
            return new Tensor[] {in[0], in[1], c, z};
        }, a, x);
        for (int i = 0; i < 4; i++) {
            assertClose("result " + i, got[i], got[i + 4], 1e-6);
        }
        float[] part = new float[13];
        backend().download(backend().upload(a), 20, part, 2, 11);
        for (int i = 0; i < 11; i++) {
            assertEquals(a[20 + i], part[2 + i], "download with offsets");
        }
    }

    // --- embedding: N=7 (tokens repeat), C=19, V=11

    @Test
    void embeddingForward() {
        int N = 7, C = 19, V = 11;
        int[] tokens = {3, 0, 10, 3, 5, 3, 10};
        Random r = new Random(11);
        MemorySegment table = store(random(r, V * C, 1), DType.F16);
        float[][] got = both((b, in) -> {
            Tensor out = b.allocate(N * C);
            b.embeddingForward(out, tokens, b.weight(table, DType.F16, V, C), N, C);
            return new Tensor[] {out};
        });
        assertClose("out", got[0], got[1], 0);
    }

    // --- fused log-prob: N=7 (rows 1 and 4 masked), C=40, V=1003 (no multiple of any chunk size)

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16"})
    void logprobForwardAndBackward(DType dtype) {
        int N = 7, C = 40, V = 1003;
        int[] targets = {5, -1, 1002, 0, -100, 517, 256};
        Random r = new Random(12);
        MemorySegment w = store(random(r, V * C, 0.5), dtype);
        float[] h = random(r, N * C, 1), dlogp = random(r, N, 1), dh = random(r, N * C, 1);
        float[][] got = both((b, in) -> {
            Weight wt = b.weight(w, dtype, V, C);
            Tensor logp = b.upload(random(new Random(13), N, 1)), lse = b.allocate(N), sum = b.allocate(N);
            b.logprobForward(logp, lse, sum, in[0], wt, targets, N, C, V);
            b.logprobBackward(in[2], in[1], in[0], wt, lse, targets, N, C, V);
            return new Tensor[] {logp, lse, sum, in[2]};
        }, h, dlogp, dh);
        assertClose("logp", got[0], got[4], TOL);
        assertClose("lse", got[1], got[5], TOL);
        assertClose("logitSum", got[2], got[6], 1e-3);
        assertClose("dh (accumulated)", got[3], got[7], TOL);
        for (int n : new int[] {1, 4}) {
            assertEquals(0f, got[4][n], "masked row " + n + " logp");
        }
    }

    // --- optimizer: n=1000

    @Test
    void adamwTwoStepsAndSumOfSquares() {
        int n = 1000;
        Random r = new Random(14);
        float[] p = random(r, n, 1), g = random(r, n, 1), g2 = random(r, n, 1);
        float[][] got = both((b, in) -> {
            Tensor m = b.allocate(n), v = b.allocate(n);
            b.adamwUpdate(in[0], in[1], m, v, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
            b.adamwUpdate(in[0], in[2], m, v, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 2);
            return new Tensor[] {in[0], m, v};
        }, p, g, g2);
        assertClose("param", got[0], got[3], 1e-5);
        assertClose("m", got[1], got[4], 1e-5);
        assertClose("v", got[2], got[5], 1e-5);
        double expected = reference().sumOfSquares(reference().upload(g), n), actual = backend().sumOfSquares(backend().upload(g), n);
        assertEquals(expected, actual, 1e-5 * expected, "sum of squares");
        float[] bad = g.clone();
        bad[777] = Float.NaN;
        assertEquals(Double.NaN, backend().sumOfSquares(backend().upload(bad), n), "a NaN gradient shows in the norm");
    }

    // --- helpers

    /** Runs {@code op} on the reference and on the backend under test over copies of {@code inputs}. */
    private float[][] both(Op op, float[]... inputs) {
        float[][] expected = run(reference(), op, inputs), actual = run(backend(), op, inputs);
        float[][] all = new float[expected.length + actual.length][];
        System.arraycopy(expected, 0, all, 0, expected.length);
        System.arraycopy(actual, 0, all, expected.length, actual.length);
        return all;
    }

    private static float[][] run(Backend b, Op op, float[][] inputs) {
        Tensor[] in = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            in[i] = b.upload(inputs[i]);
        }
        Tensor[] out = op.apply(b, in);
        float[][] res = new float[out.length][];
        for (int i = 0; i < out.length; i++) {
            res[i] = b.download(out[i]);
        }
        return res;
    }

    @FunctionalInterface
    private interface Op {
        Tensor[] apply(Backend b, Tensor[] in);
    }

    protected static float[] random(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    /** {@code src} stored as {@code dtype} (Q8_0 as llama.cpp quantises it), one byte past an allocation so reads are misaligned. */
    protected static MemorySegment store(float[] src, DType dtype) {
        long bytes = dtype.bytesFor(src.length);
        MemorySegment seg = Arena.ofAuto().allocate(bytes + 1, 8).asSlice(1, bytes);
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < src.length; i++) {
                    seg.set(DTypes.F32, 4L * i, src[i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < src.length; i++) {
                    seg.set(DTypes.I16, 2L * i, Float.floatToFloat16(src[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < src.length; i++) {
                    seg.set(DTypes.I16, 2L * i, DTypes.floatToBf16(src[i]));
                }
            }
            case Q8_0 -> {
                for (int blk = 0; blk < src.length / 32; blk++) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(src[blk * 32 + j]));
                    }
                    float d = amax / 127;
                    seg.set(DTypes.I16, 34L * blk, Float.floatToFloat16(d));
                    for (int j = 0; j < 32; j++) {
                        int q = d == 0 ? 0 : Math.max(-128, Math.min(127, Math.round(src[blk * 32 + j] / d)));
                        seg.set(ValueLayout.JAVA_BYTE, 34L * blk + 2 + j, (byte) q);
                    }
                }
            }
        }
        return seg;
    }

    /** |actual - expected| <= tol * (1 + |expected|) everywhere, naming the first element that is not. */
    protected static void assertClose(String what, float[] expected, float[] actual, double tol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
            if (!(err <= tol)) {
                fail(what + "[" + i + "]: got " + actual[i] + ", cpu " + expected[i] + " (tolerance " + tol + ")");
            }
        }
    }
}
