package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.DType;
import org.pairwise.model.SharedModels;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.model.lora.LoraConfig;

class CliTest {
    static final String REFERENCE_40 = "403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 "
            + "410 408 419 292 411 322 265 282 295 433 426 385 328 432 358 394 261 370 432 352";

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    static String stories(String file) {
        return SharedModels.require("stories260K/" + file).toString();
    }

    static void assertOneLineError(Result r, String expected) {
        assertEquals(1, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line: " + r.err());
        assertTrue(lines[0].startsWith("pairwise: error: ") && lines[0].contains(expected), r.err());
    }

    @Test
    void generateJsonGivesTheReferenceGreedyIdsAndTheirLogprobsEqualScoring() throws Exception {
        Result g = run("generate", "--model", stories("stories260K.gguf"), "--greedy", "--max-new-tokens", "40", "--json");
        assertEquals(0, g.code(), g.err());
        JsonNode json = Json.MAPPER.readTree(g.out());
        StringBuilder ids = new StringBuilder();
        double sum = 0;
        for (int i = 0; i < json.get("token_ids").size(); i++) {
            ids.append(i == 0 ? "" : " ").append(json.get("token_ids").get(i).asInt());
            sum += json.get("logprobs").get(i).asDouble();
        }
        assertEquals(REFERENCE_40, ids.toString());
        assertEquals("[1]", json.get("prompt_ids").toString());
        assertTrue(json.get("text").asText().startsWith("Once upon a time, there was a little girl named Lily."));

        // The fused log-prob kernel (score) and the full-logits path (generate) must agree on the same tokens.
        Path data = tmp.resolve("greedy.jsonl");
        Files.writeString(data, "{\"prompt_input_ids\":[1],\"chosen_input_ids\":" + json.get("token_ids")
                + ",\"rejected_input_ids\":[403,407]}\n");
        Path out = tmp.resolve("scores.jsonl");
        Result s = run("score", "--model", stories("stories260K.bin"), "--data", data.toString(), "--out", out.toString());
        assertEquals(0, s.code(), s.err());
        JsonNode rec = Json.MAPPER.readTree(Files.readAllLines(out).getFirst());
        assertEquals(sum, rec.get("chosen_logps").asDouble(), 1e-3);
        assertEquals(40, rec.get("chosen_tokens").asInt());
        assertEquals(json.get("logprobs").get(0).asDouble() + json.get("logprobs").get(1).asDouble(),
                rec.get("rejected_logps").asDouble(), 1e-4);
    }

    @Test
    void scoreReadsStandardImplicitAndPretokenizedRecordsAlike() throws Exception {
        String model = stories("stories260K.gguf");
        Result tp = run("tokenize", "--model", model, "--text", "Once upon a time", "--no-special-tokens", "--json");
        Result tc = run("tokenize", "--model", model, "--text", " there was a cat.", "--no-special-tokens", "--json");
        Result tr = run("tokenize", "--model", model, "--text", " there was a dog.", "--no-special-tokens", "--json");
        JsonNode p = Json.MAPPER.readTree(tp.out()).get("ids");
        JsonNode c = Json.MAPPER.readTree(tc.out()).get("ids");
        JsonNode r = Json.MAPPER.readTree(tr.out()).get("ids");
        // TRL: completions get EOS (2) appended; prompt and completions are tokenized separately.
        String cIds = c.toString().replace("]", ",2]"), rIds = r.toString().replace("]", ",2]");
        Path data = tmp.resolve("formats.jsonl");
        Files.write(data, List.of(
                "{\"prompt\":\"Once upon a time\",\"chosen\":\" there was a cat.\",\"rejected\":\" there was a dog.\"}",
                "",
                "{\"prompt_ids\":" + p + ",\"chosen_ids\":" + cIds + ",\"rejected_ids\":" + rIds + "}",
                "{\"chosen\":\"Once upon a time there was a cat.\",\"rejected\":\"Once upon a time there was a dog.\"}"));
        Path out = tmp.resolve("scores.jsonl");
        Result s = run("score", "--model", model, "--data", data.toString(), "--out", out.toString());
        assertEquals(0, s.code(), s.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size());
        JsonNode a = Json.MAPPER.readTree(lines.get(0)), b = Json.MAPPER.readTree(lines.get(1));
        assertEquals(1, a.get("line").asInt());
        assertEquals(3, b.get("line").asInt());
        for (String f : List.of("chosen_logps", "rejected_logps", "chosen_tokens", "prompt_tokens")) {
            assertEquals(a.get(f).asDouble(), b.get(f).asDouble(), 1e-5, f);
        }
        assertEquals(c.size() + 1, a.get("chosen_tokens").asInt());
        assertTrue(a.get("chosen_logps").asDouble() < 0);
        // Implicit prompt: the shared prefix "Once upon a time there was a" is the prompt; completions " cat." / " dog."
        JsonNode implicit = Json.MAPPER.readTree(lines.get(2));
        assertTrue(implicit.get("chosen_tokens").asInt() < a.get("chosen_tokens").asInt());
        assertTrue(s.out().contains("scored 3 records"), s.out());
    }

    @Test
    void badInputIsOneReadableLineAndANonZeroExit() throws Exception {
        String model = stories("stories260K.gguf");
        assertOneLineError(run("info", "--model", tmp.resolve("missing.gguf").toString()), "missing.gguf");

        Path bad = tmp.resolve("bad.jsonl");
        Files.write(bad, List.of("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}", "{\"prompt\":\"a\",",
                "{}"));
        Path out = tmp.resolve("o.jsonl");
        assertOneLineError(run("score", "--model", model, "--data", bad.toString(), "--out", out.toString()), ":2:");
        assertFalse(Files.exists(out), "no partial output");

        Path range = tmp.resolve("range.jsonl");
        Files.writeString(range, "{\"prompt_ids\":[1],\"chosen_ids\":[5,512],\"rejected_ids\":[5]}\n");
        assertOneLineError(run("score", "--model", model, "--data", range.toString(), "--out", out.toString()),
                "not a token id");

        assertOneLineError(run("generate", "--model", model, "--prompt", "Once upon a time ".repeat(1000),
                "--max-new-tokens", "4"), "context");

        Path dir = Files.createDirectories(tmp.resolve("gpt2"));
        Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"GPT2LMHeadModel\"]}");
        assertOneLineError(run("info", "--model", dir.toString()), "GPT2LMHeadModel");

        Result usage = run("generate", "--max-new-tokens", "x");
        assertEquals(2, usage.code());
    }

    @Test
    void scoreWithAnAdapterReportsTheReferenceAndTheImplicitRewards() throws Exception {
        String model = stories("stories260K.bin");
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        LoraConfig lc = new LoraConfig(2, 4, List.of("q_proj", "v_proj"), 0, false, model);
        List<TensorData> tensors = new java.util.ArrayList<>();
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int l = 0; l < 5; l++) {
            for (String p : lc.targetModules()) {
                int out = p.equals("q_proj") ? 64 : 32;
                tensors.add(Tensors.of(LoraConfig.key(l, p, "A"), DType.F32, new long[] {2, 64}, uniform(rng, 128)));
                tensors.add(Tensors.of(LoraConfig.key(l, p, "B"), DType.F32, new long[] {out, 2}, uniform(rng, out * 2)));
            }
        }
        Files.writeString(adapter.resolve("adapter_config.json"), lc.toJson());
        SafetensorsWriter.write(adapter.resolve("adapter_model.safetensors"), tensors, java.util.Map.of());
        Path data = tmp.resolve("d.jsonl");
        Files.writeString(data, "{\"prompt\":\"Once upon a time\",\"chosen\":\" there was a cat.\",\"rejected\":\" the end.\"}\n");
        Path out = tmp.resolve("s.jsonl"), plain = tmp.resolve("p.jsonl");
        Result r = run("score", "--model", model, "--adapter", adapter.toString(), "--beta", "0.5", "--data",
                data.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(0, run("score", "--model", model, "--data", data.toString(), "--out", plain.toString()).code());
        JsonNode a = Json.MAPPER.readTree(Files.readString(out)), p = Json.MAPPER.readTree(Files.readString(plain));
        // The reference is the base model: the same numbers as scoring without the adapter (to float rounding: the
        // JIT's compiled Vector API code and its interpreted fallback round differently in the last bits).
        assertEquals(p.get("chosen_logps").asDouble(), a.get("ref_chosen_logps").asDouble(), 1e-4);
        assertEquals(p.get("rejected_logps").asDouble(), a.get("ref_rejected_logps").asDouble(), 1e-4);
        assertTrue(Math.abs(a.get("chosen_logps").asDouble() - p.get("chosen_logps").asDouble()) > 1e-3,
                "the adapter changes the policy's log-probs");
        assertEquals(0.5 * (a.get("chosen_logps").asDouble() - a.get("ref_chosen_logps").asDouble()),
                a.get("chosen_rewards").asDouble(), 1e-9);
        assertEquals(a.get("chosen_rewards").asDouble() - a.get("rejected_rewards").asDouble(),
                a.get("reward_margin").asDouble(), 1e-9);
    }

    static float[] uniform(java.util.SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-0.5, 0.5);
        }
        return v;
    }

    @Test
    void infoDescribesTheModel() throws Exception {
        Result r = run("info", "--model", stories("stories260K.gguf"), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode info = Json.MAPPER.readTree(r.out());
        assertEquals("LlamaForCausalLM", info.get("architecture").asText());
        assertEquals(64, info.get("hidden_size").asInt());
        assertEquals(5, info.get("num_hidden_layers").asInt());
        assertEquals(4, info.get("num_key_value_heads").asInt());
        assertEquals(512, info.get("vocab_size").asInt());
        assertEquals("adjacent", info.get("rope_pairing").asText());
        // 48 tensors of the GGUF, F32: 512*64 (embedding) + 512*64 (output) + 5 layers + the final norm.
        long perLayer = 64 + 64 * 64 + 2 * 32 * 64 + 64 * 64 + 64 + 3 * 172 * 64;
        assertEquals(2 * 512 * 64 + 5 * perLayer + 64, info.get("parameters").asLong());
        assertEquals("1 <s>", info.get("bos_token").asText());
    }

    @Test
    void demoModelGeneratesWithoutAnyFiles() {
        Result r = run("generate", "--max-new-tokens", "8", "--seed", "3", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"token_ids\""), r.out());
    }
}
