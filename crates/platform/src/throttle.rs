//! A throttle for repeated failures (such as wrong passwords): past a few,
//! each one makes the key wait longer (doubling, capped). In memory, or in
//! Redis so that a guesser gains nothing by spreading over replicas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use crate::kv::Redis;

/// Counts failures per key; see the module docs.
#[derive(Debug, Clone)]
pub struct FailureThrottle {
    rules: Rules,
    memory: Arc<Mutex<HashMap<String, Failures>>>,
    /// Shared counts; the memory map stands in while Redis cannot be reached.
    redis: Option<(Redis, &'static str)>,
}

#[derive(Debug, Clone, Copy)]
struct Rules {
    free_failures: u32,
    window: TimeDelta,
    max_wait: TimeDelta,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    blocked_until: DateTime<Utc>,
}

/// Past this many keys, stale ones are dropped before a new one is added.
const MAX_KEYS: usize = 100_000;

/// [`FailureThrottle::attempt`] in one atomic step. The hash holds count,
/// last failure and blocked-until (ms); it expires once it cannot matter.
const ATTEMPT: &str = r"
local now, window, free, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'count', 'last', 'blocked')
local count, last, blocked = tonumber(f[1]) or 0, tonumber(f[2]) or now, tonumber(f[3]) or now
if blocked > now then return blocked - now end
if now - last >= window then count = 0 end
count = count + 1
if count > free then
  blocked = now + math.min(1000 * math.pow(2, math.min(count - free - 1, 20)), max_wait)
end
redis.call('HSET', KEYS[1], 'count', count, 'last', now, 'blocked', string.format('%d', blocked))
redis.call('PEXPIRE', KEYS[1], window + max_wait)
return 0
";

/// [`FailureThrottle::succeeded`]: one failure fewer, unblocked when few are left.
const SUCCEEDED: &str = r"
local f = redis.call('HMGET', KEYS[1], 'count', 'last')
if not f[1] then return 0 end
local count = math.max(tonumber(f[1]) - 1, 0)
redis.call('HSET', KEYS[1], 'count', count)
if count <= tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'blocked', f[2]) end
return 0
";

impl Rules {
    fn attempt(
        &self,
        map: &mut HashMap<String, Failures>,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), u64> {
        if let Some(f) = map.get(key)
            && f.blocked_until > now
        {
            return Err(((f.blocked_until - now).num_milliseconds().max(0) as u64).div_ceil(1000));
        }
        if map.len() >= MAX_KEYS {
            self.forget(map, now);
        }
        let entry = map.entry(key.to_string()).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: now,
        });
        if now - entry.last >= self.window {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
        if entry.count > self.free_failures {
            let exponent = (entry.count - self.free_failures - 1).min(20);
            let wait = TimeDelta::seconds(1 << exponent).min(self.max_wait);
            entry.blocked_until = now + wait;
        }
        Ok(())
    }

    fn forget(&self, map: &mut HashMap<String, Failures>, now: DateTime<Utc>) {
        map.retain(|_, f| now - f.last < self.window || f.blocked_until > now);
    }
}

impl FailureThrottle {
    /// In memory, for one process.
    pub fn new(free_failures: u32, window: TimeDelta, max_wait: TimeDelta) -> Self {
        Self {
            rules: Rules {
                free_failures,
                window,
                max_wait,
            },
            memory: Arc::default(),
            redis: None,
        }
    }

    /// Shared through Redis under `name` (e.g. `login-account`).
    pub fn shared(self, redis: Redis, name: &'static str) -> Self {
        Self {
            redis: Some((redis, name)),
            ..self
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // A poisoned map only holds counters; keep using it.
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn memory_attempt(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        self.rules.attempt(&mut self.lock(), key, now)
    }

    fn memory_succeeded(&self, key: &str) {
        if let Some(entry) = self.lock().get_mut(key) {
            entry.count = entry.count.saturating_sub(1);
            if entry.count <= self.rules.free_failures {
                entry.blocked_until = entry.last;
            }
        }
    }

    /// Starts an attempt for `key`: `Err(seconds)` while it must wait.
    ///
    /// The attempt counts as a failure from the start, atomically, so that
    /// guesses sent all at once are throttled like guesses sent one after
    /// another; [`FailureThrottle::succeeded`] takes it back.
    pub async fn attempt(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let Some((redis, name)) = &self.redis else {
            return self.memory_attempt(key, now);
        };
        let result: redis::RedisResult<u64> = async {
            redis::Script::new(ATTEMPT)
                .key(redis.key(&format!("fail:{name}:{key}")))
                .arg(now.timestamp_millis())
                .arg(self.rules.window.num_milliseconds())
                .arg(self.rules.free_failures)
                .arg(self.rules.max_wait.num_milliseconds())
                .invoke_async(&mut redis.conn().await?)
                .await
        }
        .await;
        match result {
            Ok(0) => Ok(()),
            Ok(wait_ms) => Err(wait_ms.div_ceil(1000)),
            Err(err) => {
                // Still throttled, by this replica's own counts.
                tracing::warn!(error = %err, "shared failure throttle unreachable; counting in memory");
                self.memory_attempt(key, now)
            }
        }
    }

    /// The attempt succeeded: it no longer counts as a failure.
    pub async fn succeeded(&self, key: &str) {
        self.memory_succeeded(key);
        if let Some((redis, name)) = &self.redis {
            let result: redis::RedisResult<i64> = async {
                redis::Script::new(SUCCEEDED)
                    .key(redis.key(&format!("fail:{name}:{key}")))
                    .arg(self.rules.free_failures)
                    .invoke_async(&mut redis.conn().await?)
                    .await
            }
            .await;
            if let Err(err) = result {
                tracing::warn!(error = %err, "cannot update the shared failure throttle");
            }
        }
    }

    /// Forgets everything about `key`.
    pub async fn clear(&self, key: &str) {
        self.lock().remove(key);
        if let Some((redis, name)) = &self.redis {
            let result: redis::RedisResult<i64> = async {
                redis::cmd("DEL")
                    .arg(redis.key(&format!("fail:{name}:{key}")))
                    .query_async(&mut redis.conn().await?)
                    .await
            }
            .await;
            if let Err(err) = result {
                tracing::warn!(error = %err, "cannot clear the shared failure throttle");
            }
        }
    }

    /// Drops keys whose failures are older than the window; call now and
    /// then. (Redis expires its keys by itself.)
    pub fn forget_idle(&self, now: DateTime<Utc>) {
        self.rules.forget(&mut self.lock(), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_past_the_free_ones_wait_longer_each_time() {
        let throttle = FailureThrottle::new(2, TimeDelta::minutes(15), TimeDelta::minutes(15));
        let t0 = Utc::now();
        assert_eq!(throttle.attempt("a", t0).await, Ok(()));
        assert_eq!(throttle.attempt("a", t0).await, Ok(()));
        // The third failure is let through and starts a 1 s wait.
        assert_eq!(throttle.attempt("a", t0).await, Ok(()));
        assert_eq!(throttle.attempt("a", t0).await, Err(1));
        let t1 = t0 + TimeDelta::seconds(1);
        assert_eq!(throttle.attempt("a", t1).await, Ok(()));
        assert_eq!(throttle.attempt("a", t1).await, Err(2));
        assert_eq!(throttle.attempt("b", t0).await, Ok(()));
        throttle.clear("a").await;
        assert_eq!(throttle.attempt("a", t1).await, Ok(()));
    }

    #[tokio::test]
    async fn successes_do_not_count_against_a_shared_key() {
        let throttle = FailureThrottle::new(2, TimeDelta::minutes(15), TimeDelta::minutes(15));
        let t0 = Utc::now();
        for _ in 0..10 {
            assert_eq!(throttle.attempt("office", t0).await, Ok(()));
            throttle.succeeded("office").await;
        }
    }
}
