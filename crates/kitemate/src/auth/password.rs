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
/// missing account costs as much time as one with a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash("not a real password").ok());

/// Builds the lookup set and the dummy hash ahead of the first login, so that
/// the first login for an unknown email costs no more than any other.
pub(super) fn warm_up() {
    LazyLock::force(&COMMON);
    LazyLock::force(&DUMMY_HASH);
}

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
        None => (DUMMY_HASH.as_deref().unwrap_or_default(), false),
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
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        assert!(check_strength("Password123", "a@b.in", "asha").is_err());
        assert!(check_strength("qwertyuiop", "a@b.in", "asha").is_err());
        assert!(check_strength("asha@b.in", "asha@b.in", "asha").is_err());
        assert!(check_strength("river otter lantern", "a@b.in", "asha").is_ok());
    }
}
