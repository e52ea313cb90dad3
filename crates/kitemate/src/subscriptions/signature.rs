//! The providers' signatures, as pure functions of the secrets, the header,
//! the raw body and the time: Razorpay's webhook and Checkout callback
//! signatures and Stripe's `Stripe-Signature`. Each compares in constant
//! time and accepts any of several secrets, so a secret rotates without a
//! lost event. Formulas: `docs/subscriptions.md` (from the providers' SDKs).

use platform::crypto::constant_time_eq;
use platform::mac::hmac_sha256_hex;
use platform::secrets::{ExposeSecret as _, SecretString};

/// Why a delivery's signature is refused; none of them says anything about
/// the secret or the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header cannot be read")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
}

/// Whether `signature` is `hex(HMAC_SHA256(secret, parts…))` for any secret.
fn signed_by_any(secrets: &[SecretString], parts: &[&[u8]], signature: &str) -> bool {
    // Every secret is tried, so the time does not tell which one matched.
    secrets.iter().fold(false, |found, secret| {
        let expected = hmac_sha256_hex(secret.expose_secret().as_bytes(), parts);
        constant_time_eq(expected.as_bytes(), signature.as_bytes()) | found
    })
}

/// `X-Razorpay-Signature`: `hex(HMAC_SHA256(webhook_secret, raw_body))`.
pub fn razorpay_webhook(
    secrets: &[SecretString],
    header: Option<&str>,
    body: &[u8],
) -> Result<(), Refusal> {
    let signature = header.ok_or(Refusal::Missing)?.trim();
    if signature.is_empty() || signature.len() > 128 {
        return Err(Refusal::Malformed);
    }
    if signed_by_any(secrets, &[body], signature) {
        Ok(())
    } else {
        Err(Refusal::Mismatch)
    }
}

/// A subscription's Checkout callback: `hex(HMAC_SHA256(key_secret,
/// payment_id + "|" + subscription_id))`, payment id first.
pub fn razorpay_checkout(
    key_secret: &SecretString,
    payment_id: &str,
    subscription_id: &str,
    signature: &str,
) -> bool {
    signed_by_any(
        std::slice::from_ref(key_secret),
        &[payment_id.as_bytes(), b"|", subscription_id.as_bytes()],
        signature,
    )
}

/// `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…][,v0=…]`: any `v1` equal to
/// `hex(HMAC_SHA256(secret, t + "." + raw_body))` for any secret, and `t`
/// not older than `tolerance` seconds at `now` (nor that far in the
/// future). `None` turns the time check off. Answers `t`.
pub fn stripe_webhook(
    secrets: &[SecretString],
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance: Option<i64>,
) -> Result<i64, Refusal> {
    let header = header.ok_or(Refusal::Missing)?;
    if header.len() > 2048 {
        return Err(Refusal::Malformed);
    }
    let mut timestamp: Option<&str> = None;
    let mut candidates = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => timestamp = Some(value),
            "v1" => candidates.push(value),
            _ => {}
        }
    }
    let t_text = timestamp.ok_or(Refusal::Malformed)?;
    let t: i64 = t_text.parse().map_err(|_| Refusal::Malformed)?;
    if candidates.is_empty() {
        return Err(Refusal::Malformed);
    }
    let matched = candidates.iter().fold(false, |found, candidate| {
        signed_by_any(secrets, &[t_text.as_bytes(), b".", body], candidate) | found
    });
    if !matched {
        return Err(Refusal::Mismatch);
    }
    if let Some(tolerance) = tolerance
        && (now.saturating_sub(t) > tolerance || t.saturating_sub(now) > tolerance)
    {
        return Err(Refusal::Stale);
    }
    Ok(t)
}

/// A Stripe-Signature header for `body` at `t` (the fake provider in the
/// tests signs with it, and so does the benchmark).
pub fn stripe_header(secret: &str, t: i64, body: &[u8]) -> String {
    let t = t.to_string();
    let v1 = hmac_sha256_hex(secret.as_bytes(), &[t.as_bytes(), b".", body]);
    format!("t={t},v1={v1}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../../tests/data/payments/vectors.json"))
            .expect("vectors.json parses")
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    fn text<'a>(v: &'a Value, key: &str) -> &'a str {
        v[key].as_str().unwrap_or_default()
    }

    #[test]
    fn every_razorpay_webhook_vector() {
        let all = vectors();
        let list = all["razorpay"]["webhook_signature"]
            .as_array()
            .expect("list");
        assert!(list.len() >= 8);
        for v in list {
            let got = razorpay_webhook(
                &[secret(text(v, "secret"))],
                Some(text(v, "signature")),
                text(v, "body").as_bytes(),
            );
            assert_eq!(got.is_ok(), v["valid"] == true, "vector {}", v["id"]);
        }
    }

    #[test]
    fn every_razorpay_subscription_callback_vector() {
        let all = vectors();
        let list = all["razorpay"]["checkout_subscription_signature"]
            .as_array()
            .expect("list");
        for v in list {
            let ok = razorpay_checkout(
                &secret(text(v, "key_secret")),
                text(v, "payment_id"),
                text(v, "subscription_id"),
                text(v, "signature"),
            );
            assert_eq!(ok, v["valid"] == true, "vector {}", v["id"]);
        }
    }

    #[test]
    fn every_stripe_webhook_vector() {
        let all = vectors();
        let list = all["stripe"]["webhook_signature"].as_array().expect("list");
        assert!(list.len() >= 9);
        for v in list {
            let got = stripe_webhook(
                &[secret(text(v, "secret"))],
                Some(text(v, "header")),
                text(v, "body").as_bytes(),
                v["received_at"].as_i64().unwrap_or_default(),
                v["tolerance"].as_i64(),
            );
            assert_eq!(got.is_ok(), v["valid"] == true, "vector {}", v["id"]);
        }
    }

    #[test]
    fn razorpay_refusals_of_our_own() {
        let body = br#"{"a":1,"b":2,"c":{"d":3}}"#;
        let good = "2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc";
        let ok = |secrets: &[SecretString], sig: &str, body: &[u8]| {
            razorpay_webhook(secrets, Some(sig), body).is_ok()
        };
        assert!(ok(&[secret("123456")], good, body));
        // Rotation: the old secret still works while listed, in any place.
        assert!(ok(&[secret("new"), secret("123456")], good, body));
        assert!(!ok(&[secret("new")], good, body));
        // One hex digit changed; the body re-serialised; CRLF.
        let mut changed = good.to_string();
        changed.replace_range(0..1, "3");
        assert!(!ok(&[secret("123456")], &changed, body));
        assert!(!ok(
            &[secret("123456")],
            good,
            br#"{"a": 1, "b": 2, "c": {"d": 3}}"#
        ));
        assert!(!ok(
            &[secret("123456")],
            good,
            b"{\"a\":1,\"b\":2,\r\n\"c\":{\"d\":3}}"
        ));
        assert_eq!(
            razorpay_webhook(&[secret("123456")], None, body),
            Err(Refusal::Missing)
        );
        // The key secret signs callbacks, not webhooks, and the other way round.
        let key_secret = secret("EnLs21M47BllR3X8PSFtjtbd");
        let sig = "601f383334975c714c91a7d97dd723eb56520318355863dcf3821c0d07a17693";
        assert!(razorpay_checkout(
            &key_secret,
            "pay_IDZNwZZFtnjyym",
            "sub_ID6MOhgkcoHj9I",
            sig
        ));
        assert!(!razorpay_checkout(
            &key_secret,
            "sub_ID6MOhgkcoHj9I",
            "pay_IDZNwZZFtnjyym",
            sig
        ));
        assert!(!razorpay_checkout(
            &secret("webhook"),
            "pay_IDZNwZZFtnjyym",
            "sub_ID6MOhgkcoHj9I",
            sig
        ));
        // A callback's signature sent as a webhook fails the webhook secret.
        let message = b"pay_IDZNwZZFtnjyym|sub_ID6MOhgkcoHj9I";
        assert!(ok(&[key_secret], sig, message), "same formula, other key");
        assert!(!ok(&[secret("webhook")], sig, message));
    }

    #[test]
    fn stripe_refusals_of_our_own() {
        let body = b"{\"id\":\"evt_1\"}\n";
        let secrets = [secret("whsec_a")];
        let header = stripe_header("whsec_a", 1000, body);
        let check = |h: &str, now: i64| stripe_webhook(&secrets, Some(h), body, now, Some(300));
        assert_eq!(check(&header, 1000), Ok(1000));
        assert_eq!(check(&header, 1300), Ok(1000), "300 s old still passes");
        assert_eq!(check(&header, 1301), Err(Refusal::Stale));
        assert_eq!(
            check(&header, 699),
            Err(Refusal::Stale),
            "far in the future"
        );
        // `t` changed after signing.
        assert_eq!(
            check(&header.replace("t=1000", "t=1001"), 1000),
            Err(Refusal::Mismatch)
        );
        // Missing `t`, only v0, two v1 where the second matches.
        let v1 = header.split("v1=").nth(1).unwrap_or_default();
        assert_eq!(check(&format!("v1={v1}"), 1000), Err(Refusal::Malformed));
        assert_eq!(
            check(&format!("t=1000,v0={v1}"), 1000),
            Err(Refusal::Malformed)
        );
        assert_eq!(check(&format!("t=1000,v1=00,v1={v1}"), 1000), Ok(1000));
        assert_eq!(check("t=abc,v1=00", 1000), Err(Refusal::Malformed));
        assert_eq!(
            stripe_webhook(&secrets, None, body, 1000, Some(300)),
            Err(Refusal::Missing)
        );
        let rotated = [secret("whsec_new"), secret("whsec_a")];
        assert!(stripe_webhook(&rotated, Some(&header), body, 1000, Some(300)).is_ok());
    }
}
