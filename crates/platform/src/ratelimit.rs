//! Rate limits: a keyed limiter (per client IP on public endpoints) and a
//! throttle that slows repeated failures (such as wrong passwords).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimitConfig;
use crate::error::ApiError;
use crate::kv::Redis;
use crate::middleware::ClientIp;

/// Requests per minute per key, with a burst: in memory, or in Redis so
/// that every replica counts against the same allowance.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    inner: Limiter,
}

#[derive(Debug, Clone)]
enum Limiter {
    Off,
    Memory {
        limiter: Arc<DefaultKeyedRateLimiter<String>>,
        clock: DefaultClock,
    },
    Redis {
        redis: Redis,
        /// Milliseconds between requests at the steady rate.
        interval_ms: u64,
        /// How far ahead of the steady rate a burst may run, in milliseconds.
        tolerance_ms: u64,
    },
}

/// GCRA in one atomic step, on the server's clock: the key holds the
/// theoretical arrival time of the next request.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then
  return tat - now - tolerance
end
redis.call('SET', KEYS[1], tat + interval, 'PX', tat + interval - now)
return 0
";

fn quota(config: &RateLimitConfig) -> (NonZeroU32, NonZeroU32) {
    (
        NonZeroU32::new(config.per_ip_per_minute).unwrap_or(NonZeroU32::MIN),
        NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN),
    )
}

impl RateLimiter {
    /// In memory; every request passes when the config disables limiting.
    pub fn new(config: &RateLimitConfig) -> Self {
        if !config.enabled {
            return Self {
                inner: Limiter::Off,
            };
        }
        let (per_minute, burst) = quota(config);
        let limiter = Arc::new(governor::RateLimiter::keyed(
            Quota::per_minute(per_minute).allow_burst(burst),
        ));
        Self {
            inner: Limiter::Memory {
                limiter,
                clock: DefaultClock::default(),
            },
        }
    }

    /// Shared through Redis by every replica.
    pub fn redis(config: &RateLimitConfig, redis: Redis) -> Self {
        if !config.enabled {
            return Self {
                inner: Limiter::Off,
            };
        }
        let (per_minute, burst) = quota(config);
        let interval_ms = 60_000 / u64::from(per_minute.get());
        Self {
            inner: Limiter::Redis {
                redis,
                interval_ms,
                tolerance_ms: interval_ms * u64::from(burst.get() - 1),
            },
        }
    }

    /// Takes one request from `key`'s allowance, or says how long to wait.
    /// When Redis cannot be reached the request passes: limits protect the
    /// service, and refusing everyone would not.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        match &self.inner {
            Limiter::Off => Ok(()),
            Limiter::Memory { limiter, clock } => limiter
                .check_key(&key.to_string())
                .map_err(|not_until| not_until.wait_time_from(clock.now())),
            Limiter::Redis {
                redis,
                interval_ms,
                tolerance_ms,
            } => {
                let result: redis::RedisResult<u64> = async {
                    let mut conn = redis.conn().await?;
                    redis::Script::new(GCRA)
                        .key(redis.key(&format!("rate:{key}")))
                        .arg(*interval_ms)
                        .arg(*tolerance_ms)
                        .invoke_async(&mut conn)
                        .await
                }
                .await;
                match result {
                    Ok(0) => Ok(()),
                    Ok(wait_ms) => Err(Duration::from_millis(wait_ms)),
                    Err(err) => {
                        tracing::warn!(error = %err, "rate limit check failed; letting the request through");
                        Ok(())
                    }
                }
            }
        }
    }

    /// Forgets keys whose allowance is full again; call now and then.
    pub fn forget_idle(&self) {
        if let Limiter::Memory { limiter, .. } = &self.inner {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The caller's IP: the socket's peer, or the last `X-Forwarded-For` hop
/// (the one our own proxy appended) when configured to trust it.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
}

/// Middleware for public routes: 429 `resource_exhausted` with `Retry-After`
/// once a client IP has spent its allowance.
pub async fn limit_by_ip(State(limiter): State<RateLimiter>, req: Request, next: Next) -> Response {
    if let Some(ClientIp(Some(ip))) = req.extensions().get::<ClientIp>()
        && let Err(wait) = limiter.check(&ip_key(*ip)).await
    {
        return ApiError::resource_exhausted(
            "too many requests from this address; slow down",
            wait.as_secs_f64().ceil() as u64,
        )
        .into_response();
    }
    next.run(req).await
}

/// Counts failures per key and, past a few, makes the key wait longer and
/// longer (doubling, capped) before it may try again. Success clears it.
#[derive(Debug, Clone)]
pub struct FailureThrottle {
    free_failures: u32,
    window: TimeDelta,
    max_wait: TimeDelta,
    state: Arc<Mutex<HashMap<String, Failures>>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    blocked_until: DateTime<Utc>,
}

impl FailureThrottle {
    pub fn new(free_failures: u32, window: TimeDelta, max_wait: TimeDelta) -> Self {
        Self {
            free_failures,
            window,
            max_wait,
            state: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // A poisoned map only holds counters; keep using it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts an attempt for `key`: `Err(seconds)` while it must wait.
    ///
    /// The attempt counts as a failure from the start, under the lock, so
    /// that guesses sent all at once are throttled like guesses sent one
    /// after another; [`FailureThrottle::succeeded`] takes it back.
    pub fn attempt(&self, key: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let mut map = self.lock();
        if let Some(f) = map.get(key)
            && f.blocked_until > now
        {
            return Err(((f.blocked_until - now).num_milliseconds().max(0) as u64).div_ceil(1000));
        }
        if map.len() >= MAX_KEYS {
            Self::forget(&mut map, now, self.window);
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

    /// The attempt succeeded: it no longer counts as a failure.
    pub fn succeeded(&self, key: &str) {
        let mut map = self.lock();
        if let Some(entry) = map.get_mut(key) {
            entry.count = entry.count.saturating_sub(1);
            if entry.count <= self.free_failures {
                entry.blocked_until = entry.last;
            }
        }
    }

    /// Forgets everything about `key`.
    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Drops keys whose failures are older than the window; call now and then.
    pub fn forget_idle(&self, now: DateTime<Utc>) {
        Self::forget(&mut self.lock(), now, self.window);
    }

    fn forget(map: &mut HashMap<String, Failures>, now: DateTime<Utc>, window: TimeDelta) {
        map.retain(|_, f| now - f.last < window || f.blocked_until > now);
    }
}

/// Past this many keys, stale ones are dropped before a new one is added.
const MAX_KEYS: usize = 100_000;

/// The key an address is limited by: IPv6 clients commonly hold a whole /64,
/// so they are limited per /64 rather than per address.
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_free_ones_wait_longer_each_time() {
        let throttle = FailureThrottle::new(2, TimeDelta::minutes(15), TimeDelta::minutes(15));
        let t0 = Utc::now();
        assert_eq!(throttle.attempt("a", t0), Ok(()));
        assert_eq!(throttle.attempt("a", t0), Ok(()));
        // The third failure is let through and starts a 1 s wait.
        assert_eq!(throttle.attempt("a", t0), Ok(()));
        assert_eq!(throttle.attempt("a", t0), Err(1));
        let t1 = t0 + TimeDelta::seconds(1);
        assert_eq!(throttle.attempt("a", t1), Ok(()));
        assert_eq!(throttle.attempt("a", t1), Err(2));
        assert_eq!(throttle.attempt("b", t0), Ok(()));
        throttle.clear("a");
        assert_eq!(throttle.attempt("a", t1), Ok(()));
    }

    #[test]
    fn successes_do_not_count_against_a_shared_key() {
        let throttle = FailureThrottle::new(2, TimeDelta::minutes(15), TimeDelta::minutes(15));
        let t0 = Utc::now();
        for _ in 0..10 {
            assert_eq!(throttle.attempt("office", t0), Ok(()));
            throttle.succeeded("office");
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_eq!(ip_key("10.0.0.1".parse().unwrap()), "10.0.0.1");
        assert_eq!(ip_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
    }

    #[tokio::test]
    async fn limiter_refuses_past_the_burst() {
        let limiter = RateLimiter::new(&RateLimitConfig {
            enabled: true,
            per_ip_per_minute: 1,
            burst: 2,
        });
        assert!(limiter.check("ip").await.is_ok());
        assert!(limiter.check("ip").await.is_ok());
        assert!(limiter.check("ip").await.is_err());
        assert!(limiter.check("other").await.is_ok());
    }
}
