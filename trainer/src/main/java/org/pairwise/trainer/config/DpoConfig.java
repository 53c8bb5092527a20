package org.pairwise.trainer.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.optim.LrSchedule;

/**
 * The training configuration of {@code pairwise train} and the continual trainer. Names, meanings and defaults are
 * those of TRL 1.9's {@code DPOConfig} and the transformers 5 {@code TrainingArguments} it extends, unless a field
 * says otherwise, so a TRL user's config file means the same thing here.
 *
 * <p>One source of truth, in increasing precedence: {@link #defaults()}, a JSON or YAML file ({@link #withFile},
 * snake_case keys, unknown keys rejected), environment variables {@code PAIRWISE_<UPPER_SNAKE>} ({@link #withEnv}),
 * command-line flags in kebab-case ({@link #withOverrides}); {@link #load} applies all four. {@link #toJson()} is what
 * the trainer writes to {@code output_dir} and {@link #fromJson} reads back the same configuration. Every invalid value
 * fails with an {@link IllegalArgumentException} that names its field.
 *
 * @param outputDir {@code output_dir}, default {@code "trainer_output"} (transformers 5's default): where checkpoints,
 *     metrics and the final adapter go.
 * @param beta {@code beta}, default 0.1: how far the policy may move from the reference; for ipo it is IPO's τ.
 * @param lossType {@code loss_type}, default {@code [sigmoid]}: one or more {@link LossType} names; a file may give a
 *     list, a flag or variable a comma-separated list.
 * @param lossWeights {@code loss_weights}, default null (weight 1 for every loss type): same length as loss_type.
 * @param labelSmoothing {@code label_smoothing}, default 0: ε for cDPO ({@code sigmoid}; TRL 0.x semantics, ignored by
 *     TRL 1.x), robust ([0, 0.5)), exo_pair (&gt; 0), aot.
 * @param discopopTau {@code discopop_tau}, default 0.05: DiscoPOP's τ.
 * @param bcoPairRewardShift {@code bco_pair_reward_shift}, default false. Ours, not TRL's: true subtracts the running
 *     mean of rewards in bco_pair as TRL ≤ 0.28 did; false is TRL 1.x's bco_pair.
 * @param learningRate {@code learning_rate}, default 1e-6 (DPOConfig's; TrainingArguments' is 5e-5): the peak rate.
 * @param lrSchedulerType {@code lr_scheduler_type}, default {@code linear}: linear, cosine, constant,
 *     constant_with_warmup.
 * @param warmupRatio {@code warmup_ratio}, default 0: warmup as a fraction of total steps (ceil), used only when
 *     warmup_steps is 0. transformers 5 removed it; kept because TRL users' configs still carry it.
 * @param warmupSteps {@code warmup_steps}, default 0: ≥ 1 a step count, in (0, 1) a ratio (transformers 5).
 * @param weightDecay {@code weight_decay}, default 0: AdamW's decoupled weight decay.
 * @param adamBeta1 {@code adam_beta1}, default 0.9.
 * @param adamBeta2 {@code adam_beta2}, default 0.999.
 * @param adamEpsilon {@code adam_epsilon}, default 1e-8.
 * @param maxGradNorm {@code max_grad_norm}, default 1.0: global gradient-norm clipping; 0 disables it.
 * @param perDeviceTrainBatchSize {@code per_device_train_batch_size}, default 8: pairs per micro-batch.
 * @param perDeviceEvalBatchSize {@code per_device_eval_batch_size}, default 8.
 * @param gradientAccumulationSteps {@code gradient_accumulation_steps}, default 1: micro-batches per optimizer step.
 * @param numTrainEpochs {@code num_train_epochs}, default 3.0: may be fractional, as in transformers.
 * @param maxSteps {@code max_steps}, default -1: when &gt; 0, the number of optimizer steps, overriding the epochs.
 * @param loggingSteps {@code logging_steps}, default 10 (TRL's; transformers' is 500): optimizer steps per log line.
 *     Ours is an integer; transformers' ratio form (&lt; 1) is not accepted.
 * @param saveSteps {@code save_steps}, default 500: optimizer steps per checkpoint.
 * @param evalSteps {@code eval_steps}, default null (= logging_steps, as transformers): steps between evaluations
 *     when evaluation data is given.
 * @param maxLength {@code max_length}, default 1024: tokens of prompt + completion per sequence; null disables.
 * @param maxPromptLength {@code max_prompt_length}, default null: prompt tokens, keeping the end (TRL 0.12–0.28; 0.x
 *     defaulted to 512, TRL 1.x removed it, hence off by default). See {@link Truncation}.
 * @param maxCompletionLength {@code max_completion_length}, default null: completion tokens, keeping the start (TRL
 *     0.x; removed in 1.x).
 * @param truncationMode {@code truncation_mode}, default {@code keep_start} (TRL 1.x; 0.x defaulted to keep_end):
 *     which end of an over-long sequence max_length keeps.
 * @param seed {@code seed}, default 42: adapter initialisation and data order.
 * @param precomputeRefLogProbs {@code precompute_ref_log_probs}, default false: compute all reference log-probs once
 *     before training.
 * @param gradientCheckpointing {@code gradient_checkpointing}, default true (TRL's; transformers' is false):
 *     recompute layer activations in backward instead of keeping them.
 * @param disableDropout {@code disable_dropout}, default true (TRL's): no dropout in policy or reference, LoRA dropout
 *     included (TRL disables every dropout module of the PEFT model), so lora_dropout is only recorded in the
 *     adapter config unless this is false.
 * @param loraR {@code lora_r}, default 16 (TRL's {@code ModelConfig}): adapter rank.
 * @param loraAlpha {@code lora_alpha}, default 32 (TRL's {@code ModelConfig}): scaling alpha/r, or alpha/√r with
 *     rsLoRA.
 * @param loraDropout {@code lora_dropout}, default 0.05 (TRL's {@code ModelConfig}).
 * @param loraTargetModules {@code lora_target_modules}, default all seven projections (TRL leaves it to PEFT's
 *     per-model default, q_proj and v_proj for Llama; we default to all, as the issue asks): a subset of q_proj,
 *     k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj; {@code all-linear} (PEFT's shorthand) means all seven.
 * @param useRslora {@code use_rslora}, default false: rank-stabilised scaling alpha/√r.
 */
public record DpoConfig(
        String outputDir,
        double beta,
        List<LossType> lossType,
        List<Double> lossWeights,
        double labelSmoothing,
        double discopopTau,
        boolean bcoPairRewardShift,
        double learningRate,
        LrSchedule.Kind lrSchedulerType,
        double warmupRatio,
        double warmupSteps,
        double weightDecay,
        double adamBeta1,
        double adamBeta2,
        double adamEpsilon,
        double maxGradNorm,
        int perDeviceTrainBatchSize,
        int perDeviceEvalBatchSize,
        int gradientAccumulationSteps,
        double numTrainEpochs,
        int maxSteps,
        int loggingSteps,
        int saveSteps,
        Integer evalSteps,
        Integer maxLength,
        Integer maxPromptLength,
        Integer maxCompletionLength,
        Truncation.Mode truncationMode,
        int seed,
        boolean precomputeRefLogProbs,
        boolean gradientCheckpointing,
        boolean disableDropout,
        int loraR,
        int loraAlpha,
        double loraDropout,
        List<String> loraTargetModules,
        boolean useRslora) {

    /** The projections our LoRA engine can adapt, in PEFT's names. */
    public static final List<String> LORA_MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /** The prefix of the environment variables that override fields. */
    public static final String ENV_PREFIX = "PAIRWISE_";

    public DpoConfig {
        if (outputDir == null || outputDir.isBlank()) {
            throw bad("output_dir", "must not be empty");
        }
        lossType = List.copyOf(required(lossType, "loss_type"));
        lossWeights = lossWeights == null ? null : List.copyOf(lossWeights);
        required(lrSchedulerType, "lr_scheduler_type");
        required(truncationMode, "truncation_mode");
        atLeast(0.0, learningRate, "learning_rate");
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
            throw bad("warmup_ratio", "must be in [0, 1], got " + warmupRatio);
        }
        atLeast(0.0, warmupSteps, "warmup_steps");
        atLeast(0.0, weightDecay, "weight_decay");
        unitInterval(adamBeta1, "adam_beta1");
        unitInterval(adamBeta2, "adam_beta2");
        if (!(adamEpsilon > 0) || !Double.isFinite(adamEpsilon)) {
            throw bad("adam_epsilon", "must be > 0, got " + adamEpsilon);
        }
        atLeast(0.0, maxGradNorm, "max_grad_norm");
        atLeast(1, perDeviceTrainBatchSize, "per_device_train_batch_size");
        atLeast(1, perDeviceEvalBatchSize, "per_device_eval_batch_size");
        atLeast(1, gradientAccumulationSteps, "gradient_accumulation_steps");
        if (!(numTrainEpochs > 0) || !Double.isFinite(numTrainEpochs)) {
            throw bad("num_train_epochs", "must be > 0, got " + numTrainEpochs);
        }
        atLeast(1, loggingSteps, "logging_steps");
        atLeast(1, saveSteps, "save_steps");
        if (evalSteps != null) {
            atLeast(1, evalSteps, "eval_steps");
        }
        atLeast(1, loraR, "lora_r");
        atLeast(1, loraAlpha, "lora_alpha");
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw bad("lora_dropout", "must be in [0, 1), got " + loraDropout);
        }
        loraTargetModules = List.copyOf(required(loraTargetModules, "lora_target_modules"));
        if (loraTargetModules.isEmpty()) {
            throw bad("lora_target_modules", "must name at least one module");
        }
        for (String m : loraTargetModules) {
            if (!LORA_MODULES.contains(m)) {
                throw bad("lora_target_modules", "unknown module '" + m + "'; valid: " + String.join(", ",
                        LORA_MODULES));
            }
        }
        // The loss parameters and truncation limits validate themselves, naming their fields.
        new DpoLoss.Params(lossType, lossWeights, beta, labelSmoothing, discopopTau, bcoPairRewardShift);
        new Truncation(maxLength, maxPromptLength, maxCompletionLength, truncationMode);
    }

    /** Every field at its default (see the field list above). */
    public static DpoConfig defaults() {
        return new DpoConfig("trainer_output", 0.1, List.of(LossType.SIGMOID), null, 0.0, 0.05, false,
                1e-6, LrSchedule.Kind.LINEAR, 0.0, 0.0, 0.0, 0.9, 0.999, 1e-8, 1.0,
                8, 8, 1, 3.0, -1, 10, 500, null,
                1024, null, null, Truncation.Mode.KEEP_START, 42, false, true, true,
                16, 32, 0.05, LORA_MODULES, false);
    }

    /** The snake_case names of all fields, in declaration order (for wiring flags). */
    public static List<String> fieldNames() {
        return ConfigCodec.FIELDS.stream().map(ConfigCodec.Field::snake).toList();
    }

    /** This configuration with one field set from its text form; {@code name} is snake_case or kebab-case. */
    public DpoConfig with(String name, String value) {
        return withOverrides(Map.of(name, value));
    }

    /** This configuration with fields set from text (command-line flags); names snake_case or kebab-case. */
    public DpoConfig withOverrides(Map<String, String> overrides) {
        Map<String, Object> values = ConfigCodec.toMap(this);
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String name = e.getKey().replace('-', '_');
            ConfigCodec.Field f = ConfigCodec.field(name, "unknown option '" + e.getKey() + "'");
            values.put(f.snake(), ConfigCodec.parse(f, e.getValue()));
        }
        return ConfigCodec.fromMap(values);
    }

    /** This configuration with every {@code PAIRWISE_<UPPER_SNAKE>} variable applied; other variables are ignored. */
    public DpoConfig withEnv(Map<String, String> env) {
        Map<String, Object> values = ConfigCodec.toMap(this);
        for (ConfigCodec.Field f : ConfigCodec.FIELDS) {
            String key = ENV_PREFIX + f.snake().toUpperCase(java.util.Locale.ROOT);
            if (env.containsKey(key)) {
                try {
                    values.put(f.snake(), ConfigCodec.parse(f, env.get(key)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
                }
            }
        }
        return ConfigCodec.fromMap(values);
    }

    /** This configuration overlaid with a JSON or YAML file ({@code .yaml}/{@code .yml} read as YAML). */
    public DpoConfig withFile(Path file) throws IOException {
        return ConfigCodec.overlayFile(this, file);
    }

    /** defaults, then {@code file} (may be null), then {@code env}, then {@code flags}. */
    public static DpoConfig load(Path file, Map<String, String> env, Map<String, String> flags) throws IOException {
        DpoConfig c = defaults();
        if (file != null) {
            c = c.withFile(file);
        }
        return c.withEnv(env).withOverrides(flags);
    }

    /** All fields as one JSON object with snake_case keys, in declaration order. */
    public String toJson() {
        return ConfigCodec.toJson(this);
    }

    /** The configuration a {@link #toJson()} wrote; missing keys take their defaults, unknown keys fail. */
    public static DpoConfig fromJson(String json) {
        return ConfigCodec.overlayJson(defaults(), json, "json");
    }

    /** The loss parameters for {@link DpoLoss}. */
    public DpoLoss.Params lossParams() {
        return new DpoLoss.Params(lossType, lossWeights, beta, labelSmoothing, discopopTau, bcoPairRewardShift);
    }

    /** The truncation TRL would apply to tokenized examples. */
    public Truncation truncation() {
        return new Truncation(maxLength, maxPromptLength, maxCompletionLength, truncationMode);
    }

    /** The learning-rate schedule for a run of {@code totalSteps} optimizer steps. */
    public LrSchedule lrSchedule(int totalSteps) {
        return LrSchedule.of(lrSchedulerType, learningRate, totalSteps, warmupSteps, warmupRatio);
    }

    /** LoRA's output scaling: lora_alpha / r, or lora_alpha / √r with rsLoRA (PEFT's rule). */
    public double loraScaling() {
        return useRslora ? loraAlpha / Math.sqrt(loraR) : (double) loraAlpha / loraR;
    }

    /** eval_steps, or logging_steps when unset (transformers' rule). */
    public int effectiveEvalSteps() {
        return evalSteps != null ? evalSteps : loggingSteps;
    }

    static IllegalArgumentException bad(String field, String why) {
        return new IllegalArgumentException(field + ": " + why);
    }

    private static <T> T required(T v, String field) {
        if (v == null) {
            throw bad(field, "must be set");
        }
        return v;
    }

    private static void atLeast(int min, int v, String field) {
        if (v < min) {
            throw bad(field, "must be >= " + min + ", got " + v);
        }
    }

    private static void atLeast(double min, double v, String field) {
        if (!(v >= min) || !Double.isFinite(v)) {
            throw bad(field, "must be >= " + min + ", got " + v);
        }
    }

    private static void unitInterval(double v, String field) {
        if (!(v >= 0 && v < 1)) {
            throw bad(field, "must be in [0, 1), got " + v);
        }
    }
}
