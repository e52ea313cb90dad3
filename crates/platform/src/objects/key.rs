//! Object keys: what a caller may name an object, checked before any store sees it.

/// Longest key accepted, in bytes (S3's own limit).
pub const MAX_KEY_LEN: usize = 1024;

/// Why a key was refused; the text is shown to API callers.
pub fn check_key(key: &str) -> Result<(), &'static str> {
    if key.is_empty() {
        return Err("must not be empty");
    }
    if key.len() > MAX_KEY_LEN {
        return Err("must be at most 1024 bytes");
    }
    if key.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    if key.contains('\\') {
        return Err("must use / between parts, not \\");
    }
    if key.starts_with('/') {
        return Err("must be relative (no leading /)");
    }
    for part in key.split('/') {
        match part {
            "" => return Err("must not have empty parts (// or a trailing /)"),
            "." | ".." => return Err("must not contain . or .. parts"),
            // Dot-names are reserved for the store's own bookkeeping
            // (versions, temporary files), so callers cannot reach them.
            p if p.starts_with('.') => return Err("parts must not start with a dot"),
            _ => {}
        }
    }
    Ok(())
}

/// A list prefix: empty, or a key prefix whose complete parts are valid.
pub fn check_prefix(prefix: &str) -> Result<(), &'static str> {
    if prefix.is_empty() {
        return Ok(());
    }
    // "reports/2024-" is a fine prefix though "reports/2024-" is no full key
    // until something follows; a trailing slash is fine too.
    check_key(prefix.strip_suffix('/').unwrap_or(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_keys_pass() {
        for key in [
            "a",
            "reports/2024/q1.csv",
            "user-1/avatar.png",
            "ünïcode/名前.txt",
        ] {
            assert_eq!(check_key(key), Ok(()), "{key}");
        }
    }

    #[test]
    fn escapes_and_oddities_are_refused() {
        let cases = [
            ("", "must not be empty"),
            ("../etc/passwd", "must not contain . or .. parts"),
            ("a/../../b", "must not contain . or .. parts"),
            ("a/./b", "must not contain . or .. parts"),
            ("/etc/passwd", "must be relative (no leading /)"),
            ("a//b", "must not have empty parts (// or a trailing /)"),
            ("a/", "must not have empty parts (// or a trailing /)"),
            ("a\\..\\b", "must use / between parts, not \\"),
            ("a\nb", "must not contain control characters"),
            ("a\0b", "must not contain control characters"),
            (".versions/x", "parts must not start with a dot"),
            ("a/.hidden", "parts must not start with a dot"),
        ];
        for (key, reason) in cases {
            assert_eq!(check_key(key), Err(reason), "{key:?}");
        }
        assert_eq!(
            check_key(&"a".repeat(1025)),
            Err("must be at most 1024 bytes")
        );
    }

    #[test]
    fn prefixes_may_end_anywhere() {
        assert_eq!(check_prefix(""), Ok(()));
        assert_eq!(check_prefix("reports/"), Ok(()));
        assert_eq!(check_prefix("reports/20"), Ok(()));
        assert!(check_prefix("../").is_err());
    }
}
