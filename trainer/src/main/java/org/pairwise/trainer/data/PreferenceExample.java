package org.pairwise.trainer.data;

/** One preference pair, tokenized as TRL's DPOTrainer tokenizes it; line is its 1-based line in the source file. */
public record PreferenceExample(int line, int[] promptIds, int[] chosenIds, int[] rejectedIds) {}
