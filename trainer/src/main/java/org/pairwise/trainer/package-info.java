/** DPO loss family with TRL's semantics and metric names, AdamW, schedules, offline and continual training, checkpoints. */
package org.pairwise.trainer;
