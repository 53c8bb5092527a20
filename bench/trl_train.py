#!/usr/bin/env python3
"""TRL's DPOTrainer on the files `pairwise train` reads, as a new user runs it (run with the TRL venv's python).

  trl_train.py --model DIR --data FILE --output-dir OUT --config dpo.json [--bf16] [--threads 2] [--report R.json]

dpo.json holds DPOConfig fields under their TRL names (what `pairwise train --config` reads) plus the LoRA settings
(lora_r, lora_alpha, lora_dropout, lora_target_modules, TRL's ModelConfig names), which become a peft.LoraConfig.
Without --bf16 the run is fp32 (bf16=False); with it, TRL's default (bf16=True, autocast, on CPU too). The model is
given to DPOTrainer as a path, the data through datasets' JSON loader, as TRL's examples do.

--report writes JSON: TRL's log history (one entry per log, then the run's train_* figures), the wall-clock time of
every optimizer step's end (time.perf_counter(), from a callback), torch's and TRL's versions.
"""
import argparse
import json
import os
import sys

LORA_FIELDS = ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules")


def run(model, data, output_dir, config, bf16, threads, callbacks=()):
    """Trains and returns (trainer, step_end_times)."""
    import time

    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import TrainerCallback, set_seed
    from trl import DPOConfig, DPOTrainer

    torch.set_num_threads(threads)
    dpo = {k: v for k, v in config.items() if k not in LORA_FIELDS}
    lora = LoraConfig(r=config.get("lora_r", 16), lora_alpha=config.get("lora_alpha", 32),
                      lora_dropout=config.get("lora_dropout", 0.05),
                      target_modules=config.get("lora_target_modules",
                                                ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                 "down_proj"]),
                      task_type="CAUSAL_LM")
    args = DPOConfig(output_dir=output_dir, bf16=bf16, report_to="none", save_strategy="no", disable_tqdm=True,
                     **dpo)
    stamps = []

    class StepTimes(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(time.perf_counter())

    set_seed(args.seed)
    trainer = DPOTrainer(model=model, args=args, train_dataset=load_dataset("json", data_files=data, split="train"),
                         peft_config=lora, callbacks=[StepTimes(), *callbacks])
    trainer.train()
    return trainer, stamps


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--output-dir", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--report")
    a = ap.parse_args(argv)
    with open(a.config) as f:
        config = json.load(f)
    trainer, stamps = run(a.model, a.data, a.output_dir, config, a.bf16, a.threads)
    import torch
    import trl
    if a.report:
        with open(a.report, "w") as f:
            json.dump({"log_history": trainer.state.log_history, "step_end_times": stamps,
                       "torch": torch.__version__, "trl": trl.__version__,
                       "threads": torch.get_num_threads()}, f)


if __name__ == "__main__":
    # MKL/OpenMP read their thread counts when torch loads; set them before.
    threads = next((sys.argv[i + 1] for i, x in enumerate(sys.argv[:-1]) if x == "--threads"), "2")
    os.environ.setdefault("OMP_NUM_THREADS", threads)
    os.environ.setdefault("MKL_NUM_THREADS", threads)
    main(sys.argv[1:])
