//! Plans, a user's subscription and their tax invoices, as the API shows
//! them; plain types other services may read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A plan anyone can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    ProMonthly,
    ProYearly,
}

/// A plan that is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaidPlan {
    ProMonthly,
    ProYearly,
}

impl PaidPlan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProMonthly => "pro_monthly",
            Self::ProYearly => "pro_yearly",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pro_monthly" => Some(Self::ProMonthly),
            "pro_yearly" => Some(Self::ProYearly),
            _ => None,
        }
    }

    pub fn plan(self) -> Plan {
        match self {
            Self::ProMonthly => Plan::ProMonthly,
            Self::ProYearly => Plan::ProYearly,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::ProMonthly => "Pro (monthly)",
            Self::ProYearly => "Pro (yearly)",
        }
    }
}

/// Who takes the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Razorpay,
    Stripe,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Razorpay => "razorpay",
            Self::Stripe => "stripe",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "razorpay" => Some(Self::Razorpay),
            "stripe" => Some(Self::Stripe),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Razorpay => "Razorpay",
            Self::Stripe => "Stripe",
        }
    }
}

/// What a plan lets one do; `null` is unlimited.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Allowance {
    pub questions_per_month: Option<i64>,
    pub widgets: Option<i64>,
    pub dashboards: Option<i64>,
}

/// A plan on sale.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanInfo {
    pub id: Plan,
    pub name: String,
    /// What one period costs, GST included, in paise (0 for Free).
    pub price_paise: i64,
    /// `month` or `year`; absent for Free.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    pub includes: Allowance,
    /// The providers that sell it here (both need their keys and the plan's id).
    pub providers: Vec<Provider>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanList {
    pub plans: Vec<PlanInfo>,
}

/// What the browser needs to pay.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Checkout {
    pub provider: Provider,
    pub plan: PaidPlan,
    /// Razorpay: the subscription Checkout opens (`subscription_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Razorpay: the public key id Checkout opens with (`key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Where to send the browser: Stripe's Checkout page, or Razorpay's
    /// hosted authorisation page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
}

/// The caller's plan and subscription, and what is left of the month.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MySubscription {
    /// `free` or `pro`, as the next request carries it.
    pub tier: String,
    pub plan: Plan,
    /// The latest subscription's state as its provider last told it
    /// (`active`, `pending`, `past_due`, `cancelled`, …), or `checkout`
    /// before the provider has said anything; absent with none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_period_end: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_charge_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_charge_paise: Option<i64>,
    pub cancel_at_period_end: bool,
    /// After a failed charge: Pro is kept until then while the provider retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_until: Option<DateTime<Utc>>,
    /// When Pro ends unless something else happens (a cancelled
    /// subscription's period end, a grace's end); absent while it runs on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pro_until: Option<DateTime<Utc>>,
    /// Questions left this month; absent when unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions_left: Option<i64>,
    pub questions_reset_at: DateTime<Utc>,
}

/// The customer on their invoices.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BillingDetails {
    pub name: String,
    pub address: String,
    /// Two-digit GST state code (`27` Maharashtra, `29` Karnataka, …).
    pub state_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gstin: Option<String>,
}

/// The supplier as printed on an invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Seller {
    pub name: String,
    pub address: String,
    pub state_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gstin: Option<String>,
    pub sac: String,
}

/// A tax invoice. Amounts in paise; `taxablePaise + cgstPaise + sgstPaise +
/// igstPaise == totalPaise` always.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: String,
    /// `KM/2026-27/000123`: gap-free within a financial year.
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub plan: PaidPlan,
    pub provider: Provider,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_start: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_end: Option<DateTime<Utc>>,
    pub total_paise: i64,
    pub taxable_paise: i64,
    pub cgst_paise: i64,
    pub sgst_paise: i64,
    pub igst_paise: i64,
    pub gst_percent: u32,
    pub seller: Seller,
    /// Absent when the customer gave no billing details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<BillingDetails>,
    /// The printable PDF.
    pub pdf_url: String,
}

/// A page of invoices, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoicePage {
    pub invoices: Vec<Invoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
