//! When to try a failed job again: the provider's own `next_retry_delay` if it gives one,
//! else exponential backoff with jitter (DESIGN.md; pretix's fixed one hour is too slow
//! for a short outage and too fast for a long one).

use std::time::Duration;

use serde::Deserialize;

/// The host's backoff: `first_delay × factor^(attempt−1)`, capped, ± `jitter`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Delay after the first failure, in seconds.
    pub first_delay_secs: f64,
    /// Growth per further failure.
    pub factor: f64,
    /// Upper bound of the delay, in seconds.
    pub max_delay_secs: f64,
    /// Relative spread (0.1 = ±10 %), so jobs that failed together do not retry together.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_delay_secs: 30.0,
            factor: 4.0,
            max_delay_secs: 6.0 * 3600.0,
            jitter: 0.1,
        }
    }
}

impl RetryPolicy {
    /// The delay after the `failed_attempts`-th failure (1 for the first). `seed` picks
    /// the jitter; the same seed gives the same delay, which keeps tests reproducible.
    pub fn delay(&self, failed_attempts: u32, seed: u64) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(64) as i32;
        let base = (self.first_delay_secs * self.factor.powi(exponent)).min(self.max_delay_secs);
        let spread = self.jitter.clamp(0.0, 1.0) * (2.0 * unit_interval(seed) - 1.0);
        Duration::from_secs_f64((base * (1.0 + spread)).max(0.0))
    }
}

/// A well-mixed number in [0, 1) from a seed (splitmix64), so no RNG crate is needed.
fn unit_interval(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter() -> RetryPolicy {
        RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn default_backoff_starts_at_30s_and_grows_4x_per_attempt() {
        let p = no_jitter();
        assert_eq!(p.delay(1, 0), Duration::from_secs(30));
        assert_eq!(p.delay(2, 0), Duration::from_secs(120));
        assert_eq!(p.delay(3, 0), Duration::from_secs(480));
        assert_eq!(p.delay(4, 0), Duration::from_secs(1920));
    }

    #[test]
    fn backoff_is_capped_at_six_hours() {
        assert_eq!(no_jitter().delay(10, 0), Duration::from_secs(6 * 3600));
        assert_eq!(
            no_jitter().delay(u32::MAX, 0),
            Duration::from_secs(6 * 3600)
        );
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_varies_with_the_seed() {
        let p = RetryPolicy::default();
        let delays: Vec<f64> = (0..200)
            .map(|seed| p.delay(1, seed).as_secs_f64())
            .collect();
        assert!(
            delays.iter().all(|d| (27.0..=33.0).contains(d)),
            "{delays:?}"
        );
        let distinct = delays
            .iter()
            .map(|d| (d * 1000.0) as u64)
            .collect::<std::collections::BTreeSet<_>>();
        assert!(distinct.len() > 150, "jitter should spread retries");
    }
}
