package org.pairwise.trainer.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.Tensor;
import org.pairwise.model.load.Safetensors;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.optim.AdamW;

/**
 * A training checkpoint directory, as transformers' Trainer lays one out: the PEFT adapter (adapter_config.json,
 * adapter_model.safetensors), the optimizer moments (optimizer.safetensors, exp_avg/exp_avg_sq under the adapter's
 * keys) and trainer_state.json (steps, data position, log history, the replay buffer's state); with TR-DPO's
 * sync_ref_model also the reference adapter, a PEFT adapter of its own in {@value #REFERENCE_DIR}/. The scheduler
 * position is the step count, and the data order is a function of the seed and the epoch, so these files are the
 * whole state.
 */
public final class TrainerCheckpoint {
    public static final String STATE_FILE = "trainer_state.json";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    /** The subdirectory that holds the reference adapter when it follows the policy (sync_ref_model). */
    public static final String REFERENCE_DIR = "ref_adapter";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Where training stands after an optimizer step. Offline runs track the data position (epoch, micro-batch);
     * the continual trainer tracks the last vote it trained on, the policy version it published and its replay
     * buffer's state (empty without one).
     */
    public record State(int globalStep, int optimizerSkippedSteps, int epochIndex, int microBatchesInEpoch,
                        double epoch, long numTokens, Map<String, Double> bcoMoments, List<Map<String, Object>> logHistory,
                        long lastVoteId, int policyVersion, Map<String, Object> replay) {}

    private TrainerCheckpoint() {}

    /** reference: the adapter to keep in {@value #REFERENCE_DIR}/, or null when the reference does not move. */
    public static void save(Path dir, LoraAdapter adapter, LoraAdapter reference, AdamW optimizer, State state,
                            Backend be) throws IOException {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        adapter.save(tmp, be);
        if (reference != null) {
            reference.save(tmp.resolve(REFERENCE_DIR), be);
        }
        List<TensorData> moments = new ArrayList<>();
        List<String> names = new ArrayList<>(adapter.namedParameters().keySet());
        for (int i = 0; i < names.size(); i++) {
            moments.add(Tensors.of("exp_avg." + names.get(i), DType.F32, new long[] {optimizer.firstMoments().get(i).size()},
                    be.download(optimizer.firstMoments().get(i))));
            moments.add(Tensors.of("exp_avg_sq." + names.get(i), DType.F32,
                    new long[] {optimizer.secondMoments().get(i).size()}, be.download(optimizer.secondMoments().get(i))));
        }
        SafetensorsWriter.write(tmp.resolve(OPTIMIZER_FILE), moments,
                Map.of("step", Integer.toString(optimizer.steps())));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("global_step", state.globalStep());
        json.put("epoch", state.epoch());
        json.put("optimizer_steps", optimizer.steps());
        json.put("optimizer_skipped_steps", state.optimizerSkippedSteps());
        json.put("epoch_index", state.epochIndex());
        json.put("micro_batches_in_epoch", state.microBatchesInEpoch());
        json.put("num_tokens", state.numTokens());
        json.put("bco_moments", state.bcoMoments());
        json.put("last_vote_id", state.lastVoteId());
        json.put("policy_version", state.policyVersion());
        json.put("replay", state.replay());
        json.put("log_history", state.logHistory());
        Files.writeString(tmp.resolve(STATE_FILE), MAPPER.writeValueAsString(json));
        // The directory appears whole or not at all: a crash mid-save never leaves a checkpoint that looks complete.
        deleteRecursively(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads the state and fills the optimizer's moments (the adapter is loaded by the caller from the same dir). */
    @SuppressWarnings("unchecked")
    public static State load(Path dir, LoraAdapter adapter, AdamW optimizer, Backend be) throws IOException {
        Path stateFile = dir.resolve(STATE_FILE);
        if (!Files.isRegularFile(stateFile)) {
            throw new IOException(dir + " is not a training checkpoint (no " + STATE_FILE + ")");
        }
        Map<String, Object> json = MAPPER.readValue(Files.readString(stateFile), Map.class);
        try (Arena arena = Arena.ofConfined()) {
            Map<String, TensorData> t = Safetensors.read(dir.resolve(OPTIMIZER_FILE), arena);
            List<String> names = new ArrayList<>(adapter.namedParameters().keySet());
            for (int i = 0; i < names.size(); i++) {
                fill(be, optimizer.firstMoments().get(i), t.get("exp_avg." + names.get(i)), names.get(i));
                fill(be, optimizer.secondMoments().get(i), t.get("exp_avg_sq." + names.get(i)), names.get(i));
            }
        }
        int steps = ((Number) json.get("optimizer_steps")).intValue();
        int skipped = ((Number) json.get("optimizer_skipped_steps")).intValue();
        optimizer.restore(steps, skipped);
        Map<String, Double> bco = new LinkedHashMap<>();
        ((Map<String, Object>) json.getOrDefault("bco_moments", Map.of()))
                .forEach((k, v) -> bco.put(k, ((Number) v).doubleValue()));
        return new State(((Number) json.get("global_step")).intValue(), skipped,
                ((Number) json.get("epoch_index")).intValue(), ((Number) json.get("micro_batches_in_epoch")).intValue(),
                ((Number) json.get("epoch")).doubleValue(), ((Number) json.get("num_tokens")).longValue(), bco,
                (List<Map<String, Object>>) json.getOrDefault("log_history", List.of()),
                ((Number) json.getOrDefault("last_vote_id", 0)).longValue(),
                ((Number) json.getOrDefault("policy_version", 0)).intValue(),
                (Map<String, Object>) json.getOrDefault("replay", Map.of()));
    }

    private static void fill(Backend be, Tensor dst, TensorData src, String name) {
        if (src == null || src.numel() != dst.size()) {
            throw new IllegalArgumentException("optimizer state for " + name + " is missing or has the wrong size");
        }
        be.upload(dst, 0, DTypes.toFloats(src.data(), src.dtype(), (int) src.numel()), 0, (int) src.numel());
    }

    /** The checkpoint-N directory with the highest N under root that has a complete state file, or null. */
    public static Path latest(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return null;
        }
        Path best = null;
        int bestStep = -1;
        try (var dirs = Files.list(root)) {
            for (Path d : dirs.toList()) {
                String name = d.getFileName().toString();
                if (name.matches("checkpoint-\\d+") && Files.isRegularFile(d.resolve(STATE_FILE))) {
                    int step = Integer.parseInt(name.substring("checkpoint-".length()));
                    if (step > bestStep) {
                        bestStep = step;
                        best = d;
                    }
                }
            }
        }
        return best;
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
