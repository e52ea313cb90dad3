//! Kite's per-second limits, which hold per API key across every user of it:
//! quotes 1/s, historical candles 3/s, everything else 10/s. Calls wait for
//! their turn instead of collecting 429s.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The limit a call counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `/quote`, `/quote/ohlc`, `/quote/ltp`.
    Quote,
    /// `/instruments/historical/...`.
    Historical,
    /// Everything else.
    Other,
}

impl Class {
    /// Calls per second Kite allows for one API key.
    pub fn per_second(self) -> u32 {
        match self {
            Self::Quote => 1,
            Self::Historical => 3,
            Self::Other => 10,
        }
    }

    /// A short name, for keys in a shared store.
    pub fn name(self) -> &'static str {
        match self {
            Self::Quote => "quote",
            Self::Historical => "historical",
            Self::Other => "other",
        }
    }

    /// The time between two calls at the allowed rate.
    pub fn interval(self) -> Duration {
        Duration::from_secs(1) / self.per_second()
    }
}

/// Hands out turns to call Kite. [`LocalLimiter`] keeps them in this
/// process; an app running several replicas plugs in one they share.
pub trait Limiter: Send + Sync + Debug {
    /// Resolves when one call of `class` may go.
    fn acquire(&self, class: Class) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Evenly spaced turns per class, in this process.
#[derive(Debug, Default)]
pub struct LocalLimiter {
    next: Mutex<[Option<Instant>; 3]>,
}

impl Limiter for LocalLimiter {
    fn acquire(&self, class: Class) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let slot = match class {
            Class::Quote => 0,
            Class::Historical => 1,
            Class::Other => 2,
        };
        let at = {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let at = next[slot].map_or(now, |n| n.max(now));
            next[slot] = Some(at + class.interval());
            at
        };
        Box::pin(tokio::time::sleep_until(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn turns_are_spaced_by_class() {
        let limiter = LocalLimiter::default();
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire(Class::Quote).await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(2),
            "1/s: the third waits two seconds"
        );
        let start = Instant::now();
        for _ in 0..10 {
            limiter.acquire(Class::Other).await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(900), "10/s");
        let start = Instant::now();
        limiter.acquire(Class::Historical).await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "classes do not wait for each other"
        );
    }
}
