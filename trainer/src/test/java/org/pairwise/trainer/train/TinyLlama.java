package org.pairwise.trainer.train;

import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.TestCheckpoints;
import org.pairwise.model.load.Checkpoint;

/** A tiny random Llama (vocabulary 67, context 64) on a two-thread cpu backend, for a test class to share. */
record TinyLlama(Backend be, Checkpoint checkpoint, LlamaModel model) implements AutoCloseable {
    static TinyLlama open(long seed) {
        Backend be = new CpuBackend(2);
        Checkpoint ck = TestCheckpoints.random(TestCheckpoints.llama(67, false), seed, DType.F32);
        return new TinyLlama(be, ck, LlamaModel.load(ck, be));
    }

    @Override
    public void close() {
        checkpoint.close();
        be.close();
    }
}
