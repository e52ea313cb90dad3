//! Fake Razorpay and Stripe servers on loopback: the API calls KiteMate
//! makes (create, fetch and cancel a subscription; Checkout Sessions with
//! idempotency keys; subscription updates; portal sessions), each checking
//! its credentials, state kept in memory; and webhook deliveries built and
//! signed as the providers build and sign them (in any order, twice,
//! tampered, stale).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

pub const RZP_KEY_ID: &str = "rzp_test_kitemate";
pub const RZP_KEY_SECRET: &str = "rzp-key-secret-for-tests";
pub const RZP_WEBHOOK_SECRET: &str = "rzp-webhook-secret-for-tests";
pub const STRIPE_KEY: &str = "sk_test_kitemate";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_kitemate_tests";
pub const RZP_PLAN_MONTHLY: &str = "plan_monthly_test";
pub const STRIPE_PRICE_MONTHLY: &str = "price_monthly_test";
pub const STRIPE_PRICE_YEARLY: &str = "price_yearly_test";

#[derive(Debug, Default)]
struct Shared {
    subscriptions: HashMap<String, Value>,
    sessions: HashMap<String, Value>,
    idempotency: HashMap<String, String>,
    calls: Vec<String>,
    /// Stripe: which invoice each PaymentIntent paid (`/v1/invoice_payments`).
    invoice_payments: HashMap<String, String>,
    next: u64,
    /// Answer every API call with this status instead (a provider outage).
    failing: Option<u16>,
}

type Fake = Arc<Mutex<Shared>>;

fn lock(shared: &Fake) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One provider's fake, with its in-memory state.
#[derive(Debug, Clone)]
pub struct FakeProvider {
    pub url: String,
    shared: Fake,
}

impl FakeProvider {
    pub fn calls(&self) -> Vec<String> {
        lock(&self.shared).calls.clone()
    }

    pub fn subscription(&self, id: &str) -> Value {
        lock(&self.shared)
            .subscriptions
            .get(id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Changes a subscription as the provider would on its own.
    pub fn change(&self, id: &str, change: impl FnOnce(&mut Value)) {
        if let Some(s) = lock(&self.shared).subscriptions.get_mut(id) {
            change(s);
        }
    }

    pub fn sessions(&self) -> Vec<Value> {
        lock(&self.shared).sessions.values().cloned().collect()
    }

    pub fn fail_with(&self, status: Option<u16>) {
        lock(&self.shared).failing = status;
    }

    /// Stripe: `payment_intent` paid `invoice`.
    pub fn put_invoice_payment(&self, payment_intent: &str, invoice: &str) {
        lock(&self.shared)
            .invoice_payments
            .insert(payment_intent.to_string(), invoice.to_string());
    }

    /// Puts a subscription in place, as a provider does after checkout.
    pub fn put_subscription(&self, id: &str, value: Value) {
        lock(&self.shared)
            .subscriptions
            .insert(id.to_string(), value);
    }
}

async fn serve(router: Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(url)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": message, "message": message } })))
        .into_response()
}

// --- Razorpay ---------------------------------------------------------------

fn razorpay_auth(headers: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{RZP_KEY_ID}:{RZP_KEY_SECRET}"))
    );
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

pub async fn start_razorpay() -> anyhow::Result<FakeProvider> {
    let shared: Fake = Arc::default();
    let router = Router::new()
        .route("/v1/subscriptions", post(rzp_create))
        .route("/v1/subscriptions/{id}", get(rzp_fetch))
        .route("/v1/subscriptions/{id}/cancel", post(rzp_cancel))
        .with_state(shared.clone());
    let url = format!("{}/v1", serve(router).await?);
    Ok(FakeProvider { url, shared })
}

fn guard(
    shared: &Fake,
    headers: &HeaderMap,
    call: String,
    auth: fn(&HeaderMap) -> bool,
) -> Option<Response> {
    let mut s = lock(shared);
    s.calls.push(call);
    if let Some(status) = s.failing {
        return Some(error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            "down",
        ));
    }
    (!auth(headers)).then(|| error(StatusCode::UNAUTHORIZED, "The api key provided is invalid"))
}

async fn rzp_create(
    State(shared): State<Fake>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(refused) = guard(
        &shared,
        &headers,
        "POST /subscriptions".into(),
        razorpay_auth,
    ) {
        return refused;
    }
    if body["plan_id"].as_str().is_none() || body["total_count"].as_u64().is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "plan_id and total_count are required",
        );
    }
    let mut s = lock(&shared);
    s.next += 1;
    let id = format!("sub_Test{:06}", s.next);
    let entity = json!({
        "id": id, "entity": "subscription", "plan_id": body["plan_id"], "status": "created",
        "customer_id": null, "current_start": null, "current_end": null, "charge_at": null,
        "total_count": body["total_count"], "paid_count": 0, "notes": body["notes"],
        "expire_by": body["expire_by"], "short_url": format!("https://rzp.io/i/{id}"),
        "created_at": 1_700_000_000,
    });
    s.subscriptions.insert(id, entity.clone());
    axum::Json(entity).into_response()
}

async fn rzp_fetch(
    State(shared): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = guard(
        &shared,
        &headers,
        format!("GET /subscriptions/{id}"),
        razorpay_auth,
    ) {
        return refused;
    }
    match lock(&shared).subscriptions.get(&id) {
        Some(s) => axum::Json(s.clone()).into_response(),
        None => error(StatusCode::BAD_REQUEST, "The id provided does not exist"),
    }
}

async fn rzp_cancel(
    State(shared): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let at_end = body["cancel_at_cycle_end"].as_bool().unwrap_or(false);
    if let Some(refused) = guard(
        &shared,
        &headers,
        format!("POST /subscriptions/{id}/cancel at_cycle_end={at_end}"),
        razorpay_auth,
    ) {
        return refused;
    }
    let mut s = lock(&shared);
    let Some(sub) = s.subscriptions.get_mut(&id) else {
        return error(StatusCode::BAD_REQUEST, "The id provided does not exist");
    };
    if !at_end {
        sub["status"] = json!("cancelled");
    }
    axum::Json(sub.clone()).into_response()
}

/// A Razorpay subscription event as Razorpay sends it, with a captured
/// payment when `payment` is `(id, amount)`.
pub fn razorpay_event(
    kind: &str,
    subscription: &Value,
    payment: Option<(&str, i64)>,
    at: i64,
) -> String {
    let mut payload = json!({ "subscription": { "entity": subscription } });
    let mut contains = vec!["subscription"];
    if let Some((id, amount)) = payment {
        payload["payment"] = json!({ "entity": {
            "id": id, "entity": "payment", "amount": amount, "currency": "INR",
            "status": "captured", "method": "card", "captured": true, "created_at": at,
        }});
        contains.push("payment");
    }
    json!({
        "entity": "event", "account_id": "acc_Test", "event": kind,
        "contains": contains, "payload": payload, "created_at": at,
    })
    .to_string()
}

pub fn razorpay_signature(secret: &str, body: &str) -> String {
    platform::mac::hmac_sha256_hex(secret.as_bytes(), &[body.as_bytes()])
}

// --- Stripe -----------------------------------------------------------------

fn stripe_auth(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {STRIPE_KEY}"))
}

pub async fn start_stripe() -> anyhow::Result<FakeProvider> {
    let shared: Fake = Arc::default();
    let router = Router::new()
        .route("/v1/checkout/sessions", post(stripe_session))
        .route(
            "/v1/subscriptions/{id}",
            get(stripe_fetch).post(stripe_update).delete(stripe_delete),
        )
        .route("/v1/billing_portal/sessions", post(stripe_portal))
        .route("/v1/invoice_payments", get(stripe_invoice_payments))
        .with_state(shared.clone());
    let url = serve(router).await?;
    Ok(FakeProvider { url, shared })
}

fn form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let Some(b) = hex {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn stripe_session(State(shared): State<Fake>, headers: HeaderMap, body: String) -> Response {
    if let Some(refused) = guard(
        &shared,
        &headers,
        "POST /v1/checkout/sessions".into(),
        stripe_auth,
    ) {
        return refused;
    }
    let params = form(&body);
    for required in [
        "mode",
        "line_items[0][price]",
        "success_url",
        "client_reference_id",
    ] {
        if !params.contains_key(required) {
            return error(StatusCode::BAD_REQUEST, &format!("missing {required}"));
        }
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut s = lock(&shared);
    if let Some(key) = &key
        && let Some(id) = s.idempotency.get(key).cloned()
    {
        return axum::Json(s.sessions[&id].clone()).into_response();
    }
    s.next += 1;
    let id = format!("cs_test_{:06}", s.next);
    let session = json!({
        "id": id, "object": "checkout.session", "mode": params["mode"],
        "url": format!("https://checkout.stripe.test/c/pay/{id}"),
        "client_reference_id": params["client_reference_id"],
        "customer": params.get("customer"), "customer_email": params.get("customer_email"),
        "metadata": { "user_id": params.get("metadata[user_id]") },
        "subscription_data": { "metadata": { "user_id": params.get("subscription_data[metadata][user_id]") } },
        "price": params["line_items[0][price]"],
        "success_url": params["success_url"],
    });
    s.sessions.insert(id.clone(), session.clone());
    if let Some(key) = key {
        s.idempotency.insert(key, id);
    }
    axum::Json(session).into_response()
}

/// `GET /v1/invoice_payments?payment[type]=payment_intent&payment[payment_intent]=pi_…`
async fn stripe_invoice_payments(
    State(shared): State<Fake>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let params = form(query.as_deref().unwrap_or_default());
    let intent = params
        .get("payment[payment_intent]")
        .cloned()
        .unwrap_or_default();
    if let Some(refused) = guard(
        &shared,
        &headers,
        format!("GET /v1/invoice_payments {intent}"),
        stripe_auth,
    ) {
        return refused;
    }
    if params.get("payment[type]").map(String::as_str) != Some("payment_intent") {
        return error(StatusCode::BAD_REQUEST, "payment[type] is required");
    }
    let data: Vec<Value> = lock(&shared)
        .invoice_payments
        .get(&intent)
        .map(|invoice| {
            json!({ "id": "inpay_1", "object": "invoice_payment", "invoice": invoice,
                    "payment": { "type": "payment_intent", "payment_intent": intent } })
        })
        .into_iter()
        .collect();
    axum::Json(json!({ "object": "list", "data": data, "has_more": false })).into_response()
}

async fn stripe_fetch(
    State(shared): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = guard(
        &shared,
        &headers,
        format!("GET /v1/subscriptions/{id}"),
        stripe_auth,
    ) {
        return refused;
    }
    match lock(&shared).subscriptions.get(&id) {
        Some(s) => axum::Json(s.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "No such subscription"),
    }
}

async fn stripe_update(
    State(shared): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let params = form(&body);
    let cancel = params
        .get("cancel_at_period_end")
        .cloned()
        .unwrap_or_default();
    if let Some(refused) = guard(
        &shared,
        &headers,
        format!("POST /v1/subscriptions/{id} cancel_at_period_end={cancel}"),
        stripe_auth,
    ) {
        return refused;
    }
    let mut s = lock(&shared);
    let Some(sub) = s.subscriptions.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "No such subscription");
    };
    sub["cancel_at_period_end"] = json!(cancel == "true");
    axum::Json(sub.clone()).into_response()
}

async fn stripe_delete(
    State(shared): State<Fake>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = guard(
        &shared,
        &headers,
        format!("DELETE /v1/subscriptions/{id}"),
        stripe_auth,
    ) {
        return refused;
    }
    let mut s = lock(&shared);
    let Some(sub) = s.subscriptions.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "No such subscription");
    };
    sub["status"] = json!("canceled");
    axum::Json(sub.clone()).into_response()
}

async fn stripe_portal(State(shared): State<Fake>, headers: HeaderMap, body: String) -> Response {
    if let Some(refused) = guard(
        &shared,
        &headers,
        "POST /v1/billing_portal/sessions".into(),
        stripe_auth,
    ) {
        return refused;
    }
    let params = form(&body);
    let Some(customer) = params.get("customer") else {
        return error(StatusCode::BAD_REQUEST, "missing customer");
    };
    axum::Json(json!({ "id": "bps_1", "url": format!("https://billing.stripe.test/p/session/{customer}") })).into_response()
}

/// A Stripe subscription object (API 2025-03-31.basil: the period on its item).
pub fn stripe_subscription(
    id: &str,
    user_id: &str,
    customer: &str,
    status: &str,
    period_end: i64,
) -> Value {
    json!({
        "id": id, "object": "subscription", "status": status, "customer": customer,
        "cancel_at_period_end": false, "metadata": { "user_id": user_id },
        "items": { "object": "list", "data": [{
            "id": "si_1", "object": "subscription_item",
            "price": { "id": STRIPE_PRICE_MONTHLY, "object": "price" },
            "current_period_start": period_end - 30 * 86_400, "current_period_end": period_end,
        }]},
    })
}

/// A Stripe event around `object`.
pub fn stripe_event(id: &str, kind: &str, object: &Value, at: i64) -> String {
    json!({
        "id": id, "object": "event", "api_version": "2025-03-31.basil", "created": at,
        "type": kind, "livemode": false, "pending_webhooks": 1,
        "data": { "object": object },
    })
    .to_string()
}

/// A paid invoice of `subscription` (the basil shape: `parent.subscription_details`).
pub fn stripe_invoice(
    id: &str,
    subscription: &str,
    user_id: &str,
    customer: &str,
    amount: i64,
    start: i64,
    end: i64,
) -> Value {
    json!({
        "id": id, "object": "invoice", "customer": customer, "currency": "inr",
        "amount_paid": amount, "status": "paid",
        "status_transitions": { "paid_at": start },
        "parent": { "type": "subscription_details", "subscription_details": {
            "subscription": subscription, "metadata": { "user_id": user_id } } },
        "lines": { "object": "list", "data": [{ "id": "il_1", "amount": amount,
            "period": { "start": start, "end": end },
            "pricing": { "price_details": { "price": STRIPE_PRICE_MONTHLY } } }] },
    })
}

pub fn stripe_signature(secret: &str, t: i64, body: &str) -> String {
    kitemate::subscriptions::signature::stripe_header(secret, t, body.as_bytes())
}
