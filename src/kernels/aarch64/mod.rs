//! aarch64 kernels: Advanced SIMD (NEON).

pub(crate) mod neon;
