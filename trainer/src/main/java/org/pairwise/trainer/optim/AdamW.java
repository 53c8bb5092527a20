package org.pairwise.trainer.optim;

import java.util.ArrayList;
import java.util.List;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;

/**
 * AdamW over a list of parameters and their gradients (same order), with the global gradient-norm clipping of
 * torch.nn.utils.clip_grad_norm_ in front of it, as transformers' Trainer runs them. A step whose gradients are not
 * finite is skipped: parameters and moments stay as they were, so the weights never become NaN.
 */
public final class AdamW {
    /** What a step did: the gradient norm before clipping (TRL's grad_norm) and whether it was applied. */
    public record StepResult(double gradNorm, boolean applied) {}

    private final Backend be;
    private final List<Tensor> params;
    private final List<Tensor> grads;
    private final List<Tensor> m = new ArrayList<>();
    private final List<Tensor> v = new ArrayList<>();
    private final double beta1, beta2, eps, weightDecay, maxGradNorm;
    private int step;
    private int skipped;

    public AdamW(Backend be, List<Tensor> params, List<Tensor> grads, double beta1, double beta2, double eps,
                 double weightDecay, double maxGradNorm) {
        if (params.size() != grads.size()) {
            throw new IllegalArgumentException(params.size() + " parameters but " + grads.size() + " gradients");
        }
        this.be = be;
        this.params = List.copyOf(params);
        this.grads = List.copyOf(grads);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.maxGradNorm = maxGradNorm;
        for (Tensor p : params) {
            m.add(be.allocate(p.size()));
            v.add(be.allocate(p.size()));
        }
    }

    /** Clips, updates with learning rate lr, and leaves the gradients as they were (the caller zeroes them). */
    public StepResult step(double lr) {
        // all gradients in one call: a device backend sums them where they are (see Kernels#sumOfSquares(List))
        double norm = Math.sqrt(be.sumOfSquares(grads));
        if (!Double.isFinite(norm)) {
            skipped++;
            return new StepResult(norm, false);
        }
        if (maxGradNorm > 0 && norm > maxGradNorm) {
            // torch adds 1e-6 to the norm before dividing
            float clip = (float) (maxGradNorm / (norm + 1e-6));
            for (Tensor g : grads) {
                be.scale(g, clip, g.size());
            }
        }
        step++;
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            be.adamwUpdate(p, grads.get(i), m.get(i), v.get(i), p.size(), (float) lr, (float) beta1, (float) beta2,
                    (float) eps, (float) weightDecay, step);
        }
        return new StepResult(norm, true);
    }

    /** Optimizer steps applied so far (AdamW's bias-correction step count). */
    public int steps() {
        return step;
    }

    /** Steps skipped because the gradients were not finite. */
    public int skippedSteps() {
        return skipped;
    }

    /** The first and second moments, in parameter order (for checkpoints). */
    public List<Tensor> firstMoments() {
        return m;
    }

    public List<Tensor> secondMoments() {
        return v;
    }

    /** Restores the step counts after the moments were uploaded into {@link #firstMoments()}/{@link #secondMoments()}. */
    public void restore(int steps, int skippedSteps) {
        this.step = steps;
        this.skipped = skippedSteps;
    }
}
