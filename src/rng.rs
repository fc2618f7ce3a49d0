//! The seeded random numbers behind initialization and sample order.
//!
//! Built on `rand`'s `StdRng` (a ChaCha stream cipher: the same seed gives the same stream on
//! every machine); the mappings to floats, indices and permutations are written out here so
//! that they never change with a dependency's implementation.

use rand::{Rng, SeedableRng, rngs::StdRng};

/// A seeded generator.
pub(crate) struct SeededRng(StdRng);

impl SeededRng {
    /// The generator for `seed`; `stream` separates independent uses of one seed
    /// (restart number, sample order vs. initialization).
    pub(crate) fn new(seed: u64, stream: u64) -> SeededRng {
        // splitmix64 of (seed, stream) spreads nearby seeds over the whole key space
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut v = z;
            v = (v ^ (v >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            v = (v ^ (v >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            v ^= v >> 31;
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        SeededRng(StdRng::from_seed(key))
    }

    /// Uniform in `[-r, r)`: 24 random bits mapped to `[0, 1)`, then scaled.
    pub(crate) fn symmetric(&mut self, r: f32) -> f32 {
        let u = (self.0.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32);
        r * (2.0 * u - 1.0)
    }

    /// Uniform in `0..n` (`n >= 1`), by the multiply-high method.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A Fisher-Yates shuffle of `v`.
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}
