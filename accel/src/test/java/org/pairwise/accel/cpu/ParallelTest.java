package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.TestData.assertClose;
import static org.pairwise.accel.cpu.TestData.d;
import static org.pairwise.accel.cpu.TestData.random;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import org.pairwise.accel.cpu.TestData.StoredWeight;

/**
 * Shapes big enough to be split across the pool (the other tests mostly run inline), checked against analytic
 * double references, so that splitting rows, columns and vocabulary ranges loses or duplicates nothing.
 */
class ParallelTest {
    private static final CpuBackend cpu = new CpuBackend(4);
    private static final CpuBackend single = new CpuBackend(1);

    @AfterAll
    static void close() {
        cpu.close();
        single.close();
    }

    @ParameterizedTest(name = "N={0}")
    @ValueSource(ints = {2, 37})
    void matmulForwardAndBackwardSplitAcrossThreads(int N) {
        Random r = new Random(70);
        int C = 192, OC = 301;
        StoredWeight sw = TestData.store(random(r, OC * C, 1), DType.BF16, OC, C);
        Weight w = cpu.weight(sw.seg(), DType.BF16, OC, C);
        float[] x = random(r, N * C, 1), g = random(r, N * OC, 1);
        Tensor out = cpu.allocate(N * OC);
        cpu.matmulForward(out, cpu.upload(x), w, null, N, C, OC);
        assertClose("out", Reference.matmul(d(x), sw.values(), null, N, C, OC), cpu.download(out), 1e-5);

        Tensor dinp = cpu.allocate(N * C), dw = cpu.allocate(OC * C);
        cpu.matmulBackward(dinp, null, cpu.upload(g), w, N, C, OC);
        cpu.matmulBackwardWeight(dw, cpu.upload(g), cpu.upload(x), N, C, OC);
        double[] eDinp = new double[N * C], eDw = new double[OC * C];
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                for (int c = 0; c < C; c++) {
                    eDinp[n * C + c] += g[n * OC + o] * sw.values()[o * C + c];
                    eDw[o * C + c] += (double) g[n * OC + o] * x[n * C + c];
                }
            }
        }
        assertClose("dinp", eDinp, cpu.download(dinp), 1e-5);
        assertClose("dw", eDw, cpu.download(dw), 1e-5);
    }

    /** Past several token panels and K chunks of the prefill kernel, partial products must add up, not overwrite. */
    @org.junit.jupiter.api.Test
    void matmulForwardBlocksLongRowsAndManyTokens() {
        Random r = new Random(73);
        int N = 70, C = 4 * Panels.KC + 76, OC = 21;
        StoredWeight sw = TestData.store(random(r, OC * C, 1), DType.F16, OC, C);
        float[] x = random(r, N * C, 1), bias = random(r, OC, 1);
        Tensor out = cpu.allocate(N * OC);
        cpu.matmulForward(out, cpu.upload(x), cpu.weight(sw.seg(), DType.F16, OC, C), cpu.upload(bias), N, C, OC);
        assertClose("out", Reference.matmul(d(x), sw.values(), d(bias), N, C, OC), cpu.download(out), 1e-5);
    }

    @ParameterizedTest(name = "N={0}")
    @ValueSource(ints = {1, 20})
    void logprobSplitsVocabularyAndRows(int N) {
        Random r = new Random(71);
        int C = 64, V = 3001;
        float[] wv = random(r, V * C, 0.5), h = random(r, N * C, 1), g = random(r, N, 1);
        int[] targets = new int[N];
        for (int n = 0; n < N; n++) {
            targets[n] = n % 7 == 3 ? -1 : r.nextInt(V);
        }
        Weight w = cpu.weightOf(cpu.upload(wv), V, C);
        Tensor logp = cpu.allocate(N), lse = cpu.allocate(N), sum = cpu.allocate(N), dh = cpu.allocate(N * C);
        Tensor ht = cpu.upload(h);
        cpu.logprobForward(logp, lse, sum, ht, w, targets, N, C, V);
        cpu.logprobBackward(dh, cpu.upload(g), ht, w, lse, targets, N, C, V);

        double[][] ls = Reference.logSoftmax(d(h), d(wv), N, C, V);
        double[] eLogp = new double[N], eDh = new double[N * C];
        for (int n = 0; n < N; n++) {
            if (targets[n] < 0) {
                continue;
            }
            eLogp[n] = ls[n][targets[n]];
            // d logp / d h = w[target] - sum_v softmax_v w[v]
            for (int v = 0; v < V; v++) {
                double coef = (v == targets[n] ? 1 : 0) - Math.exp(ls[n][v]);
                for (int c = 0; c < C; c++) {
                    eDh[n * C + c] += g[n] * coef * wv[v * C + c];
                }
            }
        }
        assertClose("logp", eLogp, cpu.download(logp), 1e-5);
        assertClose("dh", eDh, cpu.download(dh), 1e-5);
    }

    @ParameterizedTest(name = "T={0}")
    @ValueSource(ints = {40})
    void attentionAndRmsnormAgreeOnOneOrFourThreads(int T) {
        Random r = new Random(72);
        int B = 2, NH = 4, KV = 2, HS = 32, n = B * T * NH * HS, nkv = B * T * KV * HS;
        float[] q = random(r, n, 1), k = random(r, nkv, 1), v = random(r, nkv, 1), g = random(r, n, 1);
        float[][] results = new float[2][];
        CpuBackend[] backends = {cpu, single};
        for (int i = 0; i < 2; i++) {
            CpuBackend be = backends[i];
            Tensor qt = be.upload(q), kt = be.upload(k), vt = be.upload(v), out = be.allocate(n), att = be.allocate(B * NH * T * T);
            be.attentionForward(out, att, qt, kt, vt, B, T, 0, T, NH, KV, HS);
            Tensor dq = be.allocate(n), dk = be.allocate(nkv), dv = be.allocate(nkv);
            be.attentionBackward(dq, dk, dv, be.upload(g), att, qt, kt, vt, B, T, NH, KV, HS);
            Tensor norm = be.allocate(n), rstd = be.allocate(B * T * NH), dx = be.allocate(n), dwn = be.allocate(HS);
            Tensor wn = be.upload(java.util.Arrays.copyOf(g, HS));
            be.rmsnormForward(norm, rstd, qt, wn, 1e-6f, B * T * NH, HS);
            be.rmsnormBackward(dx, dwn, be.upload(g), qt, rstd, wn, B * T * NH, HS);
            results[i] = concat(be, out, att, dq, dk, dv, norm, dx, dwn);
        }
        // Not bit for bit: interpreted and compiled Vector API code reduce lanes in different orders, and the RMSNorm
        // weight gradient sums 320 float rows in a thread-count-dependent order (seen: 6e-6 apart on a value of 0.32).
        assertClose("one vs four threads", results[1], results[0], 2e-5);
    }

    private static float[] concat(CpuBackend be, Tensor... ts) {
        int total = 0;
        for (Tensor t : ts) {
            total += (int) t.size();
        }
        float[] all = new float[total];
        int off = 0;
        for (Tensor t : ts) {
            be.download(t, 0, all, off, (int) t.size());
            off += (int) t.size();
        }
        return all;
    }
}
