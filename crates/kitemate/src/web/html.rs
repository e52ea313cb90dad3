//! The HTML the server writes itself: public pages (a profile, a shared
//! widget, discovery) in one shell with OpenGraph tags, so link previews
//! and search engines read real HTML. No script runs on them.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The stylesheet every server-written page links.
pub const STYLESHEET: &str = include_str!("public.css");
/// Where [`STYLESHEET`] is served.
pub const STYLESHEET_PATH: &str = "/_kitemate/public.css";
/// What a server-written page may load: its own stylesheet, and images
/// from here or the public origin its URLs name (cards, pictures); no script.
fn page_policy(public_url: &str) -> String {
    let also = super::origin(public_url)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self'{also} data:; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Text safe inside HTML (and SVG) elements and attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A public page: what it is about, for the tab and for link previews.
#[derive(Debug)]
pub struct Page<'a> {
    /// Plain text; escaped here.
    pub title: &'a str,
    /// Plain text; escaped here.
    pub description: &'a str,
    /// The page's own absolute URL (`og:url`, canonical).
    pub url: &'a str,
    /// An absolute image URL for previews: a widget's card, an avatar.
    pub image: Option<&'a str>,
    /// `summary_large_image` for a 1200×630 card, `summary` for an avatar.
    pub large_image: bool,
    /// Whether search engines may list it (not an unlisted widget's page).
    pub index: bool,
    /// The page's content: HTML the caller built with [`esc`].
    pub body: String,
}

impl Page<'_> {
    /// The whole document.
    pub fn render(&self) -> String {
        let title = esc(self.title);
        let description = esc(self.description);
        let url = esc(self.url);
        let image = self.image.map(esc);
        let mut head = format!(
            "<meta property=\"og:site_name\" content=\"KiteMate\">\
             <meta property=\"og:type\" content=\"website\">\
             <meta property=\"og:title\" content=\"{title}\">\
             <meta property=\"og:description\" content=\"{description}\">\
             <meta name=\"description\" content=\"{description}\">"
        );
        if !url.is_empty() {
            head.push_str(&format!(
                "<meta property=\"og:url\" content=\"{url}\"><link rel=\"canonical\" href=\"{url}\">"
            ));
        }
        if !self.index {
            head.push_str("<meta name=\"robots\" content=\"noindex\">");
        }
        if let Some(image) = &image {
            head.push_str(&format!(
                "<meta property=\"og:image\" content=\"{image}\">\
                 <meta name=\"twitter:card\" content=\"{}\">\
                 <meta name=\"twitter:image\" content=\"{image}\">",
                if self.large_image {
                    "summary_large_image"
                } else {
                    "summary"
                }
            ));
            if self.large_image {
                head.push_str(
                    "<meta property=\"og:image:width\" content=\"1200\">\
                     <meta property=\"og:image:height\" content=\"630\">",
                );
            }
        }
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{title} · KiteMate</title>{head}\
             <link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\
             <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"></head><body>\
             <header><a class=\"brand\" href=\"/\">KiteMate</a>\
             <nav aria-label=\"Site\"><a href=\"/discover\">Discover</a><a href=\"/app\">Open KiteMate</a></nav></header>\
             <main id=\"content\">{body}</main>\
             <footer><p>Weights and returns others share on KiteMate. Information, not advice.</p></footer>\
             </body></html>",
            body = self.body,
        )
    }
}

/// A server-written page as a response: HTML, its CSP, revalidated on
/// every visit (what it shows changes, and a share link can be revoked),
/// and `Vary: Accept` since the same URL answers JSON to API clients.
pub fn respond_html(page: String, public_url: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CONTENT_SECURITY_POLICY, page_policy(public_url)),
            (header::CACHE_CONTROL, "no-cache".to_string()),
            (header::VARY, "Accept".to_string()),
        ],
        page,
    )
        .into_response()
}

/// An error as a page, for a browser that asked for one: the API's
/// message, with the status it has.
pub fn error_page(err: &platform::ApiError, public_url: &str) -> Response {
    let title = if err.status() == axum::http::StatusCode::NOT_FOUND {
        "Not found"
    } else {
        "This page cannot be shown"
    };
    let body = format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"/discover\">Discover</a> · <a href=\"/app\">Open KiteMate</a></p>",
        esc(title),
        esc(&err.message)
    );
    let mut response = respond_html(
        Page {
            title,
            description: &err.message,
            url: "",
            image: None,
            large_image: false,
            index: false,
            body,
        }
        .render(),
        public_url,
    );
    *response.status_mut() = err.status();
    response
}

/// A page, or the error that kept it from being written, as a page.
pub fn page_or_error(page: Result<String, platform::ApiError>, public_url: &str) -> Response {
    match page {
        Ok(page) => respond_html(page, public_url),
        Err(err) => error_page(&err, public_url),
    }
}

/// `GET /_kitemate/public.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}
