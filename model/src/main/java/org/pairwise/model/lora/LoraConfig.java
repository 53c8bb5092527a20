package org.pairwise.model.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A LoRA adapter's settings with PEFT's adapter_config.json names and meaning.
 *
 * @param targetModules projection names among q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj
 * @param useRslora     scale by alpha/sqrt(r) instead of alpha/r
 */
public record LoraConfig(int r, double loraAlpha, List<String> targetModules, double loraDropout, boolean useRslora,
                         String baseModelNameOrPath) {
    public static final List<String> ALL_TARGETS =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("LoRA r must be positive, got " + r);
        }
        for (String t : targetModules) {
            if (!ALL_TARGETS.contains(t)) {
                throw new IllegalArgumentException("unsupported LoRA target module '" + t + "' (supported: " + ALL_TARGETS + ")");
            }
        }
        targetModules = List.copyOf(targetModules);
    }

    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static LoraConfig parse(String json) {
        JsonNode n;
        try {
            n = MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException("adapter_config.json is not valid JSON: " + e.getMessage());
        }
        String type = n.path("peft_type").asText("LORA");
        if (!type.equals("LORA")) {
            throw new IllegalArgumentException("adapter peft_type " + type + " is not supported (only LORA)");
        }
        if (n.path("rank_pattern").size() > 0 || n.path("alpha_pattern").size() > 0) {
            throw new IllegalArgumentException("adapters with rank_pattern/alpha_pattern are not supported");
        }
        if (n.path("fan_in_fan_out").asBoolean(false)) {
            throw new IllegalArgumentException("fan_in_fan_out adapters (GPT-2 Conv1D) are not supported");
        }
        if (n.path("use_dora").asBoolean(false)) {
            throw new IllegalArgumentException("DoRA adapters (use_dora) are not supported");
        }
        if (!n.path("bias").asText("none").equals("none")) {
            throw new IllegalArgumentException("adapters with trained biases (bias != \"none\") are not supported");
        }
        List<String> targets = new ArrayList<>();
        JsonNode t = n.path("target_modules");
        if (t.isArray()) {
            t.forEach(x -> targets.add(x.asText()));
        } else if (t.isTextual() && t.asText().equals("all-linear")) {
            targets.addAll(ALL_TARGETS);
        } else {
            throw new IllegalArgumentException("target_modules must be a list of module names or \"all-linear\"");
        }
        return new LoraConfig(n.path("r").asInt(8), n.path("lora_alpha").asDouble(8), targets,
                n.path("lora_dropout").asDouble(0), n.path("use_rslora").asBoolean(false),
                n.path("base_model_name_or_path").isTextual() ? n.get("base_model_name_or_path").asText() : null);
    }

    /** adapter_config.json with the fields PEFT's LoraConfig writes, so peft loads it unchanged. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alpha_pattern", Map.of());
        m.put("auto_mapping", null);
        m.put("base_model_name_or_path", baseModelNameOrPath);
        m.put("bias", "none");
        m.put("fan_in_fan_out", false);
        m.put("inference_mode", true);
        m.put("init_lora_weights", true);
        m.put("layers_pattern", null);
        m.put("layers_to_transform", null);
        m.put("lora_alpha", loraAlpha == Math.rint(loraAlpha) ? (Object) (long) loraAlpha : (Object) loraAlpha);
        m.put("lora_dropout", loraDropout);
        m.put("modules_to_save", null);
        m.put("peft_type", "LORA");
        m.put("r", r);
        m.put("rank_pattern", Map.of());
        m.put("revision", null);
        m.put("target_modules", targetModules);
        m.put("task_type", "CAUSAL_LM");
        m.put("use_dora", false);
        m.put("use_rslora", useRslora);
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(m);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** PEFT's module path of a projection: self_attn.* for attention, mlp.* for the MLP. */
    public static String modulePath(String projection) {
        return (projection.endsWith("_proj") && (projection.startsWith("gate") || projection.startsWith("up")
                || projection.startsWith("down")) ? "mlp." : "self_attn.") + projection;
    }

    /** The PEFT safetensors key of layer i's lora_A or lora_B ("A"/"B") for a projection. */
    public static String key(int layer, String projection, String ab) {
        return "base_model.model.model.layers." + layer + "." + modulePath(projection) + ".lora_" + ab + ".weight";
    }
}
