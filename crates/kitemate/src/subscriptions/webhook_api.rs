//! The providers' webhook endpoints: raw bodies, signed, answered at once
//! (the work goes through the outbox).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use platform::{ApiError, ApiJson, ErrorBody};

use super::SubscriptionsState;
use super::model::Provider;
use super::webhooks::Received;

const TAG: &str = "subscriptions";

/// Razorpay's webhook: `X-Razorpay-Signature` (HMAC-SHA256 of the raw body
/// with a webhook secret) and `X-Razorpay-Event-Id`. A signed event is
/// answered 200 even when KiteMate has no use for it; a repeat of an event
/// id is answered 200 and changes nothing.
#[utoipa::path(post, path = "/webhooks/razorpay", tag = TAG,
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "The event, exactly as Razorpay signed it"),
    params(
        ("x-razorpay-signature" = String, Header, description = "hex(HMAC-SHA256(webhook secret, body))"),
        ("x-razorpay-event-id" = String, Header, description = "The event's id, the same on every retry"),
    ),
    responses(
        (status = 200, description = "Recorded (or recorded before)", body = Received),
        (status = 400, description = "Not signed by Razorpay, or unreadable", body = ErrorBody),
        (status = 503, description = "Razorpay is off here", body = ErrorBody),
    ))]
pub async fn razorpay_webhook(
    State(state): State<SubscriptionsState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<ApiJson<Received>, ApiError> {
    Ok(ApiJson(
        state
            .service
            .receive(Provider::Razorpay, &headers, &body)
            .await?,
    ))
}

/// Stripe's webhook: `Stripe-Signature` (`t=…,v1=…`, HMAC-SHA256 of
/// `t.body` with an endpoint secret, at most 300 s old). Snapshot events
/// of a pinned API version.
#[utoipa::path(post, path = "/webhooks/stripe", tag = TAG,
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "The event, exactly as Stripe signed it"),
    params(
        ("stripe-signature" = String, Header, description = "t=<unix time>,v1=<hex>[,v1=…]"),
    ),
    responses(
        (status = 200, description = "Recorded (or recorded before)", body = Received),
        (status = 400, description = "Not signed by Stripe, too old, or unreadable", body = ErrorBody),
        (status = 503, description = "Stripe is off here", body = ErrorBody),
    ))]
pub async fn stripe_webhook(
    State(state): State<SubscriptionsState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<ApiJson<Received>, ApiError> {
    Ok(ApiJson(
        state
            .service
            .receive(Provider::Stripe, &headers, &body)
            .await?,
    ))
}
