#!/usr/bin/env python3
"""bench/trl-bench.sh's driver: runs `pairwise train` and TRL's DPOTrainer (fp32, and TRL's default bf16) on the same
model directory, JSONL and DPOConfig file, one process each, one after another, and prints a markdown table.

s/step is the median over the steady steps (2 .. N) of the time between one optimizer step's end and the next: for
`pairwise train` the moment its progress line for the step reaches stderr, for TRL a TrainerCallback's on_step_end.
Peak RSS is the process's (os.wait4's ru_maxrss; for pairwise it counts the memory-mapped weight pages it touched).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def dpo_config(steps):
    """The one DPOConfig both sides read (TRL's names); LoRA under TRL's ModelConfig names."""
    return dict(beta=0.1, per_device_train_batch_size=2, gradient_accumulation_steps=1, learning_rate=5e-6,
                max_length=1024, max_steps=steps, logging_steps=1, lora_r=16, lora_alpha=32,
                lora_target_modules=PROJECTIONS)


def run_timed(cmd, env, log, on_stderr=None):
    """Runs cmd; returns (exit status, peak RSS in bytes, stdout). on_stderr gets each chunk with its arrival time."""
    with open(log, "wb") as logf:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = []

        def pump(stream, sink):
            while chunk := os.read(stream.fileno(), 65536):
                t = time.perf_counter()
                sink(chunk, t)
                logf.write(chunk)

        threads = [threading.Thread(target=pump, args=(p.stdout, lambda c, t: out.append(c))),
                   threading.Thread(target=pump, args=(p.stderr, on_stderr or (lambda c, t: None)))]
        for th in threads:
            th.start()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        for th in threads:
            th.join()
    return p.returncode, usage.ru_maxrss * 1024, b"".join(out).decode()


def median_steady(stamps):
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    return statistics.median(steps) if steps else float("nan")


def run_pairwise(model, data, config, out, threads, log):
    stamps = []
    env = dict(os.environ, PAIRWISE_JAVA_OPTS=os.environ.get("PAIRWISE_JAVA_OPTS", "-Xmx16g"))
    cmd = [os.path.join(ROOT, "bin", "pairwise"), "train", "--model", model, "--data", data, "--config", config,
           "--output-dir", out, "--threads", str(threads)]
    # The progress line of a step ("\rtrain k/N ...") is written and flushed right after the step.
    code, rss, stdout = run_timed(cmd, env, log, lambda c, t: stamps.extend([t] * c.count(b"\r")))
    if code != 0:
        raise SystemExit(f"pairwise train failed ({code}); see {log}")
    with open(os.path.join(out, "metrics.jsonl")) as f:
        last = json.loads(f.readlines()[-1])
    run = json.loads(stdout.strip().splitlines()[-1])
    return dict(s_per_step=median_steady(stamps), rss=rss, loss=last["loss"], runtime=run["train_runtime"],
                steps=len(stamps))


def run_trl(python, model, data, config, out, threads, bf16, log):
    report = out + ".json"
    cmd = [python, os.path.join(HERE, "trl_train.py"), "--model", model, "--data", data, "--config", config,
           "--output-dir", out, "--threads", str(threads), "--report", report] + (["--bf16"] if bf16 else [])
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    code, rss, _ = run_timed(cmd, env, log)
    if code != 0:
        raise SystemExit(f"TRL failed ({code}); see {log}")
    with open(report) as f:
        r = json.load(f)
    steps = [e for e in r["log_history"] if "loss" in e]
    run = next(e for e in r["log_history"] if "train_runtime" in e)
    return dict(s_per_step=median_steady(r["step_end_times"]), rss=rss, loss=steps[-1]["loss"],
                runtime=run["train_runtime"], steps=len(r["step_end_times"]), torch=r["torch"], trl=r["trl"])


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="scratch folder holding the model directories and data")
    ap.add_argument("--python", required=True, help="the TRL venv's python")
    ap.add_argument("--shape", action="append", required=True)
    ap.add_argument("--steps", type=int, action="append", required=True, help="one per --shape")
    ap.add_argument("--runs", default="pairwise,trl-fp32,trl-bf16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="also write the results as JSON here")
    a = ap.parse_args(argv)
    load_before = os.getloadavg()
    started = datetime.datetime.now()
    rows = []
    for shape, steps in zip(a.shape, a.steps):
        model, data = os.path.join(a.dir, shape), os.path.join(a.dir, f"pairs-{shape}.jsonl")
        work = os.path.join(a.dir, "runs", shape)
        os.makedirs(work, exist_ok=True)
        config = os.path.join(work, "dpo_config.json")
        with open(config, "w") as f:
            json.dump(dpo_config(steps), f, indent=2)
        for run in a.runs.split(","):
            out, log = os.path.join(work, run), os.path.join(work, run + ".log")
            print(f"{shape}: {run} ({steps} steps) ...", file=sys.stderr, flush=True)
            if run == "pairwise":
                r = run_pairwise(model, data, config, out, a.threads, log)
            else:
                r = run_trl(a.python, model, data, config, out, a.threads, run == "trl-bf16", log)
            r.update(shape=shape, run=run)
            print(f"  {r['s_per_step']:.2f} s/step, peak RSS {r['rss'] / 2**30:.2f} GiB", file=sys.stderr, flush=True)
            rows.append(r)
    load_after = os.getloadavg()
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=1)
    versions = next((f"TRL {r['trl']}, torch {r['torch']}" for r in rows if "trl" in r), "")
    print(f"{started:%Y-%m-%d %H:%M}, {machine()}; {a.threads} threads each; {versions}; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (1 min)")
    print()
    print("| shape | run | s/step (median of steps 2..N) | pairwise is | train_runtime (s) | peak RSS | loss at step N |")
    print("|---|---|---|---|---|---|---|")
    names = {"pairwise": "pairwise train, F32", "trl-fp32": "TRL, bf16=False (fp32)",
             "trl-bf16": "TRL, its default (bf16=True, autocast)"}
    for r in rows:
        ours = next((x for x in rows if x["shape"] == r["shape"] and x["run"] == "pairwise"), None)
        if r["run"] == "pairwise" or ours is None:
            ratio = "-"
        else:
            x = r["s_per_step"] / ours["s_per_step"]
            ratio = f"{x:.2f}x {'faster' if x >= 1 else 'slower'}"
        print(f"| {r['shape']} | {names[r['run']]} ({r['steps']} steps) | {r['s_per_step']:.2f} | {ratio} | "
              f"{r['runtime']:.1f} | {r['rss'] / 2**30:.2f} GiB | {r['loss']:.6f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
