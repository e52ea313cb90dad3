//! Hex and HMAC-SHA256 in hex: how payment providers sign webhooks and
//! callbacks, and how stored digests are written.

use sha2::Sha256;

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`, in lower-case
/// hex (how payment providers sign webhooks and callbacks).
pub fn hmac_sha256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    use hmac::{Hmac, Mac as _};
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    for part in parts {
        mac.update(part);
    }
    hex(&mac.finalize().into_bytes())
}
