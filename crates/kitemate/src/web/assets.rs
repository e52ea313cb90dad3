//! The web app's built files (`web/build`, made by `npm --prefix web run
//! build`), embedded into release builds and read from the folder in debug
//! ones. Hashed files under `_app/immutable/` are cached for a year; the
//! app's shell (`index.html`) is revalidated every time and carries a strict
//! Content-Security-Policy with the hash of the one inline script SvelteKit
//! writes. The precompressed `.br` and `.gz` twins are sent to browsers that
//! take them. Without a build, the API still runs and the app's paths say how
//! to build it.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{html, origin};

#[derive(rust_embed::Embed)]
#[folder = "../../web/build"]
#[allow_missing = true]
struct Built;

/// The shell every app path answers with.
const SHELL: &str = "index.html";
/// Where SvelteKit puts content-hashed files.
const IMMUTABLE: &str = "_app/immutable/";

/// The shell's policy: scripts from this origin plus the hashed boot script,
/// styles and fonts from this origin (uPlot and gridstack set styles through
/// the DOM, which CSP allows), images from here or drawn in the page, and
/// requests only to this API. `public` is the origin the server hands out in
/// its URLs (pictures, uploads), when the browser may have come by another
/// name for the same server (`localhost` for `127.0.0.1`).
fn shell_policy(shell: &str, styles: &[String], public: Option<&str>) -> String {
    let hashes: Vec<String> = inline_scripts(shell).map(hash).collect();
    // The style attributes the app's own code writes (SvelteKit's route
    // announcer), each allowed by its hash alone.
    let styles: String = match styles {
        [] => String::new(),
        _ => std::iter::once(" 'unsafe-hashes'".to_string())
            .chain(styles.iter().map(|s| format!(" {}", hash(s))))
            .collect(),
    };
    let also = public.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' {}; style-src 'self'{styles}; img-src 'self'{also} data: blob:; \
         font-src 'self'; connect-src 'self'{also}; frame-src 'none'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
        hashes.join(" ")
    )
}

/// A CSP source naming `text` by its SHA-256.
fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The `style="…"` attributes written in the built scripts' HTML templates
/// (a template's markup is parsed as HTML, so its style attributes fall
/// under `style-src`); sorted, each once.
fn template_styles() -> Vec<String> {
    let mut found = std::collections::BTreeSet::new();
    for path in Built::iter().filter(|p| p.ends_with(".js")) {
        let Some(file) = Built::get(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&file.data);
        for rest in text.split("style=\"").skip(1) {
            if let Some((value, _)) = rest.split_once('"')
                && !value.contains(['\\', '$', '{', '<'])
            {
                found.insert(value.to_string());
            }
        }
    }
    found.into_iter().collect()
}

/// The bodies of `<script>` elements without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        if attributes.contains("src=") {
            return None;
        }
        after.split_once("</script>").map(|(body, _)| body)
    })
}

/// The built shell's text, read once.
static APP: LazyLock<Option<String>> = LazyLock::new(|| {
    Built::get(SHELL).map(|file| String::from_utf8_lossy(&file.data).into_owned())
});

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The encodings the client takes, best first, among those we keep.
fn encodings(headers: &HeaderMap) -> Vec<(&'static str, &'static str)> {
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let takes = |name: &str| {
        accept.split(',').any(|part| {
            let mut bits = part.split(';');
            let coding = bits.next().unwrap_or("").trim();
            let refused = bits.any(|b| b.trim().replace(' ', "") == "q=0");
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(name, _)| takes(name))
        .collect()
}

/// One built file, in the best encoding the client takes, with its caching.
fn file(path: &str, headers: &HeaderMap) -> Option<Response> {
    // The compressed twins are served in place of their file, never by name.
    if path.ends_with(".br") || path.ends_with(".gz") {
        return None;
    }
    let plain = Built::get(path)?;
    let (data, hash, encoding) = encodings(headers)
        .into_iter()
        .find_map(|(name, suffix)| {
            Built::get(&format!("{path}{suffix}"))
                .map(|f| (f.data, f.metadata.sha256_hash(), Some(name)))
        })
        .unwrap_or((plain.data, plain.metadata.sha256_hash(), None));
    let etag = format!("\"{}\"", &platform::mac::hex(&hash)[..32]);
    let cache = if path.starts_with(IMMUTABLE) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            // Weak comparison (RFC 9110 13.1.2): `W/` does not matter for a GET.
            tags.split(',')
                .map(|t| t.trim())
                .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
        }) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(path))],
            data.into_owned(),
        )
            .into_response()
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, etag);
    }
    if let Some(encoding) = encoding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    Some(response)
}

/// The app's shell for any of its paths (the single-page app routes itself).
async fn shell(policy: Option<HeaderValue>, headers: HeaderMap) -> Response {
    let Some(policy) = policy else {
        return unbuilt();
    };
    let mut response = file(SHELL, &headers).unwrap_or_else(unbuilt);
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    response
}

/// What an app path says when this binary was built without the web app.
fn unbuilt() -> Response {
    let body = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>KiteMate</title>\
                <h1>KiteMate's web app is not built into this binary</h1>\
                <p>Build it with <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>, \
                then build and start <code>kitemate</code> again. The API is running: see \
                <a href=\"/docs\">/docs</a>.</p>";
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    file(&format!("_app/{path}"), &headers)
        .unwrap_or_else(|| platform::ApiError::not_found("no such file").into_response())
}

async fn favicon(headers: HeaderMap) -> Response {
    file("favicon.svg", &headers)
        .unwrap_or_else(|| platform::ApiError::not_found("no such file").into_response())
}

/// The app's routes: its shell at `/` and under `/app`, its files under
/// `/_app`. `public_url` is where the server says it is reached.
pub fn router<S: Clone + Send + Sync + 'static>(public_url: &str) -> Router<S> {
    let policy = APP.as_deref().and_then(|text| {
        HeaderValue::from_str(&shell_policy(
            text,
            &template_styles(),
            origin(public_url).as_deref(),
        ))
        .ok()
    });
    let shell = move |headers: HeaderMap| shell(policy.clone(), headers);
    Router::new()
        .route("/", get(shell.clone()))
        .route("/app", get(shell.clone()))
        .route("/app/{*rest}", get(shell))
        .route("/_app/{*path}", get(asset))
        .route("/favicon.svg", get(favicon))
        .route(html::STYLESHEET_PATH, get(html::stylesheet))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_the_boot_script_by_its_hash_and_nothing_inline_else() {
        let shell = "<head><script src=\"/x.js\"></script></head><body><script>\n boot();\n</script></body>";
        let policy = shell_policy(shell, &[], None);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"\n boot();\n"));
        assert!(
            policy.contains(&format!("script-src 'self' 'sha256-{expected}';")),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("style-src 'self';"), "{policy}");
        // A style attribute the app's own templates write is allowed by its hash only.
        let styles = ["left: 0".to_string()];
        let policy = shell_policy(shell, &styles, None);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"left: 0"));
        assert!(
            policy.contains(&format!(
                "style-src 'self' 'unsafe-hashes' 'sha256-{expected}';"
            )),
            "{policy}"
        );
    }

    #[test]
    fn the_public_origin_may_serve_pictures_and_take_uploads() {
        let policy = shell_policy(
            "<script>x</script>",
            &[],
            origin("https://kitemate.app/").as_deref(),
        );
        assert!(
            policy.contains("img-src 'self' https://kitemate.app data: blob:"),
            "{policy}"
        );
        assert!(
            policy.contains("connect-src 'self' https://kitemate.app;"),
            "{policy}"
        );
        assert_eq!(
            origin("http://127.0.0.1:4000"),
            Some("http://127.0.0.1:4000".into())
        );
        assert_eq!(origin("ftp://x"), None);
        assert_eq!(origin(""), None);
    }

    #[test]
    fn compressed_twins_follow_accept_encoding() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br, zstd".parse().unwrap(),
        );
        assert_eq!(encodings(&headers), vec![("br", ".br"), ("gzip", ".gz")]);
        headers.insert(header::ACCEPT_ENCODING, "br;q=0, gzip".parse().unwrap());
        assert_eq!(encodings(&headers), vec![("gzip", ".gz")]);
        assert!(encodings(&HeaderMap::new()).is_empty());
    }
}
