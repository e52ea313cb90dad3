//! The trending score: a sum of weighted events, each halving every 24
//! hours, kept as one number per widget and changed only when an event
//! comes (docs/social.md says why this formula).
//!
//! Decaying every score as time passes would rewrite the whole table; but
//! all scores decay by the same factor, so their order never changes. So
//! each event is stored at its weight *grown* to its own time, `w · 2^(t/H)`,
//! and kept as a base-2 logarithm, `log2(w) + t/H`, which stays small (it
//! grows by one a day) where the sum itself would overflow in a few years.

/// Milliseconds of 2025-01-01T00:00:00Z: where scores start.
const EPOCH_MS: i64 = 1_735_689_600_000;
/// The half-life: a day.
const HALF_LIFE_MS: f64 = 86_400_000.0;

/// What an event is worth: a fork is the strongest signal, a view the weakest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A widget becoming public for the first time counts once.
    Published,
    View,
    Like,
    Fork,
}

impl Event {
    fn weight(self) -> f64 {
        match self {
            Self::Published => 1.0,
            Self::View => 0.1,
            Self::Like => 2.0,
            Self::Fork => 4.0,
        }
    }
}

/// The log-score of one `event` at `at_ms`.
pub fn of(event: Event, at_ms: i64) -> f64 {
    event.weight().log2() + (at_ms - EPOCH_MS) as f64 / HALF_LIFE_MS
}

/// The log-score of two sums added: `log2(2^a + 2^b)` without leaving
/// the logarithm.
pub fn add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp2().ln_1p() / std::f64::consts::LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn adding_in_logs_is_adding_sums() {
        let (a, b) = (3.0_f64, 5.0_f64);
        assert!((add(a, b) - (8.0_f64 + 32.0).log2()).abs() < 1e-12);
        assert!((add(b, a) - add(a, b)).abs() < 1e-12);
    }

    #[test]
    fn an_event_a_day_later_is_worth_twice_as_much() {
        let t = EPOCH_MS + 400 * DAY;
        assert!((of(Event::Like, t + DAY) - of(Event::Like, t) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn recent_likes_beat_older_ones_and_forks_beat_likes() {
        let now = EPOCH_MS + 700 * DAY;
        let old = (0..10).fold(of(Event::Published, now - 3 * DAY), |s, _| {
            add(s, of(Event::Like, now - 3 * DAY))
        });
        let fresh = add(of(Event::Published, now), of(Event::Like, now));
        assert!(fresh > old, "two recent events beat eleven three days old");
        let forked = add(of(Event::Published, now), of(Event::Fork, now));
        assert!(forked > fresh);
    }

    #[test]
    fn scores_stay_small_decades_on() {
        let s = of(Event::Fork, EPOCH_MS + 50 * 365 * DAY);
        assert!(s.is_finite() && s < 20_000.0);
    }
}
