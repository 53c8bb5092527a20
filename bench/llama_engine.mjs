// llama.cpp's side of bench/engine-table.sh, through node-llama-cpp (its prebuilt CPU build): on a GGUF file,
// prompt processing of BATCH sequences of LENGTH tokens, and greedy decode of a PROMPT-token prompt then DECODE new
// tokens (time from the first new token to the last, so the prompt's evaluation is not in it). Best of REPEATS after
// a warm-up. Prints one JSON line in the shape of `pairwise bench`'s.
// Usage: node SCRATCH/llama_engine.mjs FILE SHAPE DTYPE [threads]: run from a copy beside SCRATCH/node_modules, which
// is where ES modules look for packages (bench/llama-bench.sh makes the copy).
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {readFileSync} from "node:fs";

const [file, shape, dtype, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg ?? 2);
const env = (k, d) => Number(process.env[k] ?? d);
const BATCH = env("BATCH", 4), LENGTH = env("LENGTH", 256), PROMPT = env("PROMPT", 16), DECODE = env("DECODE", 32);
const REPEATS = env("REPEATS", 3);

const llama = await getLlama({gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0, useMmap: true});
const vocab = {"small": 32000, "qwen2.5-0.5b": 151936}[shape];
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const ids = (n) => Array.from({length: n}, () => 3 + Math.floor(rand() * (vocab - 3)));

async function best(fn) {
    await fn();
    let b = Infinity;
    for (let i = 0; i < REPEATS; i++) {
        b = Math.min(b, await fn());
    }
    return b;
}

const ctx = await model.createContext({contextSize: Math.max(LENGTH, PROMPT + DECODE) + 16, batchSize: LENGTH,
    threads: {ideal: threads, min: threads}, sequences: 1});
const seq = ctx.getSequence();
const prompts = Array.from({length: BATCH}, () => ids(LENGTH));

const prefill = await best(async () => {
    const t0 = process.hrtime.bigint();
    for (const p of prompts) {
        await seq.clearHistory();
        await seq.evaluateWithoutGeneratingNewTokens(p);
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
});

const prompt = ids(PROMPT);
const decode = await best(async () => {
    await seq.clearHistory();
    let n = 0, t0 = 0n, t1 = 0n;
    for await (const token of seq.evaluate(prompt, {temperature: 0})) {
        if (n === 0) {
            t0 = process.hrtime.bigint();
        }
        n++;
        if (n === DECODE + 1) {
            t1 = process.hrtime.bigint();
            break;
        }
    }
    return Number(t1 - t0) / 1e9;
});

const version = JSON.parse(readFileSync(new URL("node_modules/node-llama-cpp/package.json", import.meta.url), "utf8"))
    .version;
const rss = (() => {
    const m = readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)/);
    return m ? Number(m[1]) / 1024 : null;
})();
console.log(JSON.stringify({
    engine: "llama.cpp (node-llama-cpp " + version + ")", shape, dtype, threads,
    prefill_batch: BATCH, prefill_length: LENGTH, prefill_tokens_per_s: BATCH * LENGTH / prefill,
    decode_prompt: PROMPT, decode_tokens: DECODE, decode_tokens_per_s: DECODE / decode, peak_rss_mb: rss,
}));
await ctx.dispose();
await model.dispose();
await llama.dispose();
