/**
 * The kernel SPI: a {@link org.pairwise.accel.Backend} owns its buffers ({@link org.pairwise.accel.Tensor} and views of
 * them, {@link org.pairwise.accel.Weight}) and runs {@link org.pairwise.accel.Kernels} over them; the host copies only
 * what it must. Backends ({@link org.pairwise.accel.Backends#open}): {@code cpu} (Java Vector API, the reference and
 * the default) and {@code tornadovm} (TornadoVM's default device; compiled where the SDK is installed, see
 * org.pairwise.accel.tornado), both held to one conformance suite.
 */
package org.pairwise.accel;
