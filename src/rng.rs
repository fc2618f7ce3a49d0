//! The seeded random numbers behind initialization and sample order.
//!
//! Built on ChaCha12 (the generator behind `rand`'s `StdRng`, named here so that the stream
//! cannot change with a dependency's choice, and so that its position can be saved): the same
//! seed gives the same stream on every machine. The mappings to floats, indices and
//! permutations are written out here so that they never change with a dependency's
//! implementation.
//!
//! A generator's whole state is its 256-bit key and its position in the stream, counted in
//! 32-bit words ([`RngState`]); a checkpoint stores it and [`SeededRng::from_state`] continues
//! the stream exactly where it stopped.

use chacha20::ChaCha12Rng;
use rand::{Rng, SeedableRng};

/// The position of a [`SeededRng`]: its key and the number of 32-bit words drawn so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RngState {
    /// The ChaCha key.
    pub(crate) key: [u8; 32],
    /// 32-bit words drawn from the start of the stream (below 2^68).
    pub(crate) word_pos: u128,
}

impl RngState {
    /// The number of bytes of [`RngState::to_bytes`].
    pub(crate) const BYTES: usize = 48;

    /// The key, then the word position as a little-endian `u128`.
    pub(crate) fn to_bytes(self) -> [u8; Self::BYTES] {
        let mut b = [0u8; Self::BYTES];
        b[..32].copy_from_slice(&self.key);
        b[32..].copy_from_slice(&self.word_pos.to_le_bytes());
        b
    }

    /// The inverse of [`RngState::to_bytes`]; `None` for a position at or beyond 2^68 (the
    /// generator's period), which no generator can have reached.
    pub(crate) fn from_bytes(b: &[u8; Self::BYTES]) -> Option<RngState> {
        let mut key = [0u8; 32];
        key.copy_from_slice(&b[..32]);
        let mut pos = [0u8; 16];
        pos.copy_from_slice(&b[32..]);
        let word_pos = u128::from_le_bytes(pos);
        (word_pos < 1 << 68).then_some(RngState { key, word_pos })
    }
}

/// A seeded generator.
pub(crate) struct SeededRng(ChaCha12Rng);

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
        SeededRng(ChaCha12Rng::from_seed(key))
    }

    /// The generator's state: what [`SeededRng::from_state`] needs to continue the stream.
    pub(crate) fn state(&self) -> RngState {
        RngState {
            key: self.0.get_seed(),
            word_pos: self.0.get_word_pos(),
        }
    }

    /// A generator that continues the stream of the one whose [`SeededRng::state`] was `s`.
    pub(crate) fn from_state(s: &RngState) -> SeededRng {
        let mut g = ChaCha12Rng::from_seed(s.key);
        g.set_word_pos(s.word_pos);
        SeededRng(g)
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;

    #[test]
    fn the_stream_is_rands_std_rng() {
        // the same key gives StdRng's words: the change of type changed no drawn value
        let key = SeededRng::new(42, 7).state().key;
        let mut std = StdRng::from_seed(key);
        let mut ours = SeededRng::new(42, 7);
        for i in 0..100 {
            if i % 3 == 0 {
                assert_eq!(ours.0.next_u32(), std.next_u32());
            } else {
                assert_eq!(ours.0.next_u64(), std.next_u64());
            }
        }
    }

    #[test]
    fn a_restored_state_continues_the_stream() {
        // odd word counts (a u64 straddling a 64-word buffer) and several buffers
        for draws in [0usize, 1, 5, 31, 32, 33, 63, 64, 65, 200, 1000] {
            let mut a = SeededRng::new(9, 3);
            for k in 0..draws {
                if k % 5 == 0 {
                    a.symmetric(1.0);
                } else {
                    a.below(1000);
                }
            }
            let s = a.state();
            let back = RngState::from_bytes(&s.to_bytes()).unwrap();
            assert_eq!(back, s);
            let mut b = SeededRng::from_state(&back);
            assert_eq!(b.state(), s);
            for _ in 0..300 {
                assert_eq!(a.below(usize::MAX), b.below(usize::MAX));
                assert_eq!(a.symmetric(2.0).to_bits(), b.symmetric(2.0).to_bits());
            }
        }
    }

    #[test]
    fn an_impossible_position_is_refused() {
        let mut b = SeededRng::new(1, 1).state().to_bytes();
        b[32 + 8] = 0x10; // bit 68
        assert!(RngState::from_bytes(&b).is_none());
        b[32 + 8] = 0x0f;
        assert!(RngState::from_bytes(&b).is_some());
    }
}
