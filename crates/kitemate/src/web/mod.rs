//! The browser's side of the server: the web app's built files (`web/`,
//! embedded in release builds), the HTML shell the public pages share, and
//! the content negotiation that gives a browser a page where an API client
//! gets JSON at the same URL.

pub mod assets;
pub mod html;

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

/// Whether the request is a browser asking for a page: its `Accept` names
/// `text/html` before (or instead of) `application/json`. An API client
/// (no `Accept`, `*/*`, or JSON first) gets JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let position = |kind: &str| {
        accept
            .split(',')
            .map(|part| part.split(';').next().unwrap_or("").trim())
            .position(|media| media.eq_ignore_ascii_case(kind))
    };
    match (position("text/html"), position("application/json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

/// A JSON answer at a URL that also answers pages: caches keep them apart.
pub fn vary_accept(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::VARY,
        axum::http::HeaderValue::from_static("Accept"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, value.parse().unwrap());
        headers
    }

    #[test]
    fn browsers_get_pages_and_api_clients_json() {
        // What Chromium and Firefox send when following a link.
        assert!(wants_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
        )));
        assert!(!wants_html(&HeaderMap::new()));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("application/json, text/html")));
        assert!(wants_html(&accept("TEXT/HTML")));
    }
}
