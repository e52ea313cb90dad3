//! Content types: the one an upload declares is checked against its bytes
//! where a mismatch could fool a reader, and sniffed when none is given.

const OCTET_STREAM: &str = "application/octet-stream";

/// Types whose bytes must be text: a CSV that is really an executable is refused.
fn is_textual(essence: &str) -> bool {
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json" | "application/xml" | "application/csv"
        )
}

/// `image/png; charset=x` → `image/png`, lowercased; `None` when it is no media type.
fn essence(declared: &str) -> Option<String> {
    let essence = declared.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    (token(kind) && token(sub)).then_some(essence)
}

/// Browsers and tools still send `image/jpg`; the bytes say `image/jpeg`.
fn canonical(essence: &str) -> &str {
    match essence {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "application/x-pdf" => "application/pdf",
        other => other,
    }
}

/// The content type to store `bytes` under, or why the upload is refused.
/// `allowed` (when not empty) lists the only types a bucket takes.
pub fn settle(declared: Option<&str>, bytes: &[u8], allowed: &[&str]) -> Result<String, String> {
    let sniffed = infer::get(bytes).map(|t| t.mime_type());
    let stored = match declared.filter(|d| !d.trim().is_empty()) {
        None => match sniffed {
            Some(found) => found.to_string(),
            None if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) => {
                "text/plain".to_string()
            }
            None => OCTET_STREAM.to_string(),
        },
        Some(declared) => {
            let essence = essence(declared)
                .ok_or_else(|| format!("{declared:?} is not a media type like image/png"))?;
            let essence = canonical(&essence).to_string();
            if is_textual(&essence) {
                let text = std::str::from_utf8(bytes).ok().filter(|_| {
                    !bytes.contains(&0) && sniffed.is_none_or(|s| s.starts_with("text/"))
                });
                let Some(text) = text else {
                    return Err(format!("says {essence} but the bytes are not UTF-8 text"));
                };
                if essence == "application/json"
                    && serde_json::from_str::<serde_json::Value>(text).is_err()
                {
                    return Err("says application/json but the bytes are not valid JSON".into());
                }
            } else if infer::is_mime_supported(&essence) && sniffed != Some(essence.as_str()) {
                return Err(match sniffed {
                    Some(found) => format!("says {essence} but the bytes are {found}"),
                    None => format!("says {essence} but the bytes are not {essence}"),
                });
            }
            essence
        }
    };
    let essence = stored.as_str();
    if !allowed.is_empty() && !allowed.contains(&essence) {
        return Err(format!(
            "{essence} is not accepted here; use one of {}",
            allowed.join(", ")
        ));
    }
    Ok(stored)
}

/// Whether a browser may show this type in place. Anything else is served as
/// a download, so an uploaded HTML or SVG page cannot run in our origin.
pub fn inline_safe(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "application/pdf"
            | "text/plain"
            | "text/csv"
            | "application/json"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.7\n";

    #[test]
    fn declared_binary_types_must_match_the_bytes() {
        assert_eq!(settle(Some("image/png"), PNG, &[]), Ok("image/png".into()));
        assert_eq!(
            settle(Some("image/png"), PDF, &[]),
            Err("says image/png but the bytes are application/pdf".into())
        );
        assert_eq!(
            settle(Some("image/jpg"), b"hello", &[]),
            Err("says image/jpeg but the bytes are not image/jpeg".into())
        );
    }

    #[test]
    fn text_types_must_be_text() {
        assert_eq!(
            settle(Some("text/csv; charset=utf-8"), b"a,b\n1,2\n", &[]),
            Ok("text/csv".into())
        );
        assert!(settle(Some("text/csv"), PNG, &[]).is_err());
        assert!(settle(Some("text/csv"), b"a\0b", &[]).is_err());
        assert!(settle(Some("application/json"), b"{not json", &[]).is_err());
        assert_eq!(
            settle(Some("application/json"), b"{\"a\":1}", &[]),
            Ok("application/json".into())
        );
    }

    #[test]
    fn undeclared_types_are_sniffed() {
        assert_eq!(settle(None, PNG, &[]), Ok("image/png".into()));
        assert_eq!(settle(None, b"just words", &[]), Ok("text/plain".into()));
        assert_eq!(
            settle(None, &[0xff, 0x00, 0x13], &[]),
            Ok(OCTET_STREAM.into())
        );
        assert!(settle(Some("not a type"), b"x", &[]).is_err());
    }

    #[test]
    fn buckets_can_take_only_some_types() {
        let images = ["image/png", "image/jpeg"];
        assert_eq!(settle(None, PNG, &images), Ok("image/png".into()));
        assert_eq!(
            settle(None, PDF, &images),
            Err("application/pdf is not accepted here; use one of image/png, image/jpeg".into())
        );
    }
}
