//! Work in flight per key (a user's questions being answered), capped: in
//! this process, or across replicas through Redis, where each entry carries
//! a deadline so that a replica that dies cannot hold a place for ever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::kv::Redis;

/// Drops entries past their deadline, then adds this one if fewer than
/// ARGV[1] remain. KEYS[1] is a sorted set of entry ids by deadline (ms).
const ENTER: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
";

/// Caps how much runs at once per key.
#[derive(Debug, Clone)]
pub struct InFlight {
    local: Arc<Mutex<HashMap<String, u32>>>,
    redis: Option<Redis>,
    /// How long an entry may hold its place in Redis.
    lease: Duration,
}

/// A place held; given back when dropped.
#[derive(Debug)]
pub struct Place {
    owner: InFlight,
    key: String,
    /// The entry's id in Redis, when it is held there.
    shared: Option<String>,
}

impl InFlight {
    /// Counted in this process.
    pub fn local() -> Self {
        Self {
            local: Arc::default(),
            redis: None,
            lease: Duration::ZERO,
        }
    }

    /// Counted across every process using `redis`; an entry whose process
    /// died frees its place after `lease`.
    pub fn redis(redis: Redis, lease: Duration) -> Self {
        Self {
            local: Arc::default(),
            redis: Some(redis),
            lease,
        }
    }

    /// A place for `key` if fewer than `most` are taken. When Redis cannot
    /// be reached, this process's own count decides.
    pub async fn enter(&self, key: &str, most: u32) -> Option<Place> {
        if let Some(redis) = &self.redis {
            let id = uuid::Uuid::now_v7().to_string();
            let entered: redis::RedisResult<i64> = async {
                let mut conn = redis.conn().await?;
                redis::Script::new(ENTER)
                    .key(redis.key(&format!("inflight:{key}")))
                    .arg(most)
                    .arg(u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX))
                    .arg(&id)
                    .invoke_async(&mut conn)
                    .await
            }
            .await;
            match entered {
                Ok(1) => {
                    return Some(Place {
                        owner: self.clone(),
                        key: key.to_string(),
                        shared: Some(id),
                    });
                }
                Ok(_) => return None,
                Err(err) => {
                    tracing::warn!(error = %err, key, "shared in-flight count failed; counting in this process");
                }
            }
        }
        let mut counts = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(key.to_string()).or_insert(0);
        if *n >= most {
            return None;
        }
        *n += 1;
        Some(Place {
            owner: self.clone(),
            key: key.to_string(),
            shared: None,
        })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        match (self.shared.take(), &self.owner.redis) {
            (Some(id), Some(redis)) => {
                let (redis, key) = (redis.clone(), redis.key(&format!("inflight:{}", self.key)));
                // Given back off the caller's path; should it fail, the
                // entry's deadline frees the place.
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        if let Ok(mut conn) = redis.conn().await {
                            let _: redis::RedisResult<i64> = redis::cmd("ZREM")
                                .arg(&key)
                                .arg(&id)
                                .query_async(&mut conn)
                                .await;
                        }
                    });
                }
            }
            _ => {
                let mut counts = self
                    .owner
                    .local
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Some(n) = counts.get_mut(&self.key) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        counts.remove(&self.key);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn places_are_capped_and_given_back() {
        let flight = InFlight::local();
        let a = flight.enter("u", 2).await;
        let b = flight.enter("u", 2).await;
        assert!(a.is_some() && b.is_some());
        assert!(flight.enter("u", 2).await.is_none());
        assert!(flight.enter("other", 2).await.is_some());
        drop(a);
        assert!(flight.enter("u", 2).await.is_some());
    }
}
