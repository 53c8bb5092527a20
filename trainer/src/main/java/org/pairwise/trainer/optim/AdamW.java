package org.pairwise.trainer.optim;

import java.util.List;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.TensorView;

/**
 * AdamW over a list of parameters and their gradients (same order), with the global gradient-norm clipping of
 * torch.nn.utils.clip_grad_norm_ in front of it, as transformers' Trainer runs them. The parameters are consecutive
 * views of one flat buffer (as {@link org.pairwise.model.lora.LoraAdapter#parameters()} are) and so are the gradients,
 * in the same layout; the moments get that layout too, so the norm, the clipping and the update are one call each
 * over the whole buffer (llm.c's update over params_memory). A step whose gradients are not finite is skipped:
 * parameters and moments stay as they were, so the weights never become NaN.
 */
public final class AdamW {
    /** What a step did: the gradient norm before clipping (TRL's grad_norm) and whether it was applied. */
    public record StepResult(double gradNorm, boolean applied) {}

    private final Backend be;
    private final Tensor params;
    private final Tensor grads;
    private final Tensor m;
    private final Tensor v;
    private final List<Tensor> mViews;
    private final List<Tensor> vViews;
    private final double beta1, beta2, eps, weightDecay, maxGradNorm;
    private int step;
    private int skipped;

    public AdamW(Backend be, List<Tensor> params, List<Tensor> grads, double beta1, double beta2, double eps,
                 double weightDecay, double maxGradNorm) {
        if (params.size() != grads.size()) {
            throw new IllegalArgumentException(params.size() + " parameters but " + grads.size() + " gradients");
        }
        long[] sizes = new long[params.size()];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = params.get(i).size();
            if (grads.get(i).size() != sizes[i]) {
                throw new IllegalArgumentException("parameter " + i + " has " + sizes[i] + " floats, its gradient "
                        + grads.get(i).size());
            }
        }
        this.be = be;
        this.params = TensorView.tiled(params);
        this.grads = TensorView.tiled(grads);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.maxGradNorm = maxGradNorm;
        this.m = be.allocate(this.params.size());
        this.v = be.allocate(this.params.size());
        this.mViews = TensorView.tile(be, m, sizes);
        this.vViews = TensorView.tile(be, v, sizes);
    }

    /** Clips, updates with learning rate lr, and leaves the gradients as they were (the caller zeroes them). */
    public StepResult step(double lr) {
        long n = params.size();
        double norm = Math.sqrt(be.sumOfSquares(grads, n));
        if (!Double.isFinite(norm)) {
            skipped++;
            return new StepResult(norm, false);
        }
        if (maxGradNorm > 0 && norm > maxGradNorm) {
            // torch adds 1e-6 to the norm before dividing
            be.scale(grads, (float) (maxGradNorm / (norm + 1e-6)), n);
        }
        step++;
        be.adamwUpdate(params, grads, m, v, n, (float) lr, (float) beta1, (float) beta2, (float) eps,
                (float) weightDecay, step);
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

    /** The first and second moments, in parameter order (views of the moment buffers; for checkpoints). */
    public List<Tensor> firstMoments() {
        return mViews;
    }

    public List<Tensor> secondMoments() {
        return vViews;
    }

    /** The moments' flat buffers, laid out as the parameters' buffer. */
    public Tensor firstMomentBuffer() {
        return m;
    }

    public Tensor secondMomentBuffer() {
        return v;
    }

    /** Restores the step counts after the moments were uploaded into {@link #firstMoments()}/{@link #secondMoments()}. */
    public void restore(int steps, int skippedSteps) {
        this.step = steps;
        this.skipped = skippedSteps;
    }
}
