//! Evenly spaced turns per key, for calling an outside service that allows
//! so many calls a second: each caller reserves the next free slot and
//! waits for it, in memory or shared by every replica through Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::kv::Redis;

/// Hands out turns: one per `interval` per key.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Used alone, or when Redis cannot be reached: turns then stay spaced
    /// within this process rather than not at all.
    local: Arc<Mutex<HashMap<String, Instant>>>,
    redis: Option<Redis>,
}

/// Reserves the next slot on the server's clock, in microseconds: the key
/// holds when the slot after it opens.
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local at = tonumber(redis.call('GET', KEYS[1]) or now)
if at < now then at = now end
redis.call('SET', KEYS[1], at + interval, 'PX', math.floor((at + interval - now) / 1000) + 1)
return at - now
";

impl Pacer {
    /// Turns counted in this process.
    pub fn memory() -> Self {
        Self {
            local: Arc::default(),
            redis: None,
        }
    }

    /// Turns shared by every process using `redis`.
    pub fn redis(redis: Redis) -> Self {
        Self {
            local: Arc::default(),
            redis: Some(redis),
        }
    }

    /// Takes the next turn of `key` and says how long until it comes.
    pub async fn reserve(&self, key: &str, interval: Duration) -> Duration {
        if let Some(redis) = &self.redis {
            let reserved: redis::RedisResult<u64> = async {
                let mut conn = redis.conn().await?;
                redis::Script::new(RESERVE)
                    .key(redis.key(&format!("pace:{key}")))
                    .arg(u64::try_from(interval.as_micros()).unwrap_or(u64::MAX))
                    .invoke_async(&mut conn)
                    .await
            }
            .await;
            match reserved {
                Ok(wait) => return Duration::from_micros(wait),
                Err(err) => {
                    tracing::warn!(error = %err, key, "shared pacing failed; pacing in this process");
                }
            }
        }
        let mut next = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let slot = next.entry(key.to_string()).or_insert(now);
        let at = (*slot).max(now);
        *slot = at + interval;
        at - now
    }

    /// Waits for the next turn of `key`.
    pub async fn wait(&self, key: &str, interval: Duration) {
        let wait = self.reserve(key, interval).await;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On paused time: the waits are exact, whatever the machine's load.
    #[tokio::test(start_paused = true)]
    async fn turns_are_spaced_per_key() {
        let pacer = Pacer::memory();
        let interval = Duration::from_millis(100);
        let mut waits = Vec::new();
        for _ in 0..3 {
            waits.push(pacer.reserve("quote", interval).await);
        }
        assert_eq!(
            waits,
            [0, 100, 200].map(Duration::from_millis),
            "each turn a whole interval after the last"
        );
        let other = pacer.reserve("historical", interval).await;
        assert_eq!(other, Duration::ZERO, "another key has its own turns");

        // `wait` sleeps until its turn: the fourth comes 300 ms after the first.
        let start = Instant::now();
        pacer.wait("quote", interval).await;
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        // Once a turn has passed unused, the next is free at once.
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(pacer.reserve("quote", interval).await, Duration::ZERO);
    }
}
