//! Settings of the subscriptions service (`[subscriptions]` in
//! kitemate.toml, `KITEMATE_SUBSCRIPTIONS__*`): the plans and their
//! provider ids, where each provider's API is, the grace period after a
//! failed charge, and the seller's details printed on invoices. The
//! providers' keys are secrets, read once by [`SubscriptionsConfig::resolve`].

use platform::config::ConfigError;
use platform::secrets::{ExposeSecret as _, SecretString, Secrets};
use serde::{Deserialize, Serialize};

use super::razorpay::{Razorpay, RazorpayKeys};
use super::stripe::{Stripe, StripeKeys};

/// Secret: the Razorpay API key id (`rzp_live_…`), also handed to Checkout.
pub const RAZORPAY_KEY_ID: &str = "KITEMATE_RAZORPAY_KEY_ID";
/// Secret: the Razorpay API key secret; it also signs Checkout callbacks.
pub const RAZORPAY_KEY_SECRET: &str = "KITEMATE_RAZORPAY_KEY_SECRET";
/// Secret: Razorpay webhook secrets, comma-separated, newest first.
pub const RAZORPAY_WEBHOOK_SECRETS: &str = "KITEMATE_RAZORPAY_WEBHOOK_SECRETS";
/// Secret: the Stripe secret key (`sk_live_…` or a restricted `rk_…`).
pub const STRIPE_SECRET_KEY: &str = "KITEMATE_STRIPE_SECRET_KEY";
/// Secret: Stripe endpoint signing secrets (`whsec_…`), comma-separated, newest first.
pub const STRIPE_WEBHOOK_SECRETS: &str = "KITEMATE_STRIPE_WEBHOOK_SECRETS";

/// The names above without `KITEMATE_`: secrets, not settings.
pub const SECRET_NAMES: &[&str] = &[
    "RAZORPAY_KEY_ID",
    "RAZORPAY_KEY_SECRET",
    "RAZORPAY_WEBHOOK_SECRETS",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRETS",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubscriptionsConfig {
    pub razorpay: RazorpayConfig,
    pub stripe: StripeConfig,
    pub plans: PlansConfig,
    /// Days Pro is kept after a renewal charge fails, while the provider
    /// retries (7 covers Razorpay's retries).
    pub grace_days: u32,
    /// Where Stripe Checkout and the Customer Portal send the browser back
    /// to (its `/app/billing` page); empty for the app's public URL.
    pub return_url: String,
    pub seller: SellerConfig,
    /// Seconds the handler's clock may run ahead of a Stripe signature's
    /// timestamp before the delivery counts as a replay.
    pub stripe_tolerance_secs: u64,
    /// Webhook deliveries one address may make a minute, and at once: a
    /// provider sends bursts from a few addresses and retries a 429, so
    /// this is far above the per-IP limit of the other public routes.
    pub webhooks_per_minute: u32,
    pub webhook_burst: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RazorpayConfig {
    pub api_root: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StripeConfig {
    pub api_root: String,
    /// The API version every request pins (`Stripe-Version`); set the
    /// webhook endpoint to the same one.
    pub api_version: String,
}

/// The paid plans; Free needs no settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlansConfig {
    pub pro_monthly: PaidPlanConfig,
    pub pro_yearly: PaidPlanConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaidPlanConfig {
    /// What the customer pays each period, GST included, in paise.
    pub price_paise: i64,
    /// The plan made once in Razorpay's Dashboard (`plan_…`).
    pub razorpay_plan_id: String,
    /// The recurring Price made once in Stripe (`price_…`).
    pub stripe_price_id: String,
}

/// The supplier on every tax invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SellerConfig {
    pub name: String,
    pub address: String,
    /// The two-digit GST state code of the seller's registration (`29` is
    /// Karnataka); a customer in the same state pays CGST + SGST, any other
    /// IGST.
    pub state_code: String,
    pub gstin: String,
    /// The services accounting code (998314: IT design and development
    /// services; an operator's accountant may pick another).
    pub sac: String,
    /// Percent of GST on the service.
    pub gst_percent: u32,
}

impl Default for SubscriptionsConfig {
    fn default() -> Self {
        Self {
            razorpay: RazorpayConfig {
                api_root: "https://api.razorpay.com/v1".into(),
            },
            stripe: StripeConfig {
                api_root: "https://api.stripe.com".into(),
                api_version: "2025-03-31.basil".into(),
            },
            plans: PlansConfig {
                pro_monthly: PaidPlanConfig {
                    price_paise: 29_900,
                    razorpay_plan_id: String::new(),
                    stripe_price_id: String::new(),
                },
                pro_yearly: PaidPlanConfig {
                    price_paise: 299_900,
                    razorpay_plan_id: String::new(),
                    stripe_price_id: String::new(),
                },
            },
            grace_days: 7,
            return_url: String::new(),
            seller: SellerConfig {
                name: "KiteMate".into(),
                address: "Bengaluru, Karnataka".into(),
                state_code: "29".into(),
                gstin: String::new(),
                sac: "998314".into(),
                gst_percent: 18,
            },
            stripe_tolerance_secs: 300,
            webhooks_per_minute: 6000,
            webhook_burst: 1000,
        }
    }
}

impl Default for RazorpayConfig {
    fn default() -> Self {
        SubscriptionsConfig::default().razorpay
    }
}

impl Default for StripeConfig {
    fn default() -> Self {
        SubscriptionsConfig::default().stripe
    }
}

impl Default for PlansConfig {
    fn default() -> Self {
        SubscriptionsConfig::default().plans
    }
}

impl Default for PaidPlanConfig {
    fn default() -> Self {
        SubscriptionsConfig::default().plans.pro_monthly
    }
}

impl Default for SellerConfig {
    fn default() -> Self {
        SubscriptionsConfig::default().seller
    }
}

impl SubscriptionsConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let err =
            |key: &str, why: &str| Err(ConfigError::new(format!("`subscriptions.{key}`: {why}")));
        for (key, root) in [
            ("razorpay.api_root", &self.razorpay.api_root),
            ("stripe.api_root", &self.stripe.api_root),
        ] {
            if !(root.starts_with("https://") || root.starts_with("http://")) {
                return err(key, "must start with https:// or http://");
            }
        }
        for (key, plan) in [
            ("plans.pro_monthly", &self.plans.pro_monthly),
            ("plans.pro_yearly", &self.plans.pro_yearly),
        ] {
            if !(100..=1_000_000_000).contains(&plan.price_paise) {
                return err(
                    &format!("{key}.price_paise"),
                    "must be between 100 (₹1) and 1,000,000,000 paise",
                );
            }
        }
        if self.grace_days > 60 {
            return err("grace_days", "must be at most 60");
        }
        let code_ok = self.seller.state_code.len() == 2
            && self.seller.state_code.bytes().all(|b| b.is_ascii_digit());
        if !code_ok {
            return err("seller.state_code", "must be a two-digit GST state code");
        }
        if !self.seller.gstin.is_empty() && !super::gst::is_gstin(&self.seller.gstin) {
            return err("seller.gstin", "is not a 15-character GSTIN");
        }
        if self.seller.gst_percent > 28 {
            return err("seller.gst_percent", "must be at most 28");
        }
        if !(1..=3600).contains(&self.stripe_tolerance_secs) {
            return err("stripe_tolerance_secs", "must be between 1 and 3600");
        }
        if self.webhooks_per_minute == 0 || self.webhook_burst == 0 {
            return err(
                "webhooks_per_minute",
                "and `webhook_burst` must be at least 1",
            );
        }
        Ok(())
    }

    /// The per-address limit on webhook deliveries; `enabled` follows
    /// `rate_limit.enabled`.
    pub fn webhook_limit(&self, enabled: bool) -> platform::config::RateLimitConfig {
        platform::config::RateLimitConfig {
            enabled,
            per_ip_per_minute: self.webhooks_per_minute,
            burst: self.webhook_burst,
        }
    }

    /// The provider clients whose secrets are all present; a provider with
    /// none of its secrets is off, one with only some is a mistake named.
    pub fn resolve(&self, secrets: &Secrets) -> Result<Providers, ConfigError> {
        let razorpay = match (
            secrets.get(RAZORPAY_KEY_ID),
            secrets.get(RAZORPAY_KEY_SECRET),
            secrets.get(RAZORPAY_WEBHOOK_SECRETS),
        ) {
            (None, None, None) => None,
            (Some(key_id), Some(key_secret), Some(webhook)) => {
                let keys = RazorpayKeys {
                    key_id: key_id.expose_secret().to_string(),
                    key_secret,
                    webhook_secrets: secret_list(RAZORPAY_WEBHOOK_SECRETS, &webhook)?,
                };
                Some(
                    Razorpay::new(&self.razorpay.api_root, keys)
                        .map_err(|e| ConfigError::new(format!("`subscriptions.razorpay`: {e}")))?,
                )
            }
            _ => {
                return Err(ConfigError::new(format!(
                    "`{RAZORPAY_KEY_ID}`, `{RAZORPAY_KEY_SECRET}` and `{RAZORPAY_WEBHOOK_SECRETS}`: set all three to take payments through Razorpay, or none"
                )));
            }
        };
        let stripe = match (
            secrets.get(STRIPE_SECRET_KEY),
            secrets.get(STRIPE_WEBHOOK_SECRETS),
        ) {
            (None, None) => None,
            (Some(secret_key), Some(webhook)) => {
                let keys = StripeKeys {
                    secret_key,
                    webhook_secrets: secret_list(STRIPE_WEBHOOK_SECRETS, &webhook)?,
                };
                Some(
                    Stripe::new(&self.stripe.api_root, &self.stripe.api_version, keys)
                        .map_err(|e| ConfigError::new(format!("`subscriptions.stripe`: {e}")))?,
                )
            }
            _ => {
                return Err(ConfigError::new(format!(
                    "`{STRIPE_SECRET_KEY}` and `{STRIPE_WEBHOOK_SECRETS}`: set both to take payments through Stripe, or neither"
                )));
            }
        };
        Ok(Providers { razorpay, stripe })
    }
}

/// The clients of the providers that are on.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    pub razorpay: Option<Razorpay>,
    pub stripe: Option<Stripe>,
}

/// A comma-separated list of secrets, newest first; empty items are a mistake.
fn secret_list(name: &str, value: &SecretString) -> Result<Vec<SecretString>, ConfigError> {
    let list: Vec<SecretString> = value
        .expose_secret()
        .split(',')
        .map(|s| SecretString::from(s.trim().to_string()))
        .collect();
    if list.iter().any(|s| s.expose_secret().is_empty()) {
        return Err(ConfigError::new(format!(
            "`{name}`: a comma-separated list of secrets with none empty"
        )));
    }
    Ok(list)
}
