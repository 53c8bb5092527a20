package org.pairwise.trainer.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.pairwise.config.ConfigException;
import org.pairwise.config.Field;
import org.pairwise.config.Schema;
import org.pairwise.config.Type;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.optim.LrSchedule;

/**
 * The training configuration of {@code pairwise train} and the continual trainer. Names, meanings and defaults are
 * those of TRL 1.9's {@code DPOConfig} and the transformers 5 {@code TrainingArguments} it extends (LoRA's: TRL's
 * {@code ModelConfig}) unless a field's help says otherwise, so a TRL user's config file means the same thing here.
 * Every field is declared once, in {@link #SCHEMA}: its name, type, default and help line.
 *
 * <p>In increasing precedence: {@link #defaults()}, a JSON or YAML file ({@link #withFile}, snake_case keys, unknown
 * keys rejected), environment variables {@code PAIRWISE_<UPPER_SNAKE>} ({@link #withEnv}), command-line flags in
 * kebab-case ({@link #withOverrides}); {@link #load} applies all four. {@link #toJson()} is what the trainer writes to
 * {@code output_dir} and {@link #fromJson} reads back the same configuration. Every invalid value fails with a
 * {@link ConfigException} that names its field.
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
        String chatTemplate,
        int seed,
        boolean precomputeRefLogProbs,
        boolean syncRefModel,
        double refModelMixupAlpha,
        int refModelSyncSteps,
        int replayPairsPerStep,
        double voteDecayGamma,
        boolean gradientCheckpointing,
        boolean sharePrompt,
        boolean disableDropout,
        int loraR,
        int loraAlpha,
        double loraDropout,
        List<String> loraTargetModules,
        boolean useRslora) {

    /** The projections our LoRA engine can adapt, in PEFT's names. */
    public static final List<String> LORA_MODULES =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    private static final String DPO = "DPOConfig", ARGS = "TrainingArguments", MODEL = "ModelConfig";

    /** Every field: name (TRL's), type, default, help. */
    public static final Schema<DpoConfig> SCHEMA = Schema.of(DpoConfig.class, "DPO settings (TRL's DPOConfig names)")
            .fields(
            Field.of("output_dir", Type.STRING.labelled("DIR"), "trainer_output",
                    "where checkpoints, metrics and the final adapter go (transformers 5's default)").trl(ARGS),
            Field.of("beta", Type.DOUBLE, 0.1, "how far the policy may move from the reference; for ipo it is IPO's "
                    + "tau").trl(DPO),
            Field.of("loss_type", Type.listOf(Type.choice(LossType.class)), List.of(LossType.SIGMOID), "one or more "
                    + "loss types (a file may give a list, a flag or variable a comma-separated list)").trl(DPO),
            Field.of("loss_weights", Type.listOf(Type.DOUBLE), null, "one weight per loss_type; none: weight 1 each")
                    .allowingNull().trl(DPO),
            Field.of("label_smoothing", Type.DOUBLE, 0.0, "epsilon for cDPO (sigmoid; TRL 0.x semantics, ignored by "
                    + "TRL 1.x), robust ([0, 0.5)), exo_pair (> 0), aot").trl(DPO),
            Field.of("discopop_tau", Type.DOUBLE, 0.05, "DiscoPOP's tau").trl(DPO),
            Field.of("bco_pair_reward_shift", Type.BOOLEAN, false, "ours, not TRL's: true subtracts the running mean "
                    + "of rewards in bco_pair as TRL <= 0.28 did; false is TRL 1.x's bco_pair"),
            Field.of("learning_rate", Type.DOUBLE, 1e-6, "the peak learning rate (DPOConfig's default; "
                    + "TrainingArguments' is 5e-5)").trl(DPO),
            Field.of("lr_scheduler_type", Type.choice(LrSchedule.Kind.class), LrSchedule.Kind.LINEAR,
                    "the learning-rate schedule after warmup").trl(ARGS),
            Field.of("warmup_ratio", Type.DOUBLE, 0.0, "warmup as a fraction of total steps (rounded up), used only "
                    + "when warmup_steps is 0; transformers 5 removed it, TRL users' configs still carry it").trl(ARGS),
            Field.of("warmup_steps", Type.DOUBLE, 0.0, ">= 1: a step count; in (0, 1): a ratio (transformers 5)")
                    .trl(ARGS),
            Field.of("weight_decay", Type.DOUBLE, 0.0, "AdamW's decoupled weight decay").trl(ARGS),
            Field.of("adam_beta1", Type.DOUBLE, 0.9, "AdamW's first-moment decay").trl(ARGS),
            Field.of("adam_beta2", Type.DOUBLE, 0.999, "AdamW's second-moment decay").trl(ARGS),
            Field.of("adam_epsilon", Type.DOUBLE, 1e-8, "AdamW's epsilon").trl(ARGS),
            Field.of("max_grad_norm", Type.DOUBLE, 1.0, "global gradient-norm clipping; 0 disables it").trl(ARGS),
            Field.of("per_device_train_batch_size", Type.INT, 8, "pairs per micro-batch").trl(ARGS),
            Field.of("per_device_eval_batch_size", Type.INT, 8, "pairs per evaluation batch").trl(ARGS),
            Field.of("gradient_accumulation_steps", Type.INT, 1, "micro-batches per optimizer step").trl(ARGS),
            Field.of("num_train_epochs", Type.DOUBLE, 3.0, "passes over the data; may be fractional").trl(ARGS),
            Field.of("max_steps", Type.INT, -1, "when > 0, the number of optimizer steps, overriding the epochs")
                    .trl(ARGS),
            Field.of("logging_steps", Type.INT, 10, "optimizer steps per metrics line (TRL's default; transformers' "
                    + "is 500); an integer, transformers' ratio form (< 1) is not accepted").trl(DPO),
            Field.of("save_steps", Type.INT, 500, "optimizer steps per checkpoint").trl(ARGS),
            Field.of("eval_steps", Type.INT, null, "steps between evaluations when evaluation data is given; none: "
                    + "logging_steps, as transformers").allowingNull().trl(ARGS),
            Field.of("max_length", Type.INT, 1024, "tokens of prompt + completion per sequence; none disables")
                    .allowingNull().trl(DPO),
            Field.of("max_prompt_length", Type.INT, null, "prompt tokens, keeping the end (TRL 0.12-0.28; 0.x "
                    + "defaulted to 512, TRL 1.x removed it, hence off by default)").allowingNull().trl(DPO),
            Field.of("max_completion_length", Type.INT, null, "completion tokens, keeping the start (TRL 0.x; removed "
                    + "in 1.x)").allowingNull().trl(DPO),
            Field.of("truncation_mode", Type.choice(Truncation.Mode.class), Truncation.Mode.KEEP_START, "which end of "
                    + "an over-long sequence max_length keeps (TRL 1.x's default; 0.x defaulted to keep_end)")
                    .trl(DPO),
            Field.of("chat_template", Type.STRING.labelled("FILE"), null, "ours, not DPOConfig's (TRL's SFTConfig "
                    + "has chat_template_path): a Jinja chat template file, the text of tokenizer_config.json's "
                    + "chat_template (or a tokenizer_config.json holding one), used instead of the model's own to "
                    + "render conversational data and prompts; for a model that has none").allowingNull(),
            Field.of("seed", Type.INT, 42, "adapter initialisation and data order").trl(ARGS),
            Field.of("precompute_ref_log_probs", Type.BOOLEAN, false, "compute all reference log-probs once before "
                    + "training").trl(DPO),
            Field.of("sync_ref_model", Type.BOOLEAN, false, "TR-DPO: every ref_model_sync_steps steps the reference "
                    + "adapter becomes alpha * policy + (1 - alpha) * reference, LoRA A and B mixed separately (TRL "
                    + "refuses it with PEFT; here the reference is a frozen adapter)").trl(DPO),
            Field.of("ref_model_mixup_alpha", Type.DOUBLE, 0.6, "TR-DPO's alpha in [0, 1]: 1 is a hard update (the "
                    + "reference becomes the policy)").trl(DPO),
            Field.of("ref_model_sync_steps", Type.INT, 512, "TR-DPO's tau: optimizer steps between reference updates")
                    .trl(DPO),
            Field.of("replay_pairs_per_step", Type.INT, 0, "ours, not TRL's: continual training adds this many pairs "
                    + "trained on in earlier steps to each optimizer step (a replay buffer); 0 = off"),
            Field.of("vote_decay_gamma", Type.DOUBLE, 1.0, "ours, not TRL's: a pair's weight is multiplied by "
                    + "gamma^(current policy version - the pair's version) (NS-DPO's decay), gamma in (0, 1]; 1 = off"),
            Field.of("gradient_checkpointing", Type.BOOLEAN, true, "recompute layer activations in backward instead "
                    + "of keeping them (TRL's default; transformers' is false)").trl(DPO),
            Field.of("share_prompt", Type.BOOLEAN, true, "ours, not TRL's: a pair's chosen and rejected completions "
                    + "attend to one computation of their shared prompt (forward, backward and reference); false "
                    + "computes the prompt for each, as TRL does, with the same results to float rounding"),
            Field.of("disable_dropout", Type.BOOLEAN, true, "no dropout in policy or reference, LoRA's included (TRL "
                    + "disables every dropout module of the PEFT model), so lora_dropout is then only recorded in "
                    + "the adapter config").trl(DPO),
            Field.of("lora_r", Type.INT, 16, "adapter rank").trl(MODEL),
            Field.of("lora_alpha", Type.INT, 32, "LoRA scaling alpha/r, or alpha/sqrt(r) with rsLoRA").trl(MODEL),
            Field.of("lora_dropout", Type.DOUBLE, 0.05, "dropout on the adapter's input").trl(MODEL),
            Field.of("lora_target_modules",
                    Type.listOf(Type.STRING.labelled("MODULE")).withShorthand("all-linear", LORA_MODULES),
                    LORA_MODULES, "projections to adapt: a subset of " + String.join(", ", LORA_MODULES) + ", or "
                    + "all-linear (PEFT's shorthand for all seven; TRL leaves it to PEFT's per-model default, "
                    + "q_proj,v_proj for Llama, we adapt all)").trl(MODEL),
            Field.of("use_rslora", Type.BOOLEAN, false, "rank-stabilised scaling alpha/sqrt(r)").trl(MODEL))
            .build();

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
        if (!(refModelMixupAlpha >= 0 && refModelMixupAlpha <= 1)) {
            throw bad("ref_model_mixup_alpha", "must be in [0, 1], got " + refModelMixupAlpha);
        }
        atLeast(1, refModelSyncSteps, "ref_model_sync_steps");
        if (syncRefModel && precomputeRefLogProbs) {
            // As TRL: log-probs of a reference that moves cannot be computed once up front.
            throw bad("sync_ref_model", "cannot be combined with precompute_ref_log_probs");
        }
        atLeast(0, replayPairsPerStep, "replay_pairs_per_step");
        if (!(voteDecayGamma > 0 && voteDecayGamma <= 1)) {
            throw bad("vote_decay_gamma", "must be in (0, 1], got " + voteDecayGamma);
        }
        if (voteDecayGamma < 1 && lossType.stream().anyMatch(LossType::couplesPairs)) {
            throw bad("vote_decay_gamma", "decayed pair weights do not apply to loss_type " + lossType
                    + " (aot pairs sorted positions across the batch)");
        }
        // The loss parameters and truncation limits validate themselves, naming their fields.
        new DpoLoss.Params(lossType, lossWeights, beta, labelSmoothing, discopopTau, bcoPairRewardShift);
        new Truncation(maxLength, maxPromptLength, maxCompletionLength, truncationMode);
    }

    /** Every field at its default. */
    public static DpoConfig defaults() {
        return SCHEMA.defaults();
    }

    /** The snake_case names of all fields, in declaration order (for wiring flags). */
    public static List<String> fieldNames() {
        return SCHEMA.fields().stream().map(Field::name).toList();
    }

    /** This configuration with one field set from its text form; {@code name} is snake_case or kebab-case. */
    public DpoConfig with(String name, String value) {
        return withOverrides(Map.of(name, value));
    }

    /** This configuration with fields set from text (command-line flags); names snake_case or kebab-case. */
    public DpoConfig withOverrides(Map<String, String> overrides) {
        return SCHEMA.with(this, overrides);
    }

    /** This configuration with every {@code PAIRWISE_<UPPER_SNAKE>} variable applied; other variables are ignored. */
    public DpoConfig withEnv(Map<String, String> env) {
        return SCHEMA.withEnv(this, env);
    }

    /** This configuration overlaid with a JSON or YAML file ({@code .yaml}/{@code .yml} read as YAML). */
    public DpoConfig withFile(Path file) throws IOException {
        return SCHEMA.withFile(this, file);
    }

    /** defaults, then {@code file} (may be null), then {@code env}, then {@code flags}. */
    public static DpoConfig load(Path file, Map<String, String> env, Map<String, String> flags) throws IOException {
        return SCHEMA.load(file, env, flags);
    }

    /** All fields as one JSON object with snake_case keys, in declaration order. */
    public String toJson() {
        return SCHEMA.toJson(this);
    }

    /** The configuration a {@link #toJson()} wrote; missing keys take their defaults, unknown keys fail. */
    public static DpoConfig fromJson(String json) {
        return SCHEMA.fromJson(json);
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

    static ConfigException bad(String field, String why) {
        return new ConfigException(field, field + ": " + why);
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
