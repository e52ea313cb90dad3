//! Redirect URIs: which a client may register (RFC 8252's kinds, never a
//! fragment or a scheme that runs code), how a presented one matches a
//! registered one, and the redirect back with `iss` and `state`.

use reqwest::Url;

use super::model::MAX_URI;

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

/// Schemes no redirect may use: they run code or read files in the browser.
const BAD_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "file",
    "vbscript",
    "about",
    "blob",
    "ftp",
    "ws",
    "wss",
];

/// Checks one redirect URI a client registers: `https`, `http` on loopback,
/// or an app's own scheme (RFC 8252); never a fragment.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_URI {
        return Err(format!("is longer than {MAX_URI} characters"));
    }
    let url = Url::parse(uri).map_err(|_| "is not an absolute URI".to_string())?;
    if url.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    match url.scheme() {
        "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err("must name a host".into());
            }
            Ok(())
        }
        "http" => {
            if url.host_str().is_some_and(is_loopback_host) {
                Ok(())
            } else {
                Err("may use http only on loopback (localhost, 127.0.0.1, [::1])".into())
            }
        }
        scheme if BAD_SCHEMES.contains(&scheme) => Err(format!("must not use the {scheme} scheme")),
        _ => Ok(()),
    }
}

/// Whether a presented redirect URI is one of a client's: exactly, except
/// that a loopback URI may come on any port (RFC 8252 §7.3: native apps
/// listen on whatever port is free).
pub fn redirect_matches(registered: &[String], presented: &str) -> bool {
    registered.iter().any(|r| {
        if r == presented {
            return true;
        }
        match (Url::parse(r), Url::parse(presented)) {
            (Ok(mut a), Ok(mut b))
                if a.scheme() == "http"
                    && b.scheme() == "http"
                    && a.host_str().is_some_and(is_loopback_host)
                    && a.host_str() == b.host_str() =>
            {
                let _ = a.set_port(None);
                let _ = b.set_port(None);
                a == b
            }
            _ => false,
        }
    })
}

/// The redirect back to the client: `params` added to its redirect URI,
/// always with `iss` (RFC 9207) and the client's `state`.
pub fn redirect_to(
    uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let Ok(mut url) = Url::parse(uri) else {
        return uri.to_string();
    };
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in params {
            pairs.append_pair(k, v);
        }
        if let Some(state) = state {
            pairs.append_pair("state", state);
        }
        pairs.append_pair("iss", issuer);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_loopback_or_an_apps_own() {
        assert!(check_redirect_uri("https://claude.ai/api/mcp/auth_callback").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:33418/").is_ok());
        assert!(check_redirect_uri("http://localhost:6274/oauth/callback").is_ok());
        assert!(check_redirect_uri("cursor://anysphere.cursor-mcp/oauth/callback").is_ok());
        assert!(check_redirect_uri("http://evil.example/cb").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
        assert!(check_redirect_uri("https://a.example/cb#frag").is_err());
        assert!(check_redirect_uri("/relative").is_err());
    }

    #[test]
    fn loopback_redirects_match_on_any_port_others_exactly() {
        let registered = vec![
            "http://127.0.0.1:1000/cb".to_string(),
            "https://a.example/cb".to_string(),
        ];
        assert!(redirect_matches(&registered, "http://127.0.0.1:5555/cb"));
        assert!(!redirect_matches(
            &registered,
            "http://127.0.0.1:5555/other"
        ));
        assert!(redirect_matches(&registered, "https://a.example/cb"));
        assert!(!redirect_matches(&registered, "https://a.example/cb/"));
        assert!(!redirect_matches(&registered, "https://a.example/cb?x=1"));
    }
}
