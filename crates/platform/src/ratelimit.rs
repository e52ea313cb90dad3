//! Rate limits: a keyed limiter (per client IP on public endpoints), in
//! memory or shared by replicas through Redis.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures_util::future::{BoxFuture, Either};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tower::{Layer, Service};

use crate::client_ip::ClientIp;
use crate::config::RateLimitConfig;
use crate::error::ApiError;
use crate::kv::Redis;

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
    /// Lets everything through: for building the API spec, and load tests.
    pub fn disabled() -> Self {
        Self {
            inner: Limiter::Off,
        }
    }

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

    /// Shared through `redis` when there is one, else in memory.
    pub fn on(config: &RateLimitConfig, redis: Option<&Redis>) -> Self {
        match redis {
            Some(redis) => Self::redis(config, redis.clone()),
            None => Self::new(config),
        }
    }

    /// Takes one request from `key`'s allowance, or says how long to wait.
    /// When Redis cannot be reached the request passes: limits protect the
    /// service, and refusing everyone would not.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        match &self.inner {
            Limiter::Off | Limiter::Memory { .. } => self.check_now(key),
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

    /// The check without waiting: in memory (or off); Redis passes here.
    fn check_now(&self, key: &str) -> Result<(), Duration> {
        match &self.inner {
            Limiter::Memory { limiter, clock } => limiter
                .check_key(&key.to_string())
                .map_err(|not_until| not_until.wait_time_from(clock.now())),
            Limiter::Off | Limiter::Redis { .. } => Ok(()),
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

/// The layer for public routes: 429 `resource_exhausted` with `Retry-After`
/// once a client IP has spent its allowance.
#[derive(Debug, Clone)]
pub struct ByIpLayer {
    limiter: RateLimiter,
}

impl<S> Layer<S> for ByIpLayer {
    type Service = ByIp<S>;

    fn layer(&self, inner: S) -> ByIp<S> {
        ByIp {
            inner,
            limiter: self.limiter.clone(),
        }
    }
}

impl RateLimiter {
    /// This limiter, per client IP, as a layer for public routes.
    pub fn by_ip(&self) -> ByIpLayer {
        ByIpLayer {
            limiter: self.clone(),
        }
    }
}

/// See [`ByIpLayer`]. A tower service rather than `axum::middleware::from_fn`
/// so that a request the limiter can answer at once (off, or in memory) costs
/// no box and no clone of the rest of the stack; only the Redis check waits.
#[derive(Debug, Clone)]
pub struct ByIp<S> {
    inner: S,
    limiter: RateLimiter,
}

fn refused(wait: Duration) -> Response {
    ApiError::resource_exhausted(
        "too many requests from this address; slow down",
        wait.as_secs_f64().ceil() as u64,
    )
    .into_response()
}

impl<S> Service<Request> for ByIp<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let ip = match req.extensions().get::<ClientIp>() {
            Some(ClientIp(Some(ip))) => *ip,
            _ => return Either::Left(self.inner.call(req)),
        };
        match &self.limiter.inner {
            Limiter::Off => Either::Left(self.inner.call(req)),
            Limiter::Memory { .. } => match self.limiter.check_now(&ip_key(ip)) {
                Ok(()) => Either::Left(self.inner.call(req)),
                Err(wait) => Either::Right(Box::pin(std::future::ready(Ok(refused(wait))))),
            },
            Limiter::Redis { .. } => {
                // The service that was made ready answers; a fresh clone
                // takes its place for the next request.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let limiter = self.limiter.clone();
                Either::Right(Box::pin(async move {
                    match limiter.check(&ip_key(ip)).await {
                        Ok(()) => inner.call(req).await,
                        Err(wait) => Ok(refused(wait)),
                    }
                }))
            }
        }
    }
}

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
