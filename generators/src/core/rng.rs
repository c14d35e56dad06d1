//! Counter-based randomness: event `i` draws from an RNG seeded by `(seed, i)`, so any
//! event can be generated alone, in any order, on any worker, byte for byte the same on
//! every machine. The algorithm is pinned: PCG-64 MCG (`rand_pcg::Pcg64Mcg`).

use rand_pcg::Pcg64Mcg;

/// The RNG used for one event.
pub type EventRng = Pcg64Mcg;

/// SplitMix64's finalizer: a well-mixed 64-bit hash of `x`.
#[inline]
pub(crate) fn splitmix(x: u64) -> u64 {
    splitmix64(x)
}

#[inline(always)]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The RNG of event `index` under `seed`.
///
/// ```
/// use rand::Rng;
/// use tidewater_generators::core::event_rng;
/// let a: u64 = event_rng(42, 7).random();
/// assert_eq!(a, event_rng(42, 7).random::<u64>());
/// assert_ne!(a, event_rng(43, 7).random::<u64>());
/// ```
#[inline]
pub fn event_rng(seed: u64, index: u64) -> EventRng {
    let hi = splitmix64(seed);
    let lo = splitmix64(seed ^ splitmix64(index.wrapping_add(0x6A09_E667_F3BC_C909)));
    Pcg64Mcg::new(((hi as u128) << 64) | lo as u128)
}
