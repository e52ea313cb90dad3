//! A fake Kite Connect server for tests: it serves Kite's official mock
//! responses and checks what the real API checks — the session checksum,
//! the `Authorization` header, sessions that die at 06:00 IST, and the
//! per-second limits (429 past them). Failures can be injected.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone as _, Utc};
use chrono_tz::Asia::Kolkata;

use crate::limiter::Class;

const SESSION: &str = include_str!("../fixtures/generate_session.json");
const LOGOUT: &str = include_str!("../fixtures/session_logout.json");
const PROFILE: &str = include_str!("../fixtures/profile.json");
const MARGINS: &str = include_str!("../fixtures/margins.json");
const HOLDINGS: &str = include_str!("../fixtures/holdings.json");
const POSITIONS: &str = include_str!("../fixtures/positions.json");
const MF_HOLDINGS: &str = include_str!("../fixtures/mf_holdings.json");
const QUOTE: &str = include_str!("../fixtures/quote.json");
const OHLC: &str = include_str!("../fixtures/ohlc.json");
const LTP: &str = include_str!("../fixtures/ltp.json");
const INSTRUMENTS_ALL: &str = include_str!("../fixtures/instruments_all.csv");
const INSTRUMENTS_NSE: &str = include_str!("../fixtures/instruments_nse.csv");
const HISTORICAL: &str = include_str!("../fixtures/historical_minute.json");
const HISTORICAL_OI: &str = include_str!("../fixtures/historical_oi.json");

#[derive(Debug, Default)]
struct Inner {
    /// Request tokens not used yet, with the Zerodha client id each logs in as
    /// (`None`: the fixture's).
    request_tokens: HashMap<String, Option<String>>,
    /// access token → when it stops working.
    sessions: HashMap<String, DateTime<Utc>>,
    offset: TimeDelta,
    /// Statuses to answer the next calls with, before anything else.
    failures: VecDeque<u16>,
    /// (unix second, calls in it) per class.
    windows: HashMap<&'static str, (i64, u32)>,
    /// `METHOD path` of every call, in order.
    calls: Vec<String>,
    /// Extra quotes served beside the fixture's, keyed `EXCHANGE:SYMBOL`.
    prices: HashMap<String, f64>,
    holdings: Option<String>,
}

#[derive(Debug)]
struct Shared {
    api_key: String,
    api_secret: String,
    limits: bool,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.lock().offset
    }
}

/// A running fake server; it stops when dropped.
#[derive(Debug)]
pub struct FakeKite {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeKite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// When a session made at `at` dies: the next 06:00 in India.
pub fn session_expiry(at: DateTime<Utc>) -> DateTime<Utc> {
    let local = at.with_timezone(&Kolkata);
    let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default();
    let mut day = local.date_naive();
    if local.time() >= six {
        day = day.succ_opt().unwrap_or(day);
    }
    Kolkata
        .from_local_datetime(&day.and_time(six))
        .single()
        .map_or(at + TimeDelta::days(1), |t| t.with_timezone(&Utc))
}

fn error(status: u16, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "status": "error", "message": message, "data": null, "error_type": error_type });
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response()
}

fn json(text: &str) -> Response {
    ([("content-type", "application/json")], text.to_string()).into_response()
}

impl FakeKite {
    /// Listens on a free local port, for the app `api_key`/`api_secret`,
    /// with Kite's rate limits enforced.
    pub async fn start(api_key: &str, api_secret: &str) -> std::io::Result<Self> {
        Self::start_with(api_key, api_secret, true).await
    }

    /// As [`FakeKite::start`]; `limits: false` serves any number of calls.
    pub async fn start_with(
        api_key: &str,
        api_secret: &str,
        limits: bool,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            limits,
            inner: Mutex::default(),
        });
        let app = Router::new()
            .route("/session/token", post(session).delete(logout))
            .route(
                "/user/profile",
                get(|s, h| fixture(s, h, "GET /user/profile", PROFILE)),
            )
            .route(
                "/user/margins",
                get(|s, h| fixture(s, h, "GET /user/margins", MARGINS)),
            )
            .route("/portfolio/holdings", get(holdings))
            .route(
                "/portfolio/positions",
                get(|s, h| fixture(s, h, "GET /portfolio/positions", POSITIONS)),
            )
            .route(
                "/mf/holdings",
                get(|s, h| fixture(s, h, "GET /mf/holdings", MF_HOLDINGS)),
            )
            .route("/quote", get(|s, h, q| quotes(s, h, q, QUOTE, 500)))
            .route("/quote/ohlc", get(|s, h, q| quotes(s, h, q, OHLC, 1000)))
            .route("/quote/ltp", get(|s, h, q| quotes(s, h, q, LTP, 1000)))
            .route("/instruments", get(|s, h| csv(s, h, INSTRUMENTS_ALL)))
            .route("/instruments/{exchange}", get(instruments_of))
            .route(
                "/instruments/historical/{token}/{interval}",
                get(historical),
            )
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The API root to configure the client with.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A request token, as Kite puts on the login redirect; good once.
    pub fn request_token(&self) -> String {
        self.token_for(None)
    }

    /// A request token that logs in as the Zerodha client `user_id`, for
    /// tests with several linked accounts.
    pub fn request_token_for(&self, user_id: &str) -> String {
        self.token_for(Some(user_id.to_string()))
    }

    fn token_for(&self, user_id: Option<String>) -> String {
        let token: String = (0..32)
            .map(|_| {
                let n = rand::random_range(0..36u8);
                char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
            })
            .collect();
        self.shared
            .lock()
            .request_tokens
            .insert(token.clone(), user_id);
        token
    }

    /// Moves the server's clock, so sessions expire as they would.
    pub fn advance(&self, by: TimeDelta) {
        self.shared.lock().offset += by;
    }

    /// Answers the next calls with these statuses, one each, first.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.shared.lock().failures.extend(statuses);
    }

    /// `METHOD /path` of every call so far.
    pub fn calls(&self) -> Vec<String> {
        self.shared.lock().calls.clone()
    }

    /// The access tokens of the live sessions this server handed out.
    pub fn access_tokens(&self) -> Vec<String> {
        self.shared.lock().sessions.keys().cloned().collect()
    }

    /// Serves a last price for `instrument` (`EXCHANGE:SYMBOL`) from the quote calls.
    pub fn set_price(&self, instrument: &str, price: f64) {
        self.shared.lock().prices.insert(instrument.into(), price);
    }

    /// Serves `holdings` (the `data` array as JSON) instead of the fixture.
    pub fn set_holdings(&self, holdings: serde_json::Value) {
        let body = serde_json::json!({ "status": "success", "data": holdings });
        self.shared.lock().holdings = Some(body.to_string());
    }
}

/// A refusal before the handler runs; small, unlike a `Response`.
struct Refusal(u16, &'static str, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.0, self.1, self.2)
    }
}

/// Records the call, applies injected failures and the per-second limit.
fn admit(shared: &Shared, call: String, class: Class) -> Result<(), Refusal> {
    let now = shared.now();
    let mut inner = shared.lock();
    inner.calls.push(call);
    if let Some(status) = inner.failures.pop_front() {
        let kind = if status == 429 {
            "NetworkException"
        } else {
            "GeneralException"
        };
        return Err(Refusal(status, kind, "injected failure"));
    }
    if shared.limits {
        let second = now.timestamp();
        let window = inner.windows.entry(class.name()).or_insert((second, 0));
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 += 1;
        if window.1 > class.per_second() {
            return Err(Refusal(429, "NetworkException", "Too many requests"));
        }
    }
    Ok(())
}

/// The `Authorization: token key:access_token` check of every user call.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Refusal> {
    if headers.get("x-kite-version").and_then(|v| v.to_str().ok()) != Some("3") {
        return Err(Refusal(
            400,
            "InputException",
            "X-Kite-Version header is missing",
        ));
    }
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((key, token)) = header
        .strip_prefix("token ")
        .and_then(|t| t.split_once(':'))
    else {
        return Err(Refusal(
            403,
            "TokenException",
            "Invalid `api_key` or `access_token`.",
        ));
    };
    let now = shared.now();
    let valid = key == shared.api_key
        && shared
            .lock()
            .sessions
            .get(token)
            .is_some_and(|expiry| *expiry > now);
    if valid {
        Ok(())
    } else {
        Err(Refusal(
            403,
            "TokenException",
            "Token is invalid or has expired.",
        ))
    }
}

fn guard(shared: &Shared, headers: &HeaderMap, call: String, class: Class) -> Result<(), Refusal> {
    admit(shared, call, class)?;
    authorize(shared, headers)
}

async fn session(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    if let Err(refused) = admit(&shared, "POST /session/token".into(), Class::Other) {
        return refused.into_response();
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("api_key") != shared.api_key {
        return error(403, "InputException", "Invalid `api_key`.");
    }
    let token = field("request_token");
    let expected = crate::checksum(&shared.api_key, token, &shared.api_secret);
    if field("checksum") != expected {
        return error(403, "TokenException", "Invalid `checksum`.");
    }
    let now = shared.now();
    let mut inner = shared.lock();
    let Some(client) = inner.request_tokens.remove(token) else {
        return error(403, "TokenException", "Token is invalid or has expired.");
    };
    let access: String = (0..32)
        .map(|_| char::from(b'a' + rand::random_range(0..26u8)))
        .collect();
    inner.sessions.insert(access.clone(), session_expiry(now));
    let mut body: serde_json::Value = serde_json::from_str(SESSION).unwrap_or_default();
    body["data"]["access_token"] = access.into();
    body["data"]["api_key"] = shared.api_key.clone().into();
    if let Some(client) = client {
        body["data"]["user_id"] = client.into();
    }
    json(&body.to_string())
}

async fn logout(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    if let Err(refused) = admit(&shared, "DELETE /session/token".into(), Class::Other) {
        return refused.into_response();
    }
    let query: HashMap<String, String> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let token = query.get("access_token").cloned().unwrap_or_default();
    if shared.lock().sessions.remove(&token).is_none() {
        return error(403, "TokenException", "Token is invalid or has expired.");
    }
    json(LOGOUT)
}

async fn fixture(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    call: &'static str,
    body: &'static str,
) -> Response {
    match guard(&shared, &headers, call.into(), Class::Other) {
        Ok(()) => json(body),
        Err(refused) => refused.into_response(),
    }
}

async fn holdings(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(refused) = guard(
        &shared,
        &headers,
        "GET /portfolio/holdings".into(),
        Class::Other,
    ) {
        return refused.into_response();
    }
    let custom = shared.lock().holdings.clone();
    json(custom.as_deref().unwrap_or(HOLDINGS))
}

async fn quotes(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: &'static str,
    max: usize,
) -> Response {
    let wanted: Vec<String> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "i")
        .map(|(_, v)| v.into_owned())
        .collect();
    if let Err(refused) = guard(
        &shared,
        &headers,
        format!("GET /quote ({} instruments)", wanted.len()),
        Class::Quote,
    ) {
        return refused.into_response();
    }
    if wanted.len() > max {
        return error(400, "InputException", "Too many instruments");
    }
    let fixture: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let template = fixture["data"]
        .as_object()
        .and_then(|m| m.values().next().cloned())
        .unwrap_or_default();
    let prices = shared.lock().prices.clone();
    let mut data = serde_json::Map::new();
    for instrument in wanted {
        // Instruments Kite knows nothing of are left out, as Kite does.
        if let Some(known) = fixture["data"].get(&instrument) {
            data.insert(instrument, known.clone());
        } else if let Some(price) = prices.get(&instrument) {
            let mut quote = template.clone();
            quote["last_price"] = (*price).into();
            data.insert(instrument, quote);
        }
    }
    json(&serde_json::json!({ "status": "success", "data": data }).to_string())
}

async fn csv(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: &'static str,
) -> Response {
    if let Err(refused) = guard(&shared, &headers, "GET /instruments".into(), Class::Other) {
        return refused.into_response();
    }
    ([("content-type", "text/csv")], body).into_response()
}

async fn instruments_of(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(exchange): Path<String>,
) -> Response {
    if exchange == "NSE" {
        csv(State(shared), headers, INSTRUMENTS_NSE).await
    } else {
        match guard(&shared, &headers, format!("GET /instruments/{exchange}"), Class::Other) {
            Ok(()) => ([("content-type", "text/csv")], "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\r\n").into_response(),
            Err(refused) => refused.into_response(),
        }
    }
}

async fn historical(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((token, interval)): Path<(u32, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let query: HashMap<String, String> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let from = query.get("from").cloned().unwrap_or_default();
    let to = query.get("to").cloned().unwrap_or_default();
    let call = format!("GET /instruments/historical/{token}/{interval} {from}..{to}");
    if let Err(refused) = guard(&shared, &headers, call, Class::Historical) {
        return refused.into_response();
    }
    let parse = |t: &str| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok();
    let (Some(from), Some(to)) = (parse(&from), parse(&to)) else {
        return error(400, "InputException", "invalid from or to");
    };
    let body = if query.get("oi").map(String::as_str) == Some("1") {
        HISTORICAL_OI
    } else {
        HISTORICAL
    };
    let mut fixture: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    // Only the candles inside the asked range, as Kite answers.
    if let Some(candles) = fixture["data"]["candles"].as_array_mut() {
        candles.retain(|c| {
            c[0].as_str()
                .and_then(|t| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok())
                .map(|t| t.naive_local())
                .is_some_and(|t| t >= from && t <= to)
        });
    }
    json(&fixture.to_string())
}
