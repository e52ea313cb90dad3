//! The HTTP client: login, and the calls KiteMate makes for a logged-in user.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use rand::Rng as _;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::error::{self, Error};
use crate::limiter::{Class, Limiter, LocalLimiter};
use crate::models::{
    Candle, Holding, Instrument, Ltp, Margins, MfHolding, OhlcQuote, Positions, Profile, Quote,
    Session,
};

/// Most instruments one `/quote` call takes.
pub const QUOTE_BATCH: usize = 500;
/// Most instruments one `/quote/ohlc` or `/quote/ltp` call takes.
pub const LTP_BATCH: usize = 1000;

/// How to reach Kite and as which app.
#[derive(Clone)]
pub struct Config {
    pub api_key: String,
    pub api_secret: SecretString,
    /// `https://api.kite.trade`; tests point it at a fake server.
    pub api_root: String,
    /// `https://kite.zerodha.com`, where users log in.
    pub login_root: String,
    /// Per attempt.
    pub timeout: Duration,
    /// Further attempts of an idempotent call after a 429, a 5xx or a network error.
    pub retries: u32,
}

impl Config {
    pub fn new(api_key: impl Into<String>, api_secret: SecretString) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret,
            api_root: "https://api.kite.trade".into(),
            login_root: "https://kite.zerodha.com".into(),
            timeout: Duration::from_secs(10),
            retries: 3,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key)
            .field("api_root", &self.api_root)
            .finish_non_exhaustive()
    }
}

/// `SHA-256(api_key + request_token + api_secret)` in lowercase hex, as the
/// session exchange wants it.
pub fn checksum(api_key: &str, token: &str, api_secret: &str) -> String {
    let digest = Sha256::digest(format!("{api_key}{token}{api_secret}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Kite Connect client for one app (API key). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Kite {
    http: reqwest::Client,
    config: Arc<Config>,
    limiter: Arc<dyn Limiter>,
}

#[derive(serde::Deserialize)]
struct Success<T> {
    data: T,
}

impl Kite {
    pub fn new(config: Config) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("kitemate-kite/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::network)?;
        Ok(Self {
            http,
            config: Arc::new(config),
            limiter: Arc::new(LocalLimiter::default()),
        })
    }

    /// Shares the per-key rate limits with other processes.
    pub fn with_limiter(mut self, limiter: Arc<dyn Limiter>) -> Self {
        self.limiter = limiter;
        self
    }

    pub fn api_key(&self) -> &str {
        &self.config.api_key
    }

    /// Where to send the user's browser to log in. `state` comes back on the
    /// redirect (as `redirect_params`): bind it to the user against CSRF.
    pub fn login_url(&self, state: Option<&str>) -> String {
        let mut url = format!(
            "{}/connect/login?v=3&api_key={}",
            self.config.login_root,
            enc(&self.config.api_key)
        );
        if let Some(state) = state {
            url.push_str("&redirect_params=");
            url.push_str(&enc(&format!("state={}", enc(state))));
        }
        url
    }

    /// Exchanges the single-use `request_token` from the login redirect for
    /// a session. Not retried: a second try of a used token fails anyway.
    pub async fn generate_session(&self, request_token: &str) -> Result<Session, Error> {
        if request_token.is_empty() || !request_token.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::Invalid(
                "a request token is letters and digits".into(),
            ));
        }
        let checksum = checksum(
            &self.config.api_key,
            request_token,
            self.config.api_secret.expose_secret(),
        );
        let form = [
            ("api_key", self.config.api_key.as_str()),
            ("request_token", request_token),
            ("checksum", checksum.as_str()),
        ];
        let req = self
            .request(Method::POST, "/session/token", None)
            .form(&form);
        self.send(req, Class::Other, 0).await
    }

    /// Ends the API session of `access_token` at Kite.
    pub async fn invalidate_session(&self, access_token: &str) -> Result<(), Error> {
        let query = [
            ("api_key", self.config.api_key.as_str()),
            ("access_token", access_token),
        ];
        let req = self
            .request(Method::DELETE, "/session/token", None)
            .query(&query);
        let _: serde_json::Value = self.send(req, Class::Other, self.config.retries).await?;
        Ok(())
    }

    /// Calls on behalf of the user whose session `access_token` is.
    pub fn user<'a>(&'a self, access_token: &'a str) -> UserClient<'a> {
        UserClient {
            kite: self,
            access_token,
        }
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let req = self
            .http
            .request(method, format!("{}{path}", self.config.api_root))
            .header("X-Kite-Version", "3");
        match token {
            Some(token) => req.header(
                reqwest::header::AUTHORIZATION,
                format!("token {}:{token}", self.config.api_key),
            ),
            None => req,
        }
    }

    /// Sends `req` in its limiter turn, retrying transient failures up to
    /// `retries` times with jittered exponential backoff.
    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        class: Class,
        retries: u32,
    ) -> Result<T, Error> {
        let body = self.send_raw(req, class, retries).await?;
        let parsed: Success<T> = serde_json::from_slice(crate::strip_bom(&body))
            .map_err(|err| Error::decode(&err, body.len()))?;
        Ok(parsed.data)
    }

    async fn send_raw(
        &self,
        req: reqwest::RequestBuilder,
        class: Class,
        retries: u32,
    ) -> Result<bytes::Bytes, Error> {
        let mut attempt = 0;
        loop {
            let Some(this) = req.try_clone() else {
                return Err(Error::Invalid("request body cannot be retried".into()));
            };
            self.limiter.acquire(class).await;
            let err = match this.send().await {
                Ok(res) => {
                    let status = res.status();
                    match res.bytes().await {
                        Ok(body) if status == StatusCode::OK => return Ok(body),
                        Ok(body) => error::from_response(status.as_u16(), &body),
                        Err(err) => Error::network(err),
                    }
                }
                Err(err) => Error::network(err),
            };
            if attempt >= retries || !err.is_transient() {
                return Err(err);
            }
            attempt += 1;
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
}

/// 250 ms, 500 ms, 1 s, ... up to 8 s, each with up to 50% jitter so that
/// many callers do not come back at once.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250) * 2u32.saturating_pow(attempt.saturating_sub(1).min(5));
    let base = base.min(Duration::from_secs(8));
    let jitter = rand::rng().random_range(0.0..0.5);
    base.mul_f64(1.0 + jitter)
}

/// Everything but RFC 3986's unreserved characters is escaped.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, COMPONENT).to_string()
}

/// Historical candle intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Minute,
    Minute3,
    Minute5,
    Minute10,
    Minute15,
    Minute30,
    Minute60,
    Day,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Minute3 => "3minute",
            Self::Minute5 => "5minute",
            Self::Minute10 => "10minute",
            Self::Minute15 => "15minute",
            Self::Minute30 => "30minute",
            Self::Minute60 => "60minute",
            Self::Day => "day",
        }
    }

    /// The longest span one request may cover (Kite's staff on the forum).
    pub fn max_span(self) -> TimeDelta {
        TimeDelta::days(match self {
            Self::Minute => 60,
            Self::Minute3 | Self::Minute5 | Self::Minute10 => 100,
            Self::Minute15 | Self::Minute30 => 200,
            Self::Minute60 => 400,
            Self::Day => 2000,
        })
    }
}

/// Splits `[from, to]` into spans no longer than `interval` allows,
/// back to back without overlap.
pub fn split_range(
    from: NaiveDateTime,
    to: NaiveDateTime,
    interval: Interval,
) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut spans = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + interval.max_span() - TimeDelta::seconds(1)).min(to);
        spans.push((start, end));
        start = end + TimeDelta::seconds(1);
    }
    spans
}

/// Calls made with one user's session.
#[derive(Debug, Clone, Copy)]
pub struct UserClient<'a> {
    kite: &'a Kite,
    access_token: &'a str,
}

impl UserClient<'_> {
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        class: Class,
    ) -> Result<T, Error> {
        let req = self
            .kite
            .request(Method::GET, path, Some(self.access_token))
            .query(query);
        self.kite.send(req, class, self.kite.config.retries).await
    }

    pub async fn profile(&self) -> Result<Profile, Error> {
        self.get("/user/profile", &[], Class::Other).await
    }

    pub async fn margins(&self) -> Result<Margins, Error> {
        self.get("/user/margins", &[], Class::Other).await
    }

    pub async fn holdings(&self) -> Result<Vec<Holding>, Error> {
        self.get("/portfolio/holdings", &[], Class::Other).await
    }

    pub async fn positions(&self) -> Result<Positions, Error> {
        self.get("/portfolio/positions", &[], Class::Other).await
    }

    pub async fn mf_holdings(&self) -> Result<Vec<MfHolding>, Error> {
        self.get("/mf/holdings", &[], Class::Other).await
    }

    /// Quotes keyed by `EXCHANGE:SYMBOL`, in calls of at most `batch`
    /// instruments. Instruments Kite has no data for are absent.
    async fn quotes<T: DeserializeOwned>(
        &self,
        path: &str,
        instruments: &[&str],
        batch: usize,
    ) -> Result<HashMap<String, T>, Error> {
        let mut all = HashMap::with_capacity(instruments.len());
        for chunk in instruments.chunks(batch) {
            let query: Vec<(&str, String)> =
                chunk.iter().map(|i| ("i", (*i).to_string())).collect();
            let part: HashMap<String, T> = self.get(path, &query, Class::Quote).await?;
            all.extend(part);
        }
        Ok(all)
    }

    pub async fn quote(&self, instruments: &[&str]) -> Result<HashMap<String, Quote>, Error> {
        self.quotes("/quote", instruments, QUOTE_BATCH).await
    }

    pub async fn ohlc(&self, instruments: &[&str]) -> Result<HashMap<String, OhlcQuote>, Error> {
        self.quotes("/quote/ohlc", instruments, LTP_BATCH).await
    }

    pub async fn ltp(&self, instruments: &[&str]) -> Result<HashMap<String, Ltp>, Error> {
        self.quotes("/quote/ltp", instruments, LTP_BATCH).await
    }

    /// The instruments dump (CSV), of one exchange or of all.
    pub async fn instruments(&self, exchange: Option<&str>) -> Result<Vec<Instrument>, Error> {
        let path = match exchange {
            Some(exchange) => format!("/instruments/{}", enc(exchange)),
            None => "/instruments".to_string(),
        };
        let req = self
            .kite
            .request(Method::GET, &path, Some(self.access_token))
            // The full dump is tens of megabytes.
            .timeout(Duration::from_secs(120));
        let body = self
            .kite
            .send_raw(req, Class::Other, self.kite.config.retries)
            .await?;
        crate::parse_instruments(&body)
    }

    /// Candles of one instrument between `from` and `to` (IST), in as many
    /// requests as the interval's maximum span needs.
    pub async fn historical(
        &self,
        instrument_token: u32,
        interval: Interval,
        from: NaiveDateTime,
        to: NaiveDateTime,
        oi: bool,
    ) -> Result<Vec<Candle>, Error> {
        if from > to {
            return Err(Error::Invalid("`from` is after `to`".into()));
        }
        let path = format!(
            "/instruments/historical/{instrument_token}/{}",
            interval.as_str()
        );
        let mut candles: Vec<Candle> = Vec::new();
        for (start, end) in split_range(from, to, interval) {
            let query = [
                ("from", start.format("%Y-%m-%d %H:%M:%S").to_string()),
                ("to", end.format("%Y-%m-%d %H:%M:%S").to_string()),
                ("oi", u8::from(oi).to_string()),
            ];
            let raw: crate::RawCandles = self.get(&path, &query, Class::Historical).await?;
            for row in raw.candles {
                let candle = crate::parse_candle(&row)?;
                if candles.last().is_none_or(|last| last.time < candle.time) {
                    candles.push(candle);
                }
            }
        }
        Ok(candles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_the_documented_vector() {
        assert_eq!(
            checksum("xxx", "yyy", "zzz"),
            "cc6c955cadf2cc09442c0848ce8e165b8f9aa5974916de7186a9e1b6c4e7937e"
        );
    }

    #[test]
    fn long_ranges_are_split_without_gaps_or_overlap() {
        let at =
            |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default();
        let spans = split_range(
            at("2024-01-01 00:00:00"),
            at("2024-06-30 23:59:59"),
            Interval::Minute,
        );
        assert_eq!(spans.len(), 4, "182 days in spans of 60");
        assert_eq!(
            spans[0],
            (at("2024-01-01 00:00:00"), at("2024-02-29 23:59:59"))
        );
        assert_eq!(spans[1].0, at("2024-03-01 00:00:00"));
        assert_eq!(spans[3].1, at("2024-06-30 23:59:59"));
        for pair in spans.windows(2) {
            assert_eq!(pair[1].0 - pair[0].1, TimeDelta::seconds(1));
        }
        let one = split_range(
            at("2024-01-01 00:00:00"),
            at("2024-01-01 00:00:00"),
            Interval::Day,
        );
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn login_url_carries_the_state() -> Result<(), Error> {
        let kite = Kite::new(Config::new("abc", SecretString::from("s")))?;
        assert_eq!(
            kite.login_url(Some("x/y")),
            "https://kite.zerodha.com/connect/login?v=3&api_key=abc&redirect_params=state%3Dx%252Fy"
        );
        Ok(())
    }
}
