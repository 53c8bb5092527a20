package org.pairwise.accel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.pairwise.accel.BackendConformance.assertClose;
import static org.pairwise.accel.BackendConformance.random;
import static org.pairwise.accel.BackendConformance.store;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Views ({@link Backend#view}) in every call that takes one, for every backend: each call made on views at odd
 * offsets of one flat buffer (odd sizes, guard floats before, between and after the views) against the same call on
 * whole tensors on the cpu reference, so the cpu backend's own views are checked too; the guards must come back as
 * they went in. Kernels that take no views reject them. A subclass opens the backend under test.
 */
public abstract class ViewConformance extends AgainstReference {
    private static final double TOL = BackendConformance.TOL;

    @Test
    void hostAndDeviceCopiesOfViews() {
        Backend be = backend();
        Random r = new Random(30);
        float[] a = random(r, 37, 1), b = random(r, 11, 1), c = random(r, 23, 1), src = random(r, 40, 1);
        Flat f = new Flat(be, 31, a, b, c);
        Tensor whole = be.upload(c);
        be.upload(f.view(0), 5, src, 3, 29); // a[5..34) = src[3..32)
        be.copy(f.view(1), 2, f.view(0), 30, 7); // b[2..9) = a[30..37), as just written
        be.copy(whole, 20, f.view(1), 0, 3); // c'[20..23) = b[0..3)
        be.copy(f.view(2), 1, whole, 17, 6); // c[1..7) = c'[17..23)
        float[] part = new float[9];
        be.download(f.view(2), 14, part, 2, 7); // c[14..21), read before the zero below
        Tensor inner = be.view(be.view(f.base, f.at[0], 37), 4, 10); // a view of a view: a[4..14)
        be.zero(inner);
        System.arraycopy(src, 3, a, 5, 29);
        System.arraycopy(a, 30, b, 2, 7);
        float[] c2 = c.clone();
        System.arraycopy(b, 0, c2, 20, 3);
        System.arraycopy(c2, 17, c, 1, 6);
        Arrays.fill(a, 4, 14, 0f);
        float[][] got = f.download(be);
        assertArrayEquals(a, got[0], "upload and zero through views");
        assertArrayEquals(b, got[1], "copy from view to view");
        assertArrayEquals(c, got[2], "copy from a tensor into a view");
        assertArrayEquals(c2, be.download(whole), "copy from a view into a tensor");
        float[] wantPart = new float[9];
        System.arraycopy(c, 14, wantPart, 2, 7);
        assertArrayEquals(wantPart, part, "download from a view with offsets");
        // a view's bounds hold although its buffer goes on
        assertThrows(IndexOutOfBoundsException.class, () -> be.upload(f.view(1), 5, src, 0, 7));
        assertThrows(IndexOutOfBoundsException.class, () -> be.download(f.view(0), 30, new float[8], 0, 8));
        assertThrows(IndexOutOfBoundsException.class, () -> be.copy(f.view(2), 20, f.view(0), 0, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> be.view(f.view(2), 20, 4));
    }

    @Test
    void matmulThroughAWeightViewAndIntoAGradientView() {
        Backend be = backend();
        Backend ref = reference();
        int N = 5, C = 13, OC = 7;
        Random r = new Random(32);
        float[] w = random(r, OC * C, 0.5), dw = random(r, OC * C, 1), x = random(r, N * C, 1), bias = random(r, OC, 1),
                dout = random(r, N * OC, 1), dinp = random(r, N * C, 1);
        float[][] want = matmuls(ref, ref.upload(w), ref.upload(dw), x, bias, dout, dinp, N, C, OC);
        Flat f = new Flat(be, 33, dw, w);
        float[][] got = matmuls(be, f.view(1), f.view(0), x, bias, dout, dinp, N, C, OC);
        float[][] params = f.download(be);
        assertClose("out through a weight view", want[0], got[0], TOL);
        assertClose("dinp through a weight view", want[1], got[1], TOL);
        assertClose("out of 2 rows (the decode path) through a weight view", want[3], got[3], TOL);
        assertClose("dw into a view", want[2], params[0], TOL);
        assertArrayEquals(w, params[1], "the weight view is only read");
    }

    private static float[][] matmuls(Backend b, Tensor w, Tensor dw, float[] x, float[] bias, float[] dout,
                                     float[] dinp, int N, int C, int OC) {
        Weight wv = b.weightOf(w, OC, C);
        Tensor out = b.allocate(N * OC), gx = b.upload(dinp), in = b.upload(x), decode = b.allocate(2 * OC);
        b.matmulForward(out, in, wv, b.upload(bias), N, C, OC);
        b.matmulForward(decode, in, wv, null, 2, C, OC);
        b.matmulBackward(gx, null, b.upload(dout), wv, N, C, OC);
        b.matmulBackwardWeight(dw, b.upload(dout), in, N, C, OC);
        return new float[][] {b.download(out), b.download(gx), b.download(dw), b.download(decode)};
    }

    @Test
    void embeddingAndLogprobThroughAWeightView() {
        Backend be = backend();
        Backend ref = reference();
        int N = 4, C = 9, V = 133;
        int[] tokens = {5, 0, 132, 5}, targets = {7, -1, 132, 64};
        Random r = new Random(34);
        float[] table = random(r, V * C, 1), h = random(r, N * C, 1), dlogp = random(r, N, 1), dh = random(r, N * C, 1);
        float[][] want = lookups(ref, ref.upload(table), tokens, targets, h, dlogp, dh, N, C, V);
        Flat f = new Flat(be, 35, random(r, 3, 1), table);
        float[][] got = lookups(be, f.view(1), tokens, targets, h, dlogp, dh, N, C, V);
        String[] names = {"embedding rows", "logp", "lse", "logit sums", "dh"};
        for (int i = 0; i < names.length; i++) {
            assertClose(names[i] + " through a weight view", want[i], got[i], i == 3 ? 1e-3 : TOL);
        }
        f.download(be);
    }

    private static float[][] lookups(Backend b, Tensor table, int[] tokens, int[] targets, float[] h, float[] dlogp,
                                     float[] dh, int N, int C, int V) {
        Weight w = b.weightOf(table, V, C);
        Tensor rows = b.allocate(N * C), logp = b.allocate(N), lse = b.allocate(N), sum = b.allocate(N);
        Tensor hs = b.upload(h), gh = b.upload(dh);
        b.embeddingForward(rows, tokens, w, N, C);
        b.logprobForward(logp, lse, sum, hs, w, targets, N, C, V);
        b.logprobBackward(gh, b.upload(dlogp), hs, w, lse, targets, N, C, V);
        return new float[][] {b.download(rows), b.download(logp), b.download(lse), b.download(sum), b.download(gh)};
    }

    @Test
    void optimizerCallsOverViews() {
        Backend be = backend();
        Backend ref = reference();
        int n = 1031;
        Random r = new Random(36);
        float[] p = random(r, n, 1), g = random(r, n, 1), g2 = random(r, n, 1), m = new float[n], v = new float[n];
        float[][] want = optimizer(ref, List.of(ref.upload(p), ref.upload(g), ref.upload(m), ref.upload(v)), g2);
        // each in a buffer of its own (a call that writes a view takes no other view of its buffer), at odd offsets
        Flat fp = new Flat(be, 37, p), fg = new Flat(be, 38, random(r, 2, 1), g), fm = new Flat(be, 39, m, p),
                fv = new Flat(be, 40, random(r, 4, 1), random(r, 6, 1), v);
        Flat[] f = {fp, fg, fm, fv};
        int[] at = {0, 1, 0, 2};
        float[][] got = optimizer(be, List.of(fp.view(0), fg.view(1), fm.view(0), fv.view(2)), g2);
        float[][] after = new float[4][];
        for (int i = 0; i < 4; i++) {
            after[i] = f[i].download(be)[at[i]];
        }
        String[] names = {"param", "grad (scaled)", "m", "v"};
        for (int i = 0; i < names.length; i++) {
            assertClose(names[i], want[i], after[i], 1e-5);
        }
        for (int i = 4; i < want.length; i++) {
            assertEquals(want[i][0], got[i][0], 1e-5 * want[i][0], "sum of squares " + (i - 4));
        }
        float[] bad = g.clone();
        bad[1000] = Float.NaN;
        be.upload(fm.view(0), 0, bad, 0, n);
        assertEquals(Double.NaN, be.sumOfSquares(fm.view(0), n), "a NaN in a view shows in its sum");
        assertEquals(sumOfSquares(p), be.sumOfSquares(fm.view(1), n), 1e-5 * sumOfSquares(p), "a neighbour's NaN does not");
    }

    private static double sumOfSquares(float[] x) {
        double s = 0;
        for (float v : x) {
            s += (double) v * v;
        }
        return s;
    }

    /** AdamW twice (the second from a scaled gradient), with sums of squares of a view pending and not. */
    private static float[][] optimizer(Backend b, List<Tensor> pgmv, float[] g2) {
        Tensor p = pgmv.get(0), g = pgmv.get(1), m = pgmv.get(2), v = pgmv.get(3);
        long n = p.size();
        double before = b.sumOfSquares(g, n);
        b.adamwUpdate(p, g, m, v, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
        b.upload(g, 0, g2, 0, (int) n);
        b.scale(g, 0.37f, n);
        double scaled = b.sumOfSquares(g, n); // g is still being computed where calls are recorded
        b.adamwUpdate(p, g, m, v, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 2);
        double param = b.sumOfSquares(p, n);
        List<float[]> out = new ArrayList<>();
        for (Tensor t : pgmv) {
            out.add(b.download(t));
        }
        out.add(new float[] {(float) before});
        out.add(new float[] {(float) scaled});
        out.add(new float[] {(float) param});
        return out.toArray(float[][]::new);
    }

    @Test
    void aCallThatWritesAViewTakesNoOtherTensorOfItsBufferButCopyMayCopyWithinOne() {
        Backend be = backend();
        int n = 12;
        Flat f = new Flat(be, 41, new float[n], new float[n], new float[n], new float[n], new float[2 * n]);
        assertThrows(IllegalArgumentException.class, () -> be.adamwUpdate(f.view(0), f.view(1), f.view(2), f.view(3), n,
                1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        assertThrows(IllegalArgumentException.class, () -> be.matmulBackwardWeight(f.view(0), f.base, be.allocate(8),
                2, 4, 3));
        // overlapping ranges within one view, both ways, as System.arraycopy copies them
        Flat c = new Flat(be, 42, random(new Random(43), 30, 1));
        float[] want = c.download(be)[0];
        be.copy(c.view(0), 3, c.view(0), 0, 20);
        System.arraycopy(want, 0, want, 3, 20);
        be.copy(c.view(0), 1, c.view(0), 9, 15);
        System.arraycopy(want, 9, want, 1, 15);
        assertArrayEquals(want, c.download(be)[0]);
    }

    @Test
    void kernelsThatTakeNoViewsRejectThem() {
        Backend be = backend();
        int n = 12;
        Flat f = new Flat(be, 38, new float[n], new float[n]);
        Tensor x = be.allocate(n);
        assertThrows(IllegalArgumentException.class, () -> be.add(f.view(1), x, n));
        assertThrows(IllegalArgumentException.class, () -> be.swigluForward(x, f.view(0), x, 3, 4));
        MemorySegment w = store(new float[n], DType.F32);
        assertThrows(IllegalArgumentException.class,
                () -> be.matmulForward(f.view(1), x, be.weight(w, DType.F32, 3, 4), null, 3, 4, 3));
    }

    /** A flat buffer of guard floats and parts: part i at {@link #at}[i], after 1 + 2i mod 5 guard floats. */
    private static final class Flat {
        final Tensor base;
        final int[] at;
        private final float[] host;
        private final List<Tensor> views = new ArrayList<>();

        Flat(Backend b, long seed, float[]... parts) {
            at = new int[parts.length];
            int total = 0;
            for (int i = 0; i < parts.length; i++) {
                total += 1 + 2 * i % 5;
                at[i] = total;
                total += parts[i].length;
            }
            host = random(new Random(seed), total + 2, 1);
            for (int i = 0; i < parts.length; i++) {
                System.arraycopy(parts[i], 0, host, at[i], parts[i].length);
                views.add(null);
            }
            base = b.upload(host);
            for (int i = 0; i < parts.length; i++) {
                views.set(i, b.view(base, at[i], parts[i].length));
            }
        }

        Tensor view(int i) {
            return views.get(i);
        }

        /** The parts as the backend holds them now, after checking that every guard float is as it went in. */
        float[][] download(Backend b) {
            float[] all = b.download(base);
            float[] guards = all.clone(), want = host.clone();
            float[][] parts = new float[at.length][];
            for (int i = 0; i < at.length; i++) {
                int n = Math.toIntExact(views.get(i).size());
                parts[i] = Arrays.copyOfRange(all, at[i], at[i] + n);
                Arrays.fill(guards, at[i], at[i] + n, 0f);
                Arrays.fill(want, at[i], at[i] + n, 0f);
            }
            assertArrayEquals(want, guards, "floats outside the views are untouched");
            return parts;
        }
    }
}
