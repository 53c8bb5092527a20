/**
 * The CPU backend, the default and the reference for every other backend: heap {@code float[]} tensors, frozen
 * weights read in place from (memory-mapped) segments in their stored dtype and widened in registers, and Java Vector
 * API kernels parallel over output rows on a dedicated fork/join pool. One class per kernel family (Matmul, RmsNorm,
 * Rope, Attention, Elementwise, Logprob), each a forward/backward pair; Gemm holds the register-tiled products they share.
 */
package org.pairwise.accel.cpu;
