//! x86_64 kernels: AVX2 with FMA, and AVX-512F.

pub(crate) mod avx2;
pub(crate) mod avx512;
