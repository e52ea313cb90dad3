//! Kite's per-second limits hold per API key, across every replica: the
//! kite client's turns come from the platform's pacer, in Redis when the
//! app has one.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use kite::{Class, Limiter};
use platform::pace::Pacer;

/// Arrivals at Kite bunch up by the network's jitter; a little room keeps
/// evenly spaced turns inside the per-second windows Kite counts in.
const MARGIN: Duration = Duration::from_millis(10);

/// Turns for calls made with one API key.
#[derive(Debug, Clone)]
pub struct SharedTurns {
    pacer: Pacer,
    api_key: String,
}

impl SharedTurns {
    pub fn new(pacer: Pacer, api_key: &str) -> Self {
        Self {
            pacer,
            api_key: api_key.to_string(),
        }
    }
}

impl Limiter for SharedTurns {
    fn acquire(&self, class: Class) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let key = format!("kite:{}:{}", self.api_key, class.name());
        Box::pin(async move { self.pacer.wait(&key, class.interval() + MARGIN).await })
    }
}
