package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** The optimizer's kernels: the AdamW update and the sum of squares behind the global gradient norm. */
final class Optim {
    private Optim() {}

    private static final int GRAIN = 1 << 14;

    // param, grad, m, v (n): torch.optim.AdamW's single-tensor update, step counting from 1
    static void adamw(Parallel par, float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1,
                      float beta2, float eps, float weightDecay, int step) {
        float decay = 1f - lr * weightDecay;
        float stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
        float sqrtBias2 = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float b1c = 1f - beta1, b2c = 1f - beta2;
        par.forRange(n, GRAIN, 10L * n, (i0, i1) -> {
            int i = i0;
            for (; i + L <= i1; i += L) {
                FloatVector gi = FloatVector.fromArray(F, g, i);
                FloatVector mi = FloatVector.fromArray(F, m, i).mul(beta1).add(gi.mul(b1c));
                FloatVector vi = FloatVector.fromArray(F, v, i).mul(beta2).add(gi.mul(gi).mul(b2c));
                FloatVector denom = vi.lanewise(VectorOperators.SQRT).div(sqrtBias2).add(eps);
                FloatVector pi = FloatVector.fromArray(F, p, i).mul(decay).sub(mi.div(denom).mul(stepSize));
                mi.intoArray(m, i);
                vi.intoArray(v, i);
                pi.intoArray(p, i);
            }
            // as the lanes above compute it, so a range's split between lanes and tail does not matter
            for (; i < i1; i++) {
                m[i] = m[i] * beta1 + g[i] * b1c;
                v[i] = v[i] * beta2 + g[i] * g[i] * b2c;
                p[i] = p[i] * decay - m[i] / ((float) Math.sqrt(v[i]) / sqrtBias2 + eps) * stepSize;
            }
        });
    }

    static double sumOfSquares(float[] t, int n) {
        double total = 0;
        int i = 0;
        // Blocks of float lanes summed into a double keep the error at float level per block, not per tensor.
        while (i < n) {
            int end = Math.min(n, i + 4096);
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
