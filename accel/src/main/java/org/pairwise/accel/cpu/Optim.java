package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** The optimizer's kernels: the AdamW update and the sum of squares behind the global gradient norm. */
final class Optim {
    private Optim() {}

    private static final int GRAIN = 1 << 14;

    // param, grad, m, v (n), each from its offset (views of flat buffers): torch.optim.AdamW's single-tensor update,
    // step counting from 1. The scalar tail does what a vector lane does, operation for operation, so the result does
    // not depend on where a tensor starts or ends (an adapter's flat buffer updates exactly as its tensors one by one).
    static void adamw(Parallel par, float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff,
                      int n, float lr, float beta1, float beta2, float eps, float weightDecay, int step) {
        float decay = 1f - lr * weightDecay;
        float stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
        float sqrtBias2 = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float b1c = 1f - beta1, b2c = 1f - beta2;
        par.forRange(n, GRAIN, 10L * n, (i0, i1) -> {
            int i = i0;
            for (; i + L <= i1; i += L) {
                FloatVector gi = FloatVector.fromArray(F, g, gOff + i);
                FloatVector mi = FloatVector.fromArray(F, m, mOff + i).mul(beta1).add(gi.mul(b1c));
                FloatVector vi = FloatVector.fromArray(F, v, vOff + i).mul(beta2).add(gi.mul(gi).mul(b2c));
                FloatVector denom = vi.lanewise(VectorOperators.SQRT).div(sqrtBias2).add(eps);
                FloatVector pi = FloatVector.fromArray(F, p, pOff + i).mul(decay).sub(mi.div(denom).mul(stepSize));
                mi.intoArray(m, mOff + i);
                vi.intoArray(v, vOff + i);
                pi.intoArray(p, pOff + i);
            }
            // as the lanes above compute it, so a range's split between lanes and tail does not matter
            for (; i < i1; i++) {
                float gi = g[gOff + i];
                float mi = m[mOff + i] * beta1 + gi * b1c;
                float vi = v[vOff + i] * beta2 + gi * gi * b2c;
                float denom = (float) Math.sqrt(vi) / sqrtBias2 + eps;
                m[mOff + i] = mi;
                v[vOff + i] = vi;
                p[pOff + i] = p[pOff + i] * decay - mi / denom * stepSize;
            }
        });
    }

    // sum of t[off + i]^2 over i < n
    static double sumOfSquares(float[] t, int off, int n) {
        double total = 0;
        int i = off, last = off + n;
        // Blocks of float lanes summed into a double keep the error at float level per block, not per tensor.
        while (i < last) {
            int end = Math.min(last, i + 4096);
            FloatVector acc = FloatVector.zero(F);
            int j = i;
            for (; j + L <= end; j += L) {
                FloatVector x = FloatVector.fromArray(F, t, j);
                acc = x.fma(x, acc);
            }
            double block = Vec.sumLanes(acc);
            for (; j < end; j++) {
                block += (double) t[j] * t[j];
            }
            total += block;
            i = end;
        }
        return total;
    }
}
