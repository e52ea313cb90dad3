//! Client ID Metadata Documents: a `client_id` that is an https URL names
//! a JSON document there, which this server fetches with guards against
//! server-side request forgery: https only, every address the name resolves
//! to public (no private, loopback, link-local or otherwise special range),
//! the connection pinned to the address checked (no DNS rebinding between
//! the check and the fetch), no redirects, 3 seconds, 5 KB.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::model::{MAX_CLIENT_NAME, MAX_REDIRECT_URIS, MAX_URI};

/// The largest document read.
const MAX_BYTES: usize = 5 * 1024;
const TIMEOUT: Duration = Duration::from_secs(3);

/// What the document says, checked.
#[derive(Debug, Clone)]
pub struct Document {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub client_uri: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Raw {
    client_id: String,
    #[serde(default)]
    client_name: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    client_uri: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

/// Whether an address is one the public internet routes to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address; so does 6to4
            // (2002::/16, in its second and third groups).
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            if s[0] == 0x2002 {
                let [a, b] = s[1].to_be_bytes();
                let [c, d] = s[2].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(
                v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x2001 && s[1] == 0) // Teredo: tunnels to anywhere
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside)
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64
                || v6 == Ipv6Addr::from_bits(1)
                || s[0] == 0
                // IPv4-compatible and other reserved
            )
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

/// Fetches and checks the document at `client_id`. `loopback` allows
/// plain HTTP to loopback, for tests and local development.
pub async fn fetch(client_id: &str, loopback: bool) -> Result<Document, String> {
    let url = Url::parse(client_id).map_err(|_| "client_id is not a URL".to_string())?;
    let local = loopback && url.scheme() == "http";
    if url.scheme() != "https" && !local {
        return Err("client_id must be an https URL".into());
    }
    if url.path() == "/"
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err("client_id must have a path, and no fragment or credentials".into());
    }
    let host = url.host_str().ok_or("client_id has no host")?.to_string();
    let port = url.port_or_known_default().ok_or("client_id has no port")?;
    let addrs: Vec<SocketAddr> = tokio::time::timeout(
        TIMEOUT,
        tokio::net::lookup_host((host.trim_matches(['[', ']']), port)),
    )
    .await
    .map_err(|_| "resolving the host timed out".to_string())?
    .map_err(|_| "the host does not resolve".to_string())?
    .collect();
    let allowed = |a: &SocketAddr| is_public(a.ip()) || (local && a.ip().is_loopback());
    if addrs.is_empty() || !addrs.iter().all(allowed) {
        return Err("the host resolves to an address that is not public".into());
    }
    let client = reqwest::Client::builder()
        // A proxy would resolve the name itself, undoing the pinning below.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .resolve_to_addrs(&host, &addrs)
        .build()
        .map_err(|e| format!("client: {e}"))?;
    let mut res = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|_| "the document could not be fetched".to_string())?;
    if !res.status().is_success() {
        return Err(format!("the document answered {}", res.status().as_u16()));
    }
    if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err("the document is larger than 5 KB".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|_| "reading the document failed".to_string())?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err("the document is larger than 5 KB".into());
        }
    }
    let raw: Raw = serde_json::from_slice(&body)
        .map_err(|_| "the document is not client metadata JSON".to_string())?;
    if raw.client_id != client_id {
        return Err("the document's client_id is not its own URL".into());
    }
    if raw
        .token_endpoint_auth_method
        .as_deref()
        .is_some_and(|m| m != "none")
    {
        return Err("only public clients (token_endpoint_auth_method none)".into());
    }
    if raw.redirect_uris.is_empty() || raw.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(format!("redirect_uris must list 1 to {MAX_REDIRECT_URIS}"));
    }
    for uri in &raw.redirect_uris {
        super::redirects::check_redirect_uri(uri)?;
    }
    let name = raw
        .client_name
        .map(|n| {
            n.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_CLIENT_NAME)
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| host.clone());
    Ok(Document {
        name,
        redirect_uris: raw.redirect_uris,
        client_uri: raw
            .client_uri
            .filter(|u| u.len() <= MAX_URI && u.starts_with("https://")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "224.0.0.1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378::1",
            "fec0::1",
            "64:ff9b:1::a00:1",
        ] {
            let ip: IpAddr = private.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(!is_public(ip), "{private} passed");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            let ip: IpAddr = public.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(is_public(ip), "{public} refused");
        }
    }
}
