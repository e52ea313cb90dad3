//! HTTP handlers of the subscriptions service.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::SubscriptionsState;
use super::model::{
    BillingDetails, Checkout, Invoice, InvoicePage, MySubscription, PaidPlan, PlanList, Provider,
};
use super::service::DetailsChange;
use crate::audit::Origin;
use crate::auth::Auth;
use platform::observe::RequestInfo;

const TAG: &str = "subscriptions";

/// The plans on sale and what each includes; no sign-in needed.
#[utoipa::path(get, path = "/subscriptions/plans", tag = TAG,
    responses(
        (status = 200, description = "Free, Pro monthly and Pro yearly", body = PlanList),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn list_plans(State(state): State<SubscriptionsState>) -> ApiJson<PlanList> {
    ApiJson(state.service.plans())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequest {
    pub plan: PaidPlan,
    pub provider: Provider,
}

/// Starts paying for Pro. Razorpay: a subscription for Checkout to open
/// (`subscriptionId`, `keyId`); Stripe: a Checkout page to send the browser
/// to (`checkoutUrl`). Pro follows the provider's webhook.
#[utoipa::path(post, path = "/subscriptions/checkout", tag = TAG,
    security(("bearer" = [])),
    request_body = CheckoutRequest,
    responses(
        (status = 200, description = "What the browser needs to pay", body = Checkout),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "`already_exists`: a subscription is live, or a checkout is under way", body = ErrorBody),
        (status = 503, description = "`unavailable`: the provider is off here or not answering", body = ErrorBody),
    ))]
pub async fn checkout(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
    info: RequestInfo,
    ApiJson(req): ApiJson<CheckoutRequest>,
) -> Result<ApiJson<Checkout>, ApiError> {
    let origin = Origin::from(&info);
    let made = state
        .service
        .checkout(&caller, req.plan, req.provider, &origin)
        .await?;
    Ok(ApiJson(made))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    /// `razorpay_payment_id` from Checkout.
    #[schema(min_length = 1, max_length = 100, pattern = "^[A-Za-z0-9_]+$")]
    pub razorpay_payment_id: String,
    /// `razorpay_subscription_id` from Checkout.
    #[schema(min_length = 1, max_length = 100, pattern = "^[A-Za-z0-9_]+$")]
    pub razorpay_subscription_id: String,
    /// `razorpay_signature` from Checkout: 64 lower-case hex digits.
    #[schema(min_length = 64, max_length = 64, pattern = "^[0-9a-f]{64}$")]
    pub razorpay_signature: String,
}

fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            field,
            "must be 1–100 letters, digits or _",
        ))
    }
}

/// Razorpay Checkout's success callback: checked with the key secret over
/// the payment and the caller's own subscription, it shows Pro at once
/// for an hour while the webhook (the source of truth) arrives.
#[utoipa::path(post, path = "/subscriptions/razorpay/verify", tag = TAG,
    security(("bearer" = [])),
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "The caller's subscription now", body = MySubscription),
        (status = 400, description = "A field is invalid, or the signature does not match", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such subscription of the caller's", body = ErrorBody),
        (status = 503, description = "Razorpay is off here", body = ErrorBody),
    ))]
pub async fn verify_razorpay(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<ApiJson<MySubscription>, ApiError> {
    check_id("razorpayPaymentId", &req.razorpay_payment_id)?;
    check_id("razorpaySubscriptionId", &req.razorpay_subscription_id)?;
    let hex = req.razorpay_signature.len() == 64
        && req
            .razorpay_signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex {
        return Err(ApiError::invalid_field(
            "razorpaySignature",
            "must be 64 lower-case hex digits",
        ));
    }
    let me = state
        .service
        .verify_razorpay(
            &caller,
            &req.razorpay_payment_id,
            &req.razorpay_subscription_id,
            &req.razorpay_signature,
        )
        .await?;
    Ok(ApiJson(me))
}

/// The caller's plan, subscription, next charge and questions left.
#[utoipa::path(get, path = "/subscriptions/me", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's subscription", body = MySubscription),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn my_subscription(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
) -> Result<ApiJson<MySubscription>, ApiError> {
    Ok(ApiJson(state.service.me(&caller).await?))
}

/// Cancels at the end of the paid period (through the provider); Pro
/// lasts until then. Cancelling twice is the same as once.
#[utoipa::path(post, path = "/subscriptions/cancel", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's subscription now", body = MySubscription),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 400, description = "`failed_precondition`: nothing to cancel", body = ErrorBody),
        (status = 503, description = "The provider is off here or not answering", body = ErrorBody),
    ))]
pub async fn cancel(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
    info: RequestInfo,
) -> Result<ApiJson<MySubscription>, ApiError> {
    Ok(ApiJson(
        state.service.cancel(&caller, &Origin::from(&info)).await?,
    ))
}

/// Takes a cancellation back before the period ends (Stripe only:
/// Razorpay cannot, and says so).
#[utoipa::path(post, path = "/subscriptions/resume", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's subscription now", body = MySubscription),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 400, description = "`failed_precondition`: nothing to resume, or Razorpay", body = ErrorBody),
        (status = 503, description = "The provider is off here or not answering", body = ErrorBody),
    ))]
pub async fn resume(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
    info: RequestInfo,
) -> Result<ApiJson<MySubscription>, ApiError> {
    Ok(ApiJson(
        state.service.resume(&caller, &Origin::from(&info)).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortalLink {
    pub url: String,
}

/// A Stripe Customer Portal page (card, invoices, cancel) for the caller.
#[utoipa::path(post, path = "/subscriptions/portal", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Where to send the browser", body = PortalLink),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 400, description = "`failed_precondition`: no Stripe subscription", body = ErrorBody),
        (status = 503, description = "Stripe is off here or not answering", body = ErrorBody),
    ))]
pub async fn portal(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
) -> Result<ApiJson<PortalLink>, ApiError> {
    Ok(ApiJson(PortalLink {
        url: state.service.portal(&caller).await?,
    }))
}

/// The caller's billing details, as their invoices show them.
#[utoipa::path(get, path = "/subscriptions/billing-details", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The details", body = BillingDetails),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "None given yet", body = ErrorBody),
    ))]
pub async fn billing_details(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
) -> Result<ApiJson<BillingDetails>, ApiError> {
    state
        .service
        .billing_details(&caller)
        .await?
        .map(ApiJson)
        .ok_or_else(|| ApiError::not_found("no billing details yet"))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeDetails {
    /// The name on invoices (a person's or a business's), 1–100 characters.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// 1–300 characters; line breaks are kept.
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub address: Option<String>,
    /// The GST state code of the address (`27`, `29`, …): the place of supply.
    #[schema(min_length = 2, max_length = 2, pattern = "^[0-9]{2}$")]
    pub state_code: Option<String>,
    /// A registered business's GSTIN (its state must be `stateCode`); `""` removes it.
    #[schema(
        max_length = 15,
        pattern = "^([0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][0-9A-Z]Z[0-9A-Z])?$"
    )]
    pub gstin: Option<String>,
}

/// Text for an invoice: control characters other than line breaks dropped.
fn clean(text: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let kept: String = text
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_string();
    if kept.is_empty() {
        return Err(ApiError::invalid_field(field, "must not be blank"));
    }
    Ok(Some(kept))
}

/// Sets what the caller's invoices show; the first time needs `name`,
/// `address` and `stateCode`. Invoices already issued keep what they showed.
#[utoipa::path(patch, path = "/subscriptions/billing-details", tag = TAG,
    security(("bearer" = [])),
    request_body = ChangeDetails,
    responses(
        (status = 200, description = "The details now", body = BillingDetails),
        (status = 400, description = "A field is invalid or missing", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn change_billing_details(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
    info: RequestInfo,
    ApiJson(req): ApiJson<ChangeDetails>,
) -> Result<ApiJson<BillingDetails>, ApiError> {
    let change = DetailsChange {
        name: clean(req.name, "name")?,
        address: clean(req.address, "address")?,
        state_code: req.state_code,
        gstin: req.gstin.map(|g| g.trim().to_uppercase()),
    };
    let origin = Origin::from(&info);
    let details = state
        .service
        .change_billing_details(&caller, change, &origin)
        .await?;
    Ok(ApiJson(details))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// `nextCursor` of the previous page.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub cursor: Option<String>,
    /// Invoices per page, 1–50; 20 when left out.
    #[validate(range(min = 1, max = 50))]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// The caller's tax invoices, newest first.
#[utoipa::path(get, path = "/subscriptions/invoices", tag = TAG,
    security(("bearer" = [])),
    params(InvoiceQuery),
    responses(
        (status = 200, description = "A page of invoices", body = InvoicePage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_invoices(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<InvoiceQuery>,
) -> Result<ApiJson<InvoicePage>, ApiError> {
    let page = state
        .service
        .invoices(&caller, query.cursor.as_deref(), query.limit.unwrap_or(20))
        .await?;
    Ok(ApiJson(page))
}

/// One of the caller's invoices.
#[utoipa::path(get, path = "/subscriptions/invoices/{invoiceId}", tag = TAG,
    security(("bearer" = [])),
    params(("invoiceId" = String, Path, description = "The invoice")),
    responses(
        (status = 200, description = "The invoice", body = Invoice),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such invoice of the caller's", body = ErrorBody),
    ))]
pub async fn get_invoice(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<Invoice>, ApiError> {
    Ok(ApiJson(state.service.invoice(&caller, &id).await?))
}

/// A PDF answer, offered as a download under its own name.
pub struct PdfFile(pub String, pub Vec<u8>);

impl IntoResponse for PdfFile {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}\"", self.0);
        (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "private, no-store".to_string()),
            ],
            self.1,
        )
            .into_response()
    }
}

/// One of the caller's invoices as a PDF to print and file.
#[utoipa::path(get, path = "/subscriptions/invoices/{invoiceId}/invoice.pdf", tag = TAG,
    security(("bearer" = [])),
    params(("invoiceId" = String, Path, description = "The invoice")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such invoice of the caller's", body = ErrorBody),
    ))]
pub async fn invoice_pdf(
    State(state): State<SubscriptionsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<PdfFile, ApiError> {
    let (name, bytes) = state.service.invoice_pdf(&caller, &id).await?;
    Ok(PdfFile(name, bytes))
}
