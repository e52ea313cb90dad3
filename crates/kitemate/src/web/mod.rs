//! The browser's side of the server: the web app's built files (`web/`,
//! embedded in release builds), the HTML shell the public pages share, and
//! the content negotiation that gives a browser a page where an API client
//! gets JSON at the same URL.

pub mod assets;
pub mod html;

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, COOKIE, USER_AGENT};

/// The value of the cookie `name` the request carries, when not empty.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value)
}

/// Link-preview fetchers that ask for `*/*` (or nothing) yet read only
/// HTML: they get the page, as a browser does.
const PREVIEW_AGENTS: &[&str] = &[
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "slackbot",
    "discordbot",
    "whatsapp",
    "telegrambot",
    "linkedinbot",
    "skypeuripreview",
    "googlebot",
    "bingbot",
];

/// Whether the request is a browser asking for a page: its `Accept` names
/// `text/html` before (or instead of) `application/json`, or it comes from
/// a link-preview fetcher or search engine and does not ask for JSON. An
/// API client (no `Accept`, `*/*`, or JSON first) gets JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let previewer = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .is_some_and(|agent| PREVIEW_AGENTS.iter().any(|bot| agent.contains(bot)));
    if previewer && !accept.to_ascii_lowercase().starts_with("application/json") {
        return true;
    }
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

/// The origin of `url` (`scheme://host[:port]`), when it is an http(s) URL.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
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
    fn link_previews_get_pages_though_they_ask_for_anything() {
        let mut headers = accept("*/*");
        headers.insert(
            USER_AGENT,
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
                .parse()
                .unwrap(),
        );
        assert!(wants_html(&headers));
        headers.remove(ACCEPT);
        assert!(wants_html(&headers));
        headers.insert(ACCEPT, "application/json".parse().unwrap());
        assert!(!wants_html(&headers));
        let mut curl = accept("*/*");
        curl.insert(USER_AGENT, "curl/8.5.0".parse().unwrap());
        assert!(!wants_html(&curl));
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
