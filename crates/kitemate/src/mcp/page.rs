//! The authorization pages: sign in, then consent, naming the app, where
//! it will be sent back and what it may read. Server-written HTML, no
//! script, never framed.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::oauth::Pending;
use crate::web::html::esc;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}\
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input[type=email],input[type=password]{width:100%;padding:.5rem;font:inherit}\
button{font:inherit;padding:.5rem 1.2rem;margin:1rem .5rem 0 0}.muted{color:#57606a;font-size:.9rem}code{word-break:break-all}\
.warn{background:#fff8c5;padding:.6rem;border-radius:6px}ul{padding-left:1.2rem}";

/// A page with the headers every authorization page carries: no caching,
/// no framing, no script, no referrer (the URL holds the request).
pub fn respond(status: StatusCode, title: &str, body: &str, cookie: Option<String>) -> Response {
    respond_to(status, title, body, cookie, None)
}

/// Where a form may end up besides this server, as a CSP source: browsers
/// hold a form's redirect to `form-action` too, so the consent form must
/// name the app it sends the browser back to (its origin, or its own
/// scheme for an app's custom one).
fn form_target(redirect_uri: &str) -> Option<String> {
    let url = reqwest::Url::parse(redirect_uri).ok()?;
    let source = match url.scheme() {
        "http" | "https" => url.origin().ascii_serialization(),
        scheme => format!("{scheme}:"),
    };
    source
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".:/[]-+".contains(c))
        .then_some(source)
}

fn respond_to(
    status: StatusCode,
    title: &str,
    body: &str,
    cookie: Option<String>,
    form_also: Option<String>,
) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{} · KiteMate</title><style>{STYLE}</style></head><body>{body}</body></html>",
        esc(title)
    );
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{}; frame-ancestors 'none'; base-uri 'none'",
        form_also.map(|s| format!(" {s}")).unwrap_or_default()
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if let Some(cookie) = cookie
        && let Ok(v) = HeaderValue::from_str(&cookie)
    {
        h.insert(header::SET_COOKIE, v);
    }
    res
}

fn describe(p: &Pending) -> String {
    let origin = reqwest::Url::parse(&p.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| p.redirect_uri.clone());
    let trust = if p.client.from_metadata {
        format!("Its details come from <code>{}</code>.", esc(&p.client.id))
    } else {
        "KiteMate has not verified this app's name: check that you started this from the app you expect.".to_string()
    };
    let scopes: String = p
        .scopes
        .to_string()
        .split(' ')
        .map(|s| match s {
            "portfolio:read" => {
                "<li>read your holdings, trades, P&amp;L and tax figures</li>".to_string()
            }
            "widgets:read" => "<li>read your widgets and their data</li>".to_string(),
            other => format!("<li>{}</li>", esc(other)),
        })
        .collect();
    format!(
        "<p><strong>{}</strong> wants to connect to your KiteMate. It will be sent back to <strong>{}</strong> (<code>{}</code>).</p>\
<p class=\"muted\">{trust}</p><p>It will be able to:</p><ul>{scopes}</ul>\
<p class=\"muted\">Read-only: it cannot place orders or change anything. You can disconnect it at any time in Settings → Connected apps.</p>",
        esc(&p.client.name),
        esc(&origin),
        esc(&p.redirect_uri),
    )
}

/// The sign-in form of a pending authorization.
pub fn sign_in(p: &Pending, error: Option<&str>, cookie: Option<String>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"warn\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in to KiteMate</h1>{}{error}\
<form method=\"post\" action=\"/oauth/authorize\"><input type=\"hidden\" name=\"request\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<input type=\"hidden\" name=\"step\" value=\"sign_in\"><label for=\"email\">Email</label><input id=\"email\" type=\"email\" name=\"email\" autocomplete=\"username\" required>\
<label for=\"password\">Password</label><input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Sign in</button></form>",
        describe(p),
        esc(&p.request_id),
        esc(&p.csrf),
    );
    respond(
        if error.is_empty() {
            StatusCode::OK
        } else {
            // The form again, with what was wrong (as form frameworks do;
            // a 401 would need a WWW-Authenticate scheme there is none of).
            StatusCode::UNPROCESSABLE_ENTITY
        },
        "Sign in",
        &body,
        cookie,
    )
}

/// The consent form, once signed in.
pub fn consent(p: &Pending) -> Response {
    let who = p
        .user
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let body = format!(
        "<h1>Allow this app?</h1><p class=\"muted\">Signed in as <strong>{}</strong>.</p>{}\
<form method=\"post\" action=\"/oauth/authorize\"><input type=\"hidden\" name=\"request\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<input type=\"hidden\" name=\"step\" value=\"consent\"><button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        esc(&who),
        describe(p),
        esc(&p.request_id),
        esc(&p.csrf),
    );
    respond_to(
        StatusCode::OK,
        "Allow this app?",
        &body,
        None,
        form_target(&p.redirect_uri),
    )
}

/// A request the app got wrong, with its redirect URI its own: said here,
/// with a link back that carries the error, rather than a redirect a
/// stranger's registered client could use to bounce people off KiteMate.
pub fn back_to_app(to: &str, description: &str) -> Response {
    let host = reqwest::Url::parse(to)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the app".into());
    let body = format!(
        "<h1>This connection cannot go on</h1><p>The app asked for something KiteMate cannot give: {}</p>\
<p><a href=\"{}\">Return to {}</a></p>",
        esc(description),
        esc(to),
        esc(&host),
    );
    respond(StatusCode::BAD_REQUEST, "Cannot connect", &body, None)
}

/// An authorization that cannot go on, and why.
pub fn failure(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>This connection cannot go on</h1><p>{}</p><p class=\"muted\">Start again from the app you were connecting.</p>",
        esc(message)
    );
    respond(status, "Cannot connect", &body, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_form_may_send_the_browser_to_its_app_only() {
        assert_eq!(
            form_target("https://claude.ai/api/mcp/auth_callback").as_deref(),
            Some("https://claude.ai")
        );
        assert_eq!(
            form_target("http://127.0.0.1:33418/callback?x=1").as_deref(),
            Some("http://127.0.0.1:33418")
        );
        assert_eq!(
            form_target("cursor://anysphere.cursor-mcp/oauth/callback").as_deref(),
            Some("cursor:")
        );
        assert_eq!(form_target("not a uri"), None);
    }
}
