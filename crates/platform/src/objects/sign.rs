//! Signed object URLs: an HMAC over the method, bucket, key, expiry and (for
//! uploads) the content type, so a URL grants exactly one thing until it expires.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The key object URLs are signed with. Every replica must hold the same one.
#[derive(Clone)]
pub struct UrlSigner {
    mac: HmacSha256,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

/// What a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub method: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    /// Unix seconds after which the URL no longer works.
    pub expires: i64,
    /// For uploads: the only content type the upload may carry.
    pub content_type: Option<&'a str>,
}

impl UrlSigner {
    /// A signer from secret bytes; at least 32 are wanted.
    pub fn new(secret: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= 32,
            "the signing key must be at least 32 bytes"
        );
        let mac = HmacSha256::new_from_slice(secret)?;
        Ok(Self { mac })
    }

    /// The embedded default: a random key kept in `path` (created 0600 on
    /// first use), so URLs survive restarts of a single replica.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read(path) {
            Ok(secret) => Self::new(&secret),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let secret: [u8; 32] = rand::random();
                if let Some(dir) = path.parent() {
                    crate::db::create_private_dir(dir)?;
                }
                write_private(path, &secret)?;
                Self::new(&secret)
            }
            Err(err) => Err(anyhow::anyhow!("cannot read {}: {err}", path.display())),
        }
    }

    fn mac(&self, grant: &Grant<'_>) -> HmacSha256 {
        let mut mac = self.mac.clone();
        // Keys and bucket names hold no control characters, so newlines
        // cannot be forged into the fields.
        let text = format!(
            "{}\n{}\n{}\n{}\n{}",
            grant.method,
            grant.bucket,
            grant.key,
            grant.expires,
            grant.content_type.unwrap_or("")
        );
        mac.update(text.as_bytes());
        mac
    }

    /// The signature for `grant`, URL-safe base64.
    pub fn sign(&self, grant: &Grant<'_>) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(grant).finalize().into_bytes())
    }

    /// Checks `signature` for `grant` at unix time `now`, in constant time.
    pub fn verify(&self, grant: &Grant<'_>, signature: &str, now: i64) -> Result<(), &'static str> {
        let bytes = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| "the signature is malformed")?;
        self.mac(grant)
            .verify_slice(&bytes)
            .map_err(|_| "the signature does not match this URL")?;
        if now > grant.expires {
            return Err("the signed URL has expired");
        }
        Ok(())
    }
}

/// Writes a new file only its owner can read (0600 on Unix).
#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(method: &'static str, key: &'static str) -> Grant<'static> {
        Grant {
            method,
            bucket: "files",
            key,
            expires: 1_000,
            content_type: None,
        }
    }

    #[test]
    fn a_signature_grants_one_method_on_one_key_until_it_expires() -> anyhow::Result<()> {
        let signer = UrlSigner::new(&[7; 32])?;
        let sig = signer.sign(&grant("GET", "a.txt"));
        assert_eq!(signer.verify(&grant("GET", "a.txt"), &sig, 999), Ok(()));
        assert_eq!(
            signer.verify(&grant("GET", "a.txt"), &sig, 1_001),
            Err("the signed URL has expired")
        );
        assert!(signer.verify(&grant("PUT", "a.txt"), &sig, 999).is_err());
        assert!(signer.verify(&grant("GET", "b.txt"), &sig, 999).is_err());
        let other = UrlSigner::new(&[8; 32])?;
        assert!(other.verify(&grant("GET", "a.txt"), &sig, 999).is_err());
        assert_eq!(
            signer.verify(&grant("GET", "a.txt"), "%%", 999),
            Err("the signature is malformed")
        );
        Ok(())
    }

    #[test]
    fn the_embedded_key_is_made_once_and_kept() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keys/objects.key");
        let first = UrlSigner::load_or_create(&path)?;
        let again = UrlSigner::load_or_create(&path)?;
        let sig = first.sign(&grant("GET", "k"));
        assert_eq!(again.verify(&grant("GET", "k"), &sig, 0), Ok(()));
        Ok(())
    }
}
