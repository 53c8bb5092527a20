package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.MatmulTest.f;
import static org.pairwise.accel.cpu.TestData.assertClose;
import static org.pairwise.accel.cpu.TestData.d;
import static org.pairwise.accel.cpu.TestData.random;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pairwise.accel.Tensor;

class AttentionTest {
    private static final CpuBackend cpu = new CpuBackend(3);
    private static final int B = 2, T = 5, NH = 6, KV = 2;

    @AfterAll
    static void close() {
        cpu.close();
    }

    @ParameterizedTest(name = "HS={0}")
    @ValueSource(ints = {6, 8, 20})
    void forwardOverCacheMatchesReferenceWithProbabilities(int HS) {
        int pos0 = 3, maxT = 11;
        Random r = new Random(30);
        float[] q = random(r, B * T * NH * HS, 1.5), k = random(r, B * maxT * KV * HS, 1.5), v = random(r, B * maxT * KV * HS, 1);
        double[] probs = new double[B * NH * T * maxT];
        double[] expected = Reference.attention(d(q), d(k), d(v), B, T, pos0, maxT, NH, KV, HS, probs);
        Tensor out = cpu.allocate(B * T * NH * HS), att = cpu.upload(random(r, B * NH * T * maxT, 1));
        Tensor qt = cpu.upload(q), kt = cpu.upload(k), vt = cpu.upload(v);
        cpu.attentionForward(out, att, qt, kt, vt, B, T, pos0, maxT, NH, KV, HS);
        assertClose("out", expected, cpu.download(out), 1e-5);
        assertClose("att (zero past each causal row)", probs, cpu.download(att), 1e-5);
        Tensor out2 = cpu.allocate(B * T * NH * HS);
        cpu.attentionForward(out2, null, qt, kt, vt, B, T, pos0, maxT, NH, KV, HS);
        assertClose("out without att", expected, cpu.download(out2), 1e-5);
    }

    @ParameterizedTest(name = "HS={0}")
    @ValueSource(ints = {6, 8, 20})
    void backwardMatchesFiniteDifferencesForQueriesKeysValues(int HS) {
        Random r = new Random(31);
        double[] q = d(random(r, B * T * NH * HS, 1.5)), k = d(random(r, B * T * KV * HS, 1.5));
        double[] v = d(random(r, B * T * KV * HS, 1)), g = d(random(r, B * T * NH * HS, 1));
        Tensor qt = cpu.upload(f(q)), kt = cpu.upload(f(k)), vt = cpu.upload(f(v));
        Tensor out = cpu.allocate(q.length), att = cpu.allocate(B * NH * T * T);
        cpu.attentionForward(out, att, qt, kt, vt, B, T, 0, T, NH, KV, HS);
        Tensor dq = cpu.allocate(q.length), dk = cpu.allocate(k.length), dv = cpu.allocate(v.length);
        cpu.attentionBackward(dq, dk, dv, cpu.upload(f(g)), att, qt, kt, vt, B, T, NH, KV, HS);
        assertClose("dq", TestData.gradient(x -> TestData.dotLoss(
                Reference.attention(x, k, v, B, T, 0, T, NH, KV, HS, null), g), q), cpu.download(dq), 1e-4);
        assertClose("dk", TestData.gradient(x -> TestData.dotLoss(
                Reference.attention(q, x, v, B, T, 0, T, NH, KV, HS, null), g), k), cpu.download(dk), 1e-4);
        assertClose("dv", TestData.gradient(x -> TestData.dotLoss(
                Reference.attention(q, k, x, B, T, 0, T, NH, KV, HS, null), g), v), cpu.download(dv), 1e-4);
    }
}
