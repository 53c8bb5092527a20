/**
 * The kernel SPI: a {@link org.pairwise.accel.Backend} owns its buffers ({@link org.pairwise.accel.Tensor},
 * {@link org.pairwise.accel.Weight}) and runs {@link org.pairwise.accel.Kernels} over them; the host copies only
 * what it must. Backends: {@code cpu} (Java Vector API, the reference and the default).
 */
package org.pairwise.accel;
