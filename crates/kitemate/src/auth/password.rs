//! Password rules and argon2id hashing.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use platform::ApiError;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .collect()
});

/// A hash to verify against when the email is unknown, so that a login for a
/// missing account costs as much time as one with a wrong password. Made once
/// with [`hash`] (same parameters) from a password nobody has; a constant, so
/// that no login and no startup pays for making it.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$rshiqbvtaee+IRl3Sy7l+Q$3r7ap4b19JhKR8amMkMl5L5br0J2T26nn2El2OQ8O5w";

/// Rules beyond length (checked on the request type): not a common password,
/// not the email or username.
pub(super) fn check_strength(password: &str, email: &str, username: &str) -> Result<(), ApiError> {
    let lower = password.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return Err(ApiError::invalid_field(
            "password",
            "is one of the most common passwords; choose another",
        ));
    }
    if lower == email || lower == username || lower == email.split('@').next().unwrap_or_default() {
        return Err(ApiError::invalid_field(
            "password",
            "must not be your email or username",
        ));
    }
    Ok(())
}

/// argon2id with the crate's defaults (OWASP's 19 MiB, 2 passes, 1 lane).
pub(super) fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// True when `password` matches `stored`; `None` burns the same time and says no.
pub(super) fn verify(password: &str, stored: Option<&str>) -> bool {
    let (target, real) = match stored {
        Some(stored) => (stored, true),
        None => (DUMMY_HASH, false),
    };
    let Ok(parsed) = PasswordHash::new(target) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_wrong_passwords_do_not() {
        let stored = hash("a long passphrase").unwrap_or_default();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("a long passphrase", Some(&stored)));
        assert!(!verify("a long passphrasf", Some(&stored)));
        assert!(!verify("not a real password", None));
        // The dummy is a real hash with the parameters real ones have.
        let dummy = PasswordHash::new(DUMMY_HASH).map(|h| h.params.to_string());
        let real = PasswordHash::new(&stored).map(|h| h.params.to_string());
        assert_eq!(dummy.ok(), real.ok());
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        assert!(check_strength("Password123", "a@b.in", "asha").is_err());
        assert!(check_strength("qwertyuiop", "a@b.in", "asha").is_err());
        assert!(check_strength("asha@b.in", "asha@b.in", "asha").is_err());
        assert!(check_strength("river otter lantern", "a@b.in", "asha").is_ok());
    }
}
