#!/usr/bin/env python3
"""Writes the reference trajectories that launcher's TrlEquivalenceTest holds `pairwise train` to: real TRL, fp32.

Run once with the TRL venv's python (bench/trl-bench.sh --venv-only builds it) from the repository root:

  V/bin/python bench/trl_fixtures.py [launcher/src/test/resources/trl]

It writes, into that folder (all small; committed):
  model/              a tiny random Llama (bench/trl_models.py's "tiny" shape, seed 1; about 100 KB) with its
                      WordLevel tokenizer
  pairs.jsonl         4 TRL standard-format pairs: prompts of 3, 6, 9 and 12 words, chosen 7 words, rejected 5
                      (8 and 6 tokens with EOS); pairs_repeated.jsonl: its second pair three times
  cases.json          the cases and the data file each trains on
  initial_adapter/    the LoRA adapter PEFT initialises for the runs (A Kaiming-uniform, B zero), as PEFT saves it
  CASE/dpo_config.json  the DPOConfig fields and LoRA settings of the run, under TRL's names (`pairwise train
                      --config` reads the same file)
  CASE/trl_log.json   TRL's log history: one entry per optimizer step, then the train_* figures
  CASE/adapter_model.safetensors  the adapter after the last step

Every case but partial_accumulation takes one optimizer step per epoch over the 4 pairs (per_device_train_batch_size x
gradient_accumulation_steps = 4), so each step sees every pair once whatever order the sampler draws: the
trajectory does not depend on TRL's or Pairwise's shuffle, which differ. Completions of one role have one length
across pairs, so the per-micro-batch token means (logits/chosen, logits/rejected) do not depend on how the pairs are
split into micro-batches either. The schedule is linear with 2 warmup steps, so learning_rate starts at 0.
"""
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import trl_models  # noqa: E402
import trl_train  # noqa: E402

COMMON = dict(learning_rate=5e-3, lr_scheduler_type="linear", warmup_steps=2, num_train_epochs=8,
              logging_steps=1, max_length=1024, seed=42, max_grad_norm=1.0, beta=0.1,
              lora_r=4, lora_alpha=8, lora_dropout=0.0,
              lora_target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
CASES = {
    "sigmoid": dict(loss_type=["sigmoid"], per_device_train_batch_size=2, gradient_accumulation_steps=2),
    "ipo": dict(loss_type=["ipo"], per_device_train_batch_size=2, gradient_accumulation_steps=2),
    "robust_smoothed": dict(loss_type=["robust"], label_smoothing=0.1, per_device_train_batch_size=2,
                            gradient_accumulation_steps=2),
    "hinge": dict(loss_type=["hinge"], per_device_train_batch_size=1, gradient_accumulation_steps=4),
    "sigmoid_sft": dict(loss_type=["sigmoid", "sft"], loss_weights=[1.0, 0.5], per_device_train_batch_size=2,
                        gradient_accumulation_steps=2),
    # 3 micro-batches per epoch, accumulation 2: every second step has one micro-batch, whose loss transformers
    # divides by 1, not 2. The pairs are one pair three times, so the order cannot matter here either.
    "partial_accumulation": dict(loss_type=["sigmoid"], per_device_train_batch_size=1, gradient_accumulation_steps=2,
                                 num_train_epochs=3, data="pairs_repeated.jsonl"),
}
PROMPT_WORDS = [3, 6, 9, 12]


def write_pairs(out, vocab):
    import random
    rng = random.Random(11)

    def words(n):
        return " ".join(f"w{rng.randrange(len(trl_models.SPECIALS), vocab)}" for _ in range(n))

    lines = [json.dumps({"prompt": words(p), "chosen": " " + words(7), "rejected": " " + words(5)}) + "\n"
             for p in PROMPT_WORDS]
    with open(os.path.join(out, "pairs.jsonl"), "w") as f:
        f.writelines(lines)
    with open(os.path.join(out, "pairs_repeated.jsonl"), "w") as f:
        f.writelines([lines[1]] * 3)


def save_adapter(model, out):
    """PEFT's adapter files, without its README and with the base model named relatively."""
    tmp = tempfile.mkdtemp()
    model.save_pretrained(tmp)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(tmp, "adapter_config.json")) as f:
        cfg = json.load(f)
    cfg["base_model_name_or_path"] = "model"
    with open(os.path.join(out, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    shutil.copy(os.path.join(tmp, "adapter_model.safetensors"), out)
    shutil.rmtree(tmp)


def main(argv):
    from transformers import TrainerCallback

    out = os.path.abspath(argv[0] if argv else os.path.join(HERE, "..", "launcher", "src", "test", "resources",
                                                            "trl"))
    model_dir = os.path.join(out, "model")
    os.makedirs(model_dir, exist_ok=True)
    trl_models.write_model(model_dir, "tiny", seed=1)
    write_pairs(out, trl_models.SHAPES["tiny"]["vocab"])
    initial = os.path.join(out, "initial_adapter")
    shutil.rmtree(initial, ignore_errors=True)
    initial_bytes = []

    class SaveInitial(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            tmp = tempfile.mkdtemp()
            save_adapter(model, tmp)
            with open(os.path.join(tmp, "adapter_model.safetensors"), "rb") as f:
                initial_bytes.append(f.read())
            if not os.path.isdir(initial):
                shutil.copytree(tmp, initial)
            shutil.rmtree(tmp)

    cases = {}
    for name, case in CASES.items():
        config = {**COMMON, **case}
        data = os.path.join(out, config.pop("data", "pairs.jsonl"))
        cases[name] = {"data": os.path.basename(data)}
        case_dir = os.path.join(out, name)
        os.makedirs(case_dir, exist_ok=True)
        with open(os.path.join(case_dir, "dpo_config.json"), "w") as f:
            json.dump(config, f, indent=2)
        with tempfile.TemporaryDirectory() as work:
            trainer, _ = trl_train.run(model_dir, data, work, config, bf16=False, threads=2, callbacks=[SaveInitial()])
            with open(os.path.join(case_dir, "trl_log.json"), "w") as f:
                json.dump(trainer.state.log_history, f, indent=1)
            final = os.path.join(work, "final")
            save_adapter(trainer.model, final)
            shutil.copy(os.path.join(final, "adapter_model.safetensors"), case_dir)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=2)
    if any(b != initial_bytes[0] for b in initial_bytes):
        raise SystemExit("PEFT initialised a different adapter in some run; the fixtures assume one initial adapter")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main(sys.argv[1:])
