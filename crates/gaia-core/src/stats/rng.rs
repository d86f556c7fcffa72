//! xoshiro256++ with SplitMix64 seeding.

use serde::{Deserialize, Serialize};

/// A seeded, portable pseudo-random generator (xoshiro256++).
///
/// The stream of [`Rng::next_u64`] depends only on the seed, never on the platform.
/// The state serialises (four `u64`), so saved engines resume the exact same stream.
/// Not cryptographically secure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    s: [u64; 4],
}

/// One SplitMix64 step: the recommended way to expand a 64-bit seed into xoshiro state.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    /// Restores a generator from its raw state, as returned by [`Rng::state`].
    ///
    /// Returns `None` for the all-zero state, which xoshiro can never leave.
    pub fn from_state(s: [u64; 4]) -> Option<Self> {
        if s == [0; 4] {
            None
        } else {
            Some(Rng { s })
        }
    }

    /// The raw state, for persistence.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// The state as 64 hex digits, for JSON saves (a `u64` would lose precision in PHP's and
    /// JavaScript's JSON numbers).
    pub fn to_hex(&self) -> String {
        let s = self.s;
        format!("{:016x}{:016x}{:016x}{:016x}", s[0], s[1], s[2], s[3])
    }

    /// Restores a generator from [`Rng::to_hex`]; `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<Rng> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut s = [0u64; 4];
        for (i, word) in s.iter_mut().enumerate() {
            *word = u64::from_str_radix(&hex[i * 16..(i + 1) * 16], 16).ok()?;
        }
        Rng::from_state(s)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform double in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform double in `(0, 1)`: never exactly zero, safe to take the log of.
    pub fn next_f64_open(&mut self) -> f64 {
        ((self.next_u64() >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
    }

    /// A uniform integer in `0..n` without modulo bias (Lemire's method). `n` must be > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// A seed from the process's hash randomness and the clock, for unseeded engines.
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_pinned_across_platforms() {
        // Reference values of xoshiro256++ seeded by SplitMix64(0); a change here breaks
        // every saved search and study, so it must fail loudly.
        let mut sm = 0u64;
        assert_eq!(splitmix64(&mut sm), 0xE220_A839_7B1D_CDAF);
        let mut r = Rng::seed_from_u64(0);
        let first: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut again = Rng::seed_from_u64(0);
        let second: Vec<u64> = (0..3).map(|_| again.next_u64()).collect();
        assert_eq!(first, second);
        assert_ne!(first[0], first[1]);
    }

    #[test]
    fn xoshiro_matches_reference_algorithm() {
        // From the reference C implementation with state {1, 2, 3, 4}.
        let mut r = Rng::from_state([1, 2, 3, 4]).unwrap();
        assert_eq!(r.next_u64(), 41_943_041);
        assert_eq!(r.next_u64(), 58_720_359);
        assert_eq!(r.next_u64(), 3_588_806_011_781_223);
    }

    #[test]
    fn state_round_trip_continues_stream() {
        let mut a = Rng::seed_from_u64(42);
        a.next_u64();
        let mut b = Rng::from_state(a.state()).unwrap();
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert!(Rng::from_state([0; 4]).is_none());
        assert_eq!(Rng::from_hex(&a.to_hex()), Some(a.clone()));
        assert!(Rng::from_hex(&"0".repeat(64)).is_none());
        assert!(Rng::from_hex("zz").is_none());
    }

    #[test]
    fn floats_stay_in_range_and_below_is_unbiased() {
        let mut r = Rng::seed_from_u64(7);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            let y = r.next_f64_open();
            assert!(y > 0.0 && y < 1.0);
            counts[r.below(3) as usize] += 1;
        }
        for c in counts {
            assert!((9_400..10_600).contains(&c), "counts {counts:?}");
        }
    }
}
