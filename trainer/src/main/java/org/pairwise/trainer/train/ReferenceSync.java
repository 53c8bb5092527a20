package org.pairwise.trainer.train;

import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;
import org.pairwise.model.lora.LoraAdapter;

/**
 * TR-DPO's reference update (Gorbatovski et al. 2024, "Learn Your Reference Model for Real Good Alignment"), with
 * TRL's semantics ({@code sync_ref_model}, {@code SyncRefModelCallback}): after every optimizer step whose global step
 * count n is a multiple of τ = {@code ref_model_sync_steps} (skipped steps count, as TRL's {@code global_step}),
 * every parameter of the reference becomes θ_ref ← α θ + (1 − α) θ_ref, α = {@code ref_model_mixup_alpha}: a soft
 * update for α &lt; 1, a hard one (the reference becomes a copy of the policy) for α = 1.
 *
 * <p>What mixing adapters means. Policy and reference share the frozen base weights W and differ in their LoRA
 * parameters, so the update mixes the A matrices and the B matrices, each tensor separately, as TRL mixes every
 * parameter tensor of the two models (mixing the shared W leaves it unchanged). The mixed reference's weight delta
 * s B_ref' A_ref', with A_ref' = αA + (1−α)A_ref and B_ref' = αB + (1−α)B_ref, is therefore α² s BA + (1−α)² s
 * B_ref A_ref + α(1−α) s (B A_ref + B_ref A): not the mix α s BA + (1−α) s B_ref A_ref of the two deltas, because the
 * delta is a product of the parameters and mixing does not commute with the product. This is still TR-DPO's
 * definition: the paper and TRL define the update on the model's parameters (θ), and A and B are the parameters
 * here, exactly what TRL's loop over {@code parameters()} would mix on two PEFT models. It also keeps the reference a
 * rank-r adapter, which the mix of deltas (rank up to 2r) would not be. A hard update (α = 1) is exact either way.
 *
 * <p>The update runs on the backend over each adapter's one flat parameter buffer (its tensors are views of it, laid
 * out alike in both adapters): one scale, one copy, one scale and one add (a copy for α = 1), no per-element Java
 * loop. The reference's cached log-probs are invalidated after each update.
 */
public final class ReferenceSync {
    private final Backend be;
    private final double alpha;
    private final int every;
    private Tensor scratch;

    /** alpha = ref_model_mixup_alpha in [0, 1]; every = ref_model_sync_steps >= 1. */
    public ReferenceSync(Backend be, double alpha, int every) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("ref_model_mixup_alpha must be in [0, 1], got " + alpha);
        }
        if (every < 1) {
            throw new IllegalArgumentException("ref_model_sync_steps must be >= 1, got " + every);
        }
        this.be = be;
        this.alpha = alpha;
        this.every = every;
    }

    /** Whether the optimizer step that brought the count to globalStep updates the reference (TRL's on_step_end). */
    public boolean due(int globalStep) {
        return globalStep % every == 0;
    }

    // reference.adapter() = alpha * policy + (1 - alpha) * reference.adapter(), over each adapter's one flat
    // parameter buffer (elementwise, so the same as tensor by tensor); then the reference log-prob cache is cleared.
    public void update(LoraAdapter policy, ReferenceLogps reference) {
        LoraAdapter ref = reference.adapter();
        Tensor r = ref.parameterBuffer(), p = policy.parameterBuffer();
        if (ref.rank() != policy.rank() || !ref.config().targetModules().equals(policy.config().targetModules())
                || r.size() != p.size()) {
            throw new IllegalArgumentException("the reference adapter (rank " + ref.rank() + " on "
                    + ref.config().targetModules() + ") does not match the policy's (rank " + policy.rank() + " on "
                    + policy.config().targetModules() + ")");
        }
        long n = r.size();
        if (alpha == 1) {
            be.copy(r, 0, p, 0, n);
        } else if (alpha > 0) {
            be.scale(r, (float) (1 - alpha), n);
            Tensor tmp = scratch(n);
            be.copy(tmp, 0, p, 0, n);
            be.scale(tmp, (float) alpha, n);
            be.add(r, tmp, n);
        }
        reference.invalidate();
    }

    // One buffer as large as the adapter, reused for every update.
    private Tensor scratch(long n) {
        if (scratch == null || scratch.size() < n) {
            scratch = be.allocate(n);
        }
        return scratch;
    }
}
