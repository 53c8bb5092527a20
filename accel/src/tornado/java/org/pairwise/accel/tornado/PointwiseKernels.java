package org.pairwise.accel.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Device kernels that touch each float once or a few times: SwiGLU, add, scale, RoPE, AdamW and the blocked sum of
 * squares. Scalars that change between calls (a scale, the learning rate, the step) travel in a params array at an
 * offset `at` (one array per compiled sequence, see Fused),
 * so one compiled graph serves every call of its shape.
 */
final class PointwiseKernels {
    private PointwiseKernels() {}

    /** Floats per work-item in the sum of squares: partial sums stay float-accurate, the host adds them in double. */
    static final int SUMSQ_BLOCK = 256;

    // out (n) = silu(gate) * up
    static void swigluForward(FloatArray out, FloatArray gate, FloatArray up, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float g = gate.get(i);
            out.set(i, g / (1f + TornadoMath.exp(-g)) * up.get(i));
        }
    }

    // dgate (n) += dout * up * sig * (1 + g * (1 - sig))
    static void swigluBackwardGate(FloatArray dgate, FloatArray dout, FloatArray gate, FloatArray up, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float g = gate.get(i);
            float sig = 1f / (1f + TornadoMath.exp(-g));
            dgate.set(i, dgate.get(i) + dout.get(i) * up.get(i) * sig * (1f + g * (1f - sig)));
        }
    }

    // dup (n) += dout * silu(gate)
    static void swigluBackwardUp(FloatArray dup, FloatArray dout, FloatArray gate, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float g = gate.get(i);
            dup.set(i, dup.get(i) + dout.get(i) * g / (1f + TornadoMath.exp(-g)));
        }
    }

    // out (n) += inp (n)
    static void add(FloatArray out, FloatArray inp, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            out.set(i, out.get(i) + inp.get(i));
        }
    }

    // dst[offs[at + 1] + i] = src[offs[at] + i], i < n: the SPI's copy on the device, so a recorded sequence stays there
    static void copy(FloatArray dst, FloatArray src, IntArray offs, int at, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            dst.set(offs.get(at + 1) + i, src.get(offs.get(at) + i));
        }
    }

    // x[off..off+n) = 0: the SPI's zero on the device (gradients are zeroed between the kernels that accumulate into
    // them)
    static void fill(FloatArray x, int off, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            x.set(off + i, 0f);
        }
    }

    // Reads and writes x[0] unchanged. A graph whose first task only writes part of a streamed-in array would not copy
    // it in (TornadoVM allocates write-only arguments), so the kept part would be garbage; touching it first makes the
    // first access a read-write and the array streams in.
    static void touch(FloatArray x) {
        x.set(0, x.get(0));
    }

    // x[off..off+n) *= params[at]
    static void scale(FloatArray x, int off, FloatArray params, int at, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            x.set(off + i, x.get(off + i) * params.get(at));
        }
    }

    // x (N,H,HS) rotated in place; pair i of a head is (base + i*stride, base + i*stride + partner), i < pairs;
    // cos, sin (maxPos, pairs); dir +1 rotates forward, -1 applies the transpose (backward). (OpenCL reserves the
    // names half and sign, so the parameters avoid them.)
    static void rope(FloatArray x, IntArray positions, int at, FloatArray cos, FloatArray sin, float dir,
                     int N, int H, int HS, int pairs, int stride, int partner) {
        for (@Parallel int n = 0; n < N; n++) {
            for (@Parallel int h = 0; h < H; h++) {
                int t = positions.get(at + n) * pairs;
                int base = (n * H + h) * HS;
                for (int i = 0; i < pairs; i++) {
                    int a = base + i * stride;
                    int b = a + partner;
                    float c = cos.get(t + i);
                    float s = dir * sin.get(t + i);
                    float x0 = x.get(a);
                    float x1 = x.get(b);
                    x.set(a, x0 * c - x1 * s);
                    x.set(b, x0 * s + x1 * c);
                }
            }
        }
    }

    // param, grad, m, v (n), each from its offset (views of flat buffers); params[at..at+5] = {decay, stepSize,
    // sqrtBias2, beta1, beta2, eps} as torch.optim.AdamW
    static void adamw(FloatArray p, int pOff, FloatArray g, int gOff, FloatArray m, int mOff, FloatArray v, int vOff,
                      FloatArray params, int at, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float decay = params.get(at);
            float stepSize = params.get(at + 1);
            float sqrtBias2 = params.get(at + 2);
            float beta1 = params.get(at + 3);
            float beta2 = params.get(at + 4);
            float eps = params.get(at + 5);
            float gi = g.get(gOff + i);
            float mi = beta1 * m.get(mOff + i) + (1f - beta1) * gi;
            float vi = beta2 * v.get(vOff + i) + (1f - beta2) * gi * gi;
            m.set(mOff + i, mi);
            v.set(vOff + i, vi);
            p.set(pOff + i, p.get(pOff + i) * decay - stepSize * mi / (TornadoMath.sqrt(vi) / sqrtBias2 + eps));
        }
    }

    // partials[b] = sum of x^2 over block b of SUMSQ_BLOCK floats of x[off..off+n), b < blocks
    static void sumOfSquares(FloatArray partials, FloatArray x, int off, int n, int blocks) {
        for (@Parallel int b = 0; b < blocks; b++) {
            float acc = 0f;
            int end = off + TornadoMath.min(n, (b + 1) * SUMSQ_BLOCK);
            for (int i = off + b * SUMSQ_BLOCK; i < end; i++) {
                float xi = x.get(i);
                acc += xi * xi;
            }
            partials.set(b, acc);
        }
    }
}
