//! The fuzz targets' bodies, shared with the main crate's `tests/fuzz_regressions.rs`.
pub mod targets;
