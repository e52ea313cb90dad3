//! Encryption at rest for secrets we must keep (such as broker access
//! tokens): AES-256-GCM with a random nonce, bound to what it belongs to,
//! and tagged with the key's id so keys can rotate.
//!
//! A sealed value reads `v1:<key id>:<base64 of nonce ‖ ciphertext>`. The
//! key id is the first 8 hex digits of SHA-256 of the key, so ids need no
//! bookkeeping and two replicas with the same key agree on it.

use std::collections::HashMap;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

/// Why a sealed value cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("not a sealed value")]
    Malformed,
    #[error("sealed with key {0}, which this keyring does not hold")]
    UnknownKey(String),
    #[error("the value does not open with its key (altered, or sealed for something else)")]
    Forged,
}

/// The current key, which seals, and older ones, which only open.
pub struct Keyring {
    current: (String, Aes256Gcm),
    old: HashMap<String, Aes256Gcm>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut old: Vec<&String> = self.old.keys().collect();
        old.sort();
        f.debug_struct("Keyring")
            .field("current", &self.current.0)
            .field("old", &old)
            .finish()
    }
}

fn key_id(key: &[u8]) -> String {
    crate::mac::hex(&Sha256::digest(key)[..4])
}

/// A key from its base64 text; 32 bytes are required.
fn decode_key(text: &str) -> anyhow::Result<(String, Aes256Gcm)> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| anyhow::anyhow!("must be base64 (for example `openssl rand -base64 32`)"))?;
    anyhow::ensure!(
        bytes.len() == 32,
        "must be 32 bytes, base64-encoded; this is {} bytes",
        bytes.len()
    );
    let cipher =
        Aes256Gcm::new_from_slice(&bytes).map_err(|_| anyhow::anyhow!("not a 256-bit key"))?;
    Ok((key_id(&bytes), cipher))
}

impl Keyring {
    /// `current` seals; `old` (comma-separated) still open what they sealed.
    pub fn new(current: &SecretString, old: Option<&SecretString>) -> anyhow::Result<Self> {
        let current = decode_key(current.expose_secret())?;
        let mut ring = HashMap::new();
        if let Some(old) = old {
            for text in old
                .expose_secret()
                .split(',')
                .filter(|t| !t.trim().is_empty())
            {
                let (id, cipher) = decode_key(text)?;
                ring.insert(id, cipher);
            }
        }
        ring.remove(&current.0);
        Ok(Self { current, old: ring })
    }

    /// The embedded default: a random key kept in `path` (made 0600 on
    /// first use). Fine for one machine; production passes a key in.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                let text = STANDARD.encode(key);
                if let Some(dir) = path.parent() {
                    crate::db::create_private_dir(dir)?;
                }
                crate::objects::write_private(path, text.as_bytes())?;
                text
            }
            Err(err) => anyhow::bail!("cannot read {}: {err}", path.display()),
        };
        Self::new(&SecretString::from(text), None)
    }

    /// The id of the key that seals now.
    pub fn current_id(&self) -> &str {
        &self.current.0
    }

    /// Seals `plain` for `context` (such as `kite-token:<user id>`): the
    /// value opens only with the same context, so it cannot be moved to
    /// another row.
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption with a valid key and a 12-byte nonce cannot fail.
        let sealed = self
            .current
            .1
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("v1:{}:{}", self.current.0, STANDARD.encode(bytes))
    }

    /// Opens what [`Keyring::seal`] made for `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<SecretString, OpenError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(OpenError::Malformed);
        };
        let cipher = if id == self.current.0 {
            &self.current.1
        } else {
            self.old
                .get(id)
                .ok_or_else(|| OpenError::UnknownKey(id.to_string()))?
        };
        let bytes = STANDARD.decode(body).map_err(|_| OpenError::Malformed)?;
        if bytes.len() < 12 + 16 {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Forged)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| OpenError::Forged)
    }

    /// Whether `sealed` was made with an older key and should be sealed again.
    pub fn is_stale(&self, sealed: &str) -> bool {
        sealed.split(':').nth(1) != Some(self.current.0.as_str())
    }
}

/// The SHA-256 of `bytes` in lowercase hex: a stored token's form, a file's fingerprint.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in hash {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    hex
}

/// Whether two secrets are equal, in a time that depends only on their
/// lengths, so a guess cannot be improved byte by byte by timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretString {
        SecretString::from(STANDARD.encode([byte; 32]))
    }

    #[test]
    fn sealed_values_open_only_for_their_context() -> anyhow::Result<()> {
        let ring = Keyring::new(&key(1), None)?;
        let sealed = ring.seal("access-token-123", "kite-token:u1");
        assert!(!sealed.contains("access-token-123"));
        assert!(sealed.starts_with(&format!("v1:{}:", ring.current_id())));
        assert_eq!(
            ring.open(&sealed, "kite-token:u1")?.expose_secret(),
            "access-token-123"
        );
        assert_eq!(
            ring.open(&sealed, "kite-token:u2").err(),
            Some(OpenError::Forged)
        );
        assert_ne!(
            ring.seal("same", "c"),
            ring.seal("same", "c"),
            "a fresh nonce each time"
        );
        // One character of the ciphertext changed (to another one: the
        // sealed text is random, and may already have an `A` there).
        let mut altered = sealed.clone();
        let at = sealed.len() - 3..sealed.len() - 2;
        let other = if &sealed[at.clone()] == "A" { "B" } else { "A" };
        altered.replace_range(at, other);
        assert!(ring.open(&altered, "kite-token:u1").is_err());
        assert_eq!(
            ring.open("plain text", "c").err(),
            Some(OpenError::Malformed)
        );
        Ok(())
    }

    #[test]
    fn keys_rotate() -> anyhow::Result<()> {
        let before = Keyring::new(&key(1), None)?;
        let sealed = before.seal("t", "c");
        let after = Keyring::new(&key(2), Some(&key(1)))?;
        assert!(after.is_stale(&sealed));
        assert_eq!(after.open(&sealed, "c")?.expose_secret(), "t");
        let resealed = after.seal("t", "c");
        assert!(!after.is_stale(&resealed));
        let only_new = Keyring::new(&key(2), None)?;
        assert!(matches!(
            only_new.open(&sealed, "c"),
            Err(OpenError::UnknownKey(_))
        ));
        Ok(())
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        let short = SecretString::from(STANDARD.encode([1u8; 16]));
        let err = Keyring::new(&short, None).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("must be 32 bytes, base64-encoded; this is 16 bytes")
        );
        assert!(Keyring::new(&SecretString::from("not base64!".to_string()), None).is_err());
    }

    #[test]
    fn the_embedded_key_is_made_once() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keys/encryption.key");
        let first = Keyring::load_or_create(&path)?;
        let sealed = first.seal("x", "c");
        let again = Keyring::load_or_create(&path)?;
        assert_eq!(again.open(&sealed, "c")?.expose_secret(), "x");
        Ok(())
    }
}
