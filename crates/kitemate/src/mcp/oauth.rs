//! The authorization server: clients, the browser's authorization (sign in,
//! then consent), codes with PKCE, rotating refresh tokens, revocation,
//! and the check of a bearer token at `/mcp`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use platform::ApiError;
use reqwest::Url;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::model::{
    ConnectedApp, ConnectedApps, MAX_CLIENT_NAME, MAX_REDIRECT_URIS, MAX_URI, OAuthError,
    Registration, RegistrationRequest, RevokeRequest, TokenRequest, TokenResponse,
};
use super::redirects::{check_redirect_uri, redirect_matches, redirect_to};
use super::scopes::Scopes;
use super::service::McpService;
use super::store::{self, ClientRow, GrantRow, RequestRow};
use crate::audit::Record;
use crate::auth::token::{digest, generate_state};
use crate::auth::{Origin, User};

/// How long the browser has to sign in and consent.
const REQUEST_MINUTES: i64 = 10;
/// How long a code may wait for its exchange.
const CODE_SECONDS: i64 = 120;
/// Grants without tokens or codes are dropped this long after they start.
const LAPSED_DAYS: i64 = 1;

/// A refusal of a token, registration or revocation request, in OAuth's
/// shape, with its status.
#[derive(Debug, Clone)]
pub struct OAuthFailure {
    pub status: u16,
    pub body: OAuthError,
}

impl OAuthFailure {
    pub(super) fn new(error: &str, description: impl Into<String>) -> Self {
        Self {
            status: 400,
            body: OAuthError {
                error: error.into(),
                error_description: description.into(),
            },
        }
    }

    fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

impl From<ApiError> for OAuthFailure {
    fn from(err: ApiError) -> Self {
        let status = err.status().as_u16();
        let error = match status {
            429 => "slow_down",
            400..=499 => "invalid_request",
            _ => "server_error",
        };
        Self::new(error, err.message).status(status)
    }
}

impl From<sqlx::Error> for OAuthFailure {
    fn from(err: sqlx::Error) -> Self {
        ApiError::from(err).into()
    }
}

/// The parameters of `GET /oauth/authorize`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub resource: Option<String>,
}

/// Why an authorization cannot go on: shown on the page when the client or
/// its redirect URI cannot be trusted; else the error for the client, at
/// its redirect URI, which the page links to (never an automatic redirect:
/// anyone can register a client, RFC 9700 §4.11.2).
#[derive(Debug)]
pub enum AuthorizeFailure {
    Page(String),
    ToClient { to: String, description: String },
}

/// A client as the consent page names it.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// Fetched from its own URL (the name is the site's), or registered
    /// by anyone (the name is only what it said).
    pub from_metadata: bool,
}

/// An authorization the page is showing.
#[derive(Debug, Clone)]
pub struct Pending {
    pub request_id: String,
    /// The CSRF token the page's form carries.
    pub csrf: String,
    pub client: Client,
    pub redirect_uri: String,
    pub scopes: Scopes,
    /// Set once the browser signed in: the consent page is next.
    pub user: Option<User>,
}

/// Who is calling `/mcp`, from a valid access token.
#[derive(Debug, Clone)]
pub struct McpCaller {
    pub user: User,
    pub grant_id: String,
    pub client_id: String,
    pub scopes: Scopes,
}

/// Why a bearer token was refused at `/mcp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerFailure {
    /// No token.
    Missing,
    /// Unknown, expired, revoked, or for another audience.
    Invalid(&'static str),
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn when(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A new secret: 256 random bits, with a prefix that says what it is.
fn secret(prefix: &str) -> String {
    format!("{prefix}{}", generate_state())
}

/// A form field that must be there and not empty.
fn required(name: &str, value: &Option<String>) -> Result<String, OAuthFailure> {
    value
        .clone()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthFailure::new("invalid_request", format!("{name}: required")))
}

/// PKCE S256: whether `verifier` hashes to `challenge`.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let hashed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    platform::crypto::constant_time_eq(hashed.as_bytes(), challenge.as_bytes())
}

/// RFC 7636: 43 to 128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// A challenge is a SHA-256 in unpadded base64url: 43 characters.
fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl McpService {
    /// `<public URL>/mcp`: the audience every token is bound to.
    pub fn resource(&self) -> String {
        format!("{}/mcp", self.issuer())
    }

    /// Where `/mcp`'s protected-resource metadata is (RFC 9728).
    pub fn resource_metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/mcp", self.issuer())
    }

    /// The public URL without a trailing slash: the issuer, exactly.
    pub fn issuer(&self) -> String {
        self.inner.public_url.trim_end_matches('/').to_string()
    }

    /// Registers a public client (RFC 7591).
    pub async fn register(&self, req: RegistrationRequest) -> Result<Registration, OAuthFailure> {
        let bad = |error: &str, what: String| OAuthFailure::new(error, what);
        if req.redirect_uris.is_empty() || req.redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(bad(
                "invalid_redirect_uri",
                format!("redirect_uris: must list 1 to {MAX_REDIRECT_URIS} URIs"),
            ));
        }
        for (i, uri) in req.redirect_uris.iter().enumerate() {
            check_redirect_uri(uri)
                .map_err(|why| bad("invalid_redirect_uri", format!("redirect_uris[{i}]: {why}")))?;
        }
        if let Some(method) = &req.token_endpoint_auth_method
            && method != "none"
        {
            return Err(bad(
                "invalid_client_metadata",
                "token_endpoint_auth_method: only `none` (public clients with PKCE)".into(),
            ));
        }
        if let Some(types) = &req.grant_types
            && let Some(other) = types
                .iter()
                .find(|t| !matches!(t.as_str(), "authorization_code" | "refresh_token"))
        {
            return Err(bad(
                "invalid_client_metadata",
                format!(
                    "grant_types: `{other}` is not supported (authorization_code, refresh_token)"
                ),
            ));
        }
        if let Some(types) = &req.response_types
            && types.iter().any(|t| t != "code")
        {
            return Err(bad(
                "invalid_client_metadata",
                "response_types: only `code`".into(),
            ));
        }
        let scopes = match &req.scope {
            Some(scope) => Scopes::parse(scope)
                .map_err(|why| bad("invalid_client_metadata", format!("scope: {why}")))?,
            None => Scopes::all(),
        };
        let name = req
            .client_name
            .as_deref()
            .map(str::trim)
            .unwrap_or_default();
        if name.chars().count() > MAX_CLIENT_NAME || name.chars().any(char::is_control) {
            return Err(bad(
                "invalid_client_metadata",
                format!("client_name: at most {MAX_CLIENT_NAME} characters, no control characters"),
            ));
        }
        if let Some(uri) = &req.client_uri
            && (uri.len() > MAX_URI || Url::parse(uri).map_or(true, |u| u.scheme() != "https"))
        {
            return Err(bad(
                "invalid_client_metadata",
                "client_uri: must be an https URL".into(),
            ));
        }
        let now = self.inner.clock.now();
        let id = secret("kmc_");
        let name = if name.is_empty() {
            "An unnamed app".to_string()
        } else {
            name.to_string()
        };
        store::put_client(
            &self.inner.db,
            &ClientRow {
                id: id.clone(),
                name: name.clone(),
                redirect_uris: serde_json::to_string(&req.redirect_uris)
                    .map_err(ApiError::internal)?,
                client_uri: req.client_uri.clone(),
                kind: "registered".into(),
                created_at: millis(now),
                fetched_at: None,
            },
        )
        .await?;
        Ok(Registration {
            client_id: id,
            client_id_issued_at: now.timestamp(),
            client_name: name,
            redirect_uris: req.redirect_uris,
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            response_types: vec!["code".into()],
            token_endpoint_auth_method: "none".into(),
            scope: scopes.to_string(),
        })
    }

    /// The client `id` names: registered here, or (an https URL) its
    /// metadata document, fetched with the SSRF guards and kept a day.
    pub async fn client(&self, id: &str) -> Result<Option<Client>, ApiError> {
        if id.is_empty() || id.len() > MAX_URI {
            return Ok(None);
        }
        let stored = store::client(&self.inner.db, id).await?;
        let fresh = |row: &ClientRow| {
            row.kind == "registered"
                || row
                    .fetched_at
                    .is_some_and(|at| at > millis(self.inner.clock.now() - TimeDelta::hours(24)))
        };
        let row = match stored {
            Some(row) if fresh(&row) => row,
            _ if id.starts_with("https://")
                || (self.inner.config.metadata_from_loopback && id.starts_with("http://")) =>
            {
                match super::metadata::fetch(id, self.inner.config.metadata_from_loopback).await {
                    Ok(doc) => {
                        let row = ClientRow {
                            id: id.to_string(),
                            name: doc.name,
                            redirect_uris: serde_json::to_string(&doc.redirect_uris)
                                .map_err(ApiError::internal)?,
                            client_uri: doc.client_uri,
                            kind: "metadata".into(),
                            created_at: millis(self.inner.clock.now()),
                            fetched_at: Some(millis(self.inner.clock.now())),
                        };
                        store::put_client(&self.inner.db, &row).await?;
                        row
                    }
                    Err(why) => {
                        tracing::info!(client_id = id, reason = %why, "client metadata document refused");
                        return Ok(None);
                    }
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(Client {
            redirect_uris: serde_json::from_str(&row.redirect_uris).unwrap_or_default(),
            from_metadata: row.kind == "metadata",
            name: row.name,
            id: row.id,
        }))
    }

    /// Starts an authorization for the browser holding the nonce whose
    /// hash is `browser`: checks the request, keeps it, and answers what
    /// the sign-in page shows.
    pub async fn begin(
        &self,
        q: &AuthorizeQuery,
        browser: &str,
    ) -> Result<Pending, AuthorizeFailure> {
        let page = |m: &str| AuthorizeFailure::Page(m.to_string());
        let client_id = q.client_id.as_deref().unwrap_or_default();
        let client = self
            .client(client_id)
            .await
            .map_err(|_| page("The server could not check the app; try again."))?
            .ok_or_else(|| page("The app asking to connect is not known here (its client_id is not registered, or its metadata could not be read)."))?;
        // Without a redirect URI that is the client's, nothing may be sent
        // anywhere: the page says so instead.
        let redirect_uri = match q.redirect_uri.as_deref() {
            Some(uri) if redirect_matches(&client.redirect_uris, uri) => uri.to_string(),
            Some(_) => return Err(page("The app's redirect_uri is not one it registered.")),
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => return Err(page("The app did not say where to return (redirect_uri).")),
        };
        let issuer = self.issuer();
        let back = |error: &str, description: &str| AuthorizeFailure::ToClient {
            to: redirect_to(
                &redirect_uri,
                &[("error", error), ("error_description", description)],
                q.state.as_deref(),
                &issuer,
            ),
            description: description.to_string(),
        };
        if q.response_type.as_deref() != Some("code") {
            return Err(back(
                "unsupported_response_type",
                "response_type must be code",
            ));
        }
        if q.code_challenge_method.as_deref() != Some("S256") {
            return Err(back(
                "invalid_request",
                "code_challenge_method must be S256 (PKCE is required)",
            ));
        }
        let challenge = q.code_challenge.as_deref().unwrap_or_default();
        if !valid_challenge(challenge) {
            return Err(back(
                "invalid_request",
                "code_challenge must be a base64url SHA-256 (43 characters)",
            ));
        }
        if q.state.as_ref().is_some_and(|s| s.len() > 500) {
            return Err(back(
                "invalid_request",
                "state is longer than 500 characters",
            ));
        }
        let resource = self.resource();
        if let Some(asked) = q.resource.as_deref()
            && asked.trim_end_matches('/') != resource
        {
            return Err(back(
                "invalid_target",
                "resource must be this server's MCP endpoint",
            ));
        }
        let scopes = match q.scope.as_deref() {
            Some(s) if !s.trim().is_empty() => {
                Scopes::parse(s).map_err(|why| back("invalid_scope", &why))?
            }
            _ => Scopes::all(),
        };
        let csrf = secret("");
        let row = RequestRow {
            id: uuid::Uuid::now_v7().to_string(),
            browser: browser.to_string(),
            csrf: digest(&csrf),
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.clone(),
            code_challenge: challenge.to_string(),
            state: q.state.clone(),
            scope: scopes.to_string(),
            resource,
            user_id: None,
            expires_at: millis(self.inner.clock.now() + TimeDelta::minutes(REQUEST_MINUTES)),
        };
        store::insert_request(&self.inner.db, &row)
            .await
            .map_err(|_| page("The server could not keep the request; try again."))?;
        Ok(Pending {
            request_id: row.id,
            csrf,
            client,
            redirect_uri,
            scopes,
            user: None,
        })
    }

    /// The request a form answers, when it comes from the browser that
    /// started it (the cookie's nonce) with the page's CSRF token.
    async fn bound_request(
        &self,
        id: &str,
        browser: &str,
        csrf: &str,
    ) -> Result<RequestRow, ApiError> {
        let row = store::request(&self.inner.db, id, millis(self.inner.clock.now()))
            .await?
            .ok_or_else(|| {
                ApiError::invalid_argument(
                    "this sign-in has expired or was already answered; start again from the app",
                )
            })?;
        let same_browser =
            platform::crypto::constant_time_eq(row.browser.as_bytes(), browser.as_bytes());
        let same_form =
            platform::crypto::constant_time_eq(row.csrf.as_bytes(), digest(csrf).as_bytes());
        if !same_browser || !same_form {
            return Err(ApiError::permission_denied(
                "this form was not opened in this browser; start again from the app",
            ));
        }
        Ok(row)
    }

    /// Signs the browser in for the request, with email and password; the
    /// consent page comes next, with a new CSRF token.
    pub async fn sign_in(
        &self,
        (id, browser, csrf): (&str, &str, &str),
        email: &str,
        password: String,
        origin: &Origin,
    ) -> Result<Pending, ApiError> {
        let row = self.bound_request(id, browser, csrf).await?;
        if row.user_id.is_some() {
            return Err(ApiError::invalid_argument(
                "already signed in; answer the consent form",
            ));
        }
        let user = self
            .inner
            .auth
            .check_password(email, password, origin)
            .await?;
        let next = secret("");
        if !store::sign_in_request(&self.inner.db, id, &user.id, &digest(&next)).await? {
            return Err(ApiError::invalid_argument(
                "already signed in; answer the consent form",
            ));
        }
        self.pending(row, next, Some(user)).await
    }

    /// The sign-in form again, for the same request (a wrong password).
    pub async fn restart_form(
        &self,
        (id, browser, csrf): (&str, &str, &str),
    ) -> Result<Pending, ApiError> {
        let row = self.bound_request(id, browser, csrf).await?;
        self.pending(row, csrf.to_string(), None).await
    }

    /// What the page shows for a request already kept.
    async fn pending(
        &self,
        row: RequestRow,
        csrf: String,
        user: Option<User>,
    ) -> Result<Pending, ApiError> {
        let client = self
            .client(&row.client_id)
            .await?
            .ok_or_else(|| ApiError::invalid_argument("the app is no longer known"))?;
        Ok(Pending {
            request_id: row.id,
            csrf,
            client,
            redirect_uri: row.redirect_uri,
            scopes: Scopes::parse(&row.scope).unwrap_or_else(|_| Scopes::all()),
            user,
        })
    }

    /// The user's answer on the consent page: where the browser goes next
    /// (the client's redirect URI, with a code or `access_denied`).
    pub async fn decide(
        &self,
        (id, browser, csrf): (&str, &str, &str),
        allow: bool,
        origin: &Origin,
    ) -> Result<String, ApiError> {
        let row = self.bound_request(id, browser, csrf).await?;
        let user_id = row
            .user_id
            .clone()
            .ok_or_else(|| ApiError::invalid_argument("sign in first"))?;
        let issuer = self.issuer();
        // The client before the write transaction: looking it up may fetch
        // its metadata document, which must not hold the database's lock.
        let client = match allow {
            true => Some(
                self.client(&row.client_id)
                    .await?
                    .ok_or_else(|| ApiError::invalid_argument("the app is no longer known"))?,
            ),
            false => None,
        };
        let mut tx = self.inner.db.begin().await?;
        if !store::take_request(&mut tx, id).await? {
            return Err(ApiError::invalid_argument(
                "this request was already answered",
            ));
        }
        let Some(client) = client else {
            tx.commit().await?;
            return Ok(redirect_to(
                &row.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the user declined"),
                ],
                row.state.as_deref(),
                &issuer,
            ));
        };
        let now = self.inner.clock.now();
        let grant = GrantRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.clone(),
            client_id: client.id.clone(),
            client_name: client.name.clone(),
            redirect_uri: row.redirect_uri.clone(),
            scope: row.scope.clone(),
            resource: row.resource.clone(),
            created_at: millis(now),
            last_used_at: None,
            revoked_at: None,
        };
        store::insert_grant(&mut tx, &grant).await?;
        let code = secret("kmo_");
        store::insert_code(
            &mut tx,
            &digest(&code),
            &grant.id,
            &row.code_challenge,
            millis(now + TimeDelta::seconds(CODE_SECONDS)),
        )
        .await?;
        tx.commit().await?;
        self.inner
            .audit
            .record(Record::by_user(
                &user_id,
                "mcp.granted",
                json!({ "grantId": grant.id, "clientId": client.id, "clientName": client.name, "redirectUri": row.redirect_uri, "scope": row.scope }),
                origin.audit(),
            ))
            .await;
        Ok(redirect_to(
            &row.redirect_uri,
            &[("code", &code)],
            row.state.as_deref(),
            &issuer,
        ))
    }

    /// `POST /oauth/token`: a code (with its PKCE verifier) or a refresh
    /// token, for new tokens.
    pub async fn token(
        &self,
        req: TokenRequest,
        origin: &Origin,
    ) -> Result<TokenResponse, OAuthFailure> {
        match req.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(&req, origin).await,
            Some("refresh_token") => self.refresh(&req, origin).await,
            Some(other) => Err(OAuthFailure::new(
                "unsupported_grant_type",
                format!(
                    "grant_type: `{}` is not supported (authorization_code, refresh_token)",
                    other.chars().take(40).collect::<String>()
                ),
            )),
            None => Err(OAuthFailure::new("invalid_request", "grant_type: required")),
        }
    }

    fn check_resource(&self, req: &TokenRequest, grant: &GrantRow) -> Result<(), OAuthFailure> {
        match req.resource.as_deref() {
            Some(r) if r.trim_end_matches('/') != grant.resource => Err(OAuthFailure::new(
                "invalid_target",
                "resource: not the audience this grant is for",
            )),
            _ => Ok(()),
        }
    }

    async fn exchange_code(
        &self,
        req: &TokenRequest,
        origin: &Origin,
    ) -> Result<TokenResponse, OAuthFailure> {
        let code = required("code", &req.code)?;
        let verifier = required("code_verifier", &req.code_verifier)?;
        let client_id = required("client_id", &req.client_id)?;
        if !valid_verifier(&verifier) {
            return Err(OAuthFailure::new(
                "invalid_request",
                "code_verifier: 43 to 128 of A-Z a-z 0-9 - . _ ~",
            ));
        }
        let invalid =
            || OAuthFailure::new("invalid_grant", "code: unknown, expired or already used");
        let now = self.inner.clock.now();
        let hash = digest(&code);
        let mut tx = self.inner.db.begin().await?;
        let (grant_id, challenge, expires_at, used_at) =
            store::code(&mut tx, &hash).await?.ok_or_else(invalid)?;
        let grant = store::grant_in(&mut tx, &grant_id)
            .await?
            .ok_or_else(invalid)?;
        // Who presents the code is checked first: only its own client, with
        // the verifier, may redeem it or (replaying it) end what it gave;
        // someone who merely saw a used code in a log can do neither.
        if grant.client_id != client_id {
            return Err(OAuthFailure::new(
                "invalid_grant",
                "client_id: not the client the code was issued to",
            ));
        }
        if req
            .redirect_uri
            .as_deref()
            .is_some_and(|r| r != grant.redirect_uri)
        {
            return Err(OAuthFailure::new(
                "invalid_grant",
                "redirect_uri: not the one the code was sent to",
            ));
        }
        if !pkce_matches(&verifier, &challenge) {
            return Err(OAuthFailure::new(
                "invalid_grant",
                "code_verifier: does not match the code_challenge",
            ));
        }
        if used_at.is_some() {
            // A code used twice was stolen, or the client is broken: the
            // grant it made is ended (RFC 6749 §4.1.2).
            return Err(self.replayed(tx, &grant_id, now, origin).await);
        }
        if expires_at <= millis(now) || grant.revoked_at.is_some() {
            return Err(invalid());
        }
        self.check_resource(req, &grant)?;
        if !store::use_code(&mut tx, &hash, millis(now)).await? {
            // Another exchange of the same code won the race: a replay too.
            drop(tx);
            let tx = self.inner.db.begin().await?;
            return Err(self.replayed(tx, &grant_id, now, origin).await);
        }
        let tokens = self.issue(&mut tx, &grant).await?;
        tx.commit().await?;
        Ok(tokens)
    }

    /// Ends the grant a replayed code made; the error to answer.
    async fn replayed(
        &self,
        mut tx: platform::db::Tx,
        grant_id: &str,
        now: DateTime<Utc>,
        origin: &Origin,
    ) -> OAuthFailure {
        let ended = async {
            store::revoke_grant(&mut tx, grant_id, millis(now)).await?;
            tx.commit().await
        }
        .await;
        match ended {
            Ok(()) => self.audit_revoked(grant_id, "code replayed", origin).await,
            Err(err) => {
                tracing::error!(error = %err, grant_id, "a replayed code's grant was not ended")
            }
        }
        OAuthFailure::new("invalid_grant", "code: unknown, expired or already used")
    }

    async fn refresh(
        &self,
        req: &TokenRequest,
        origin: &Origin,
    ) -> Result<TokenResponse, OAuthFailure> {
        let token = required("refresh_token", &req.refresh_token)?;
        // A public client names itself on every refresh (OAuth 2.1 §4.3.1).
        let client_id = required("client_id", &req.client_id)?;
        let invalid = || {
            OAuthFailure::new(
                "invalid_grant",
                "refresh_token: unknown, expired or revoked",
            )
        };
        let now = self.inner.clock.now();
        let hash = digest(&token);
        let mut tx = self.inner.db.begin().await?;
        let row = store::token_in(&mut tx, &hash).await?.ok_or_else(invalid)?;
        if row.kind != "refresh" || row.revoked_at.is_some() || row.expires_at <= millis(now) {
            return Err(invalid());
        }
        if client_id != row.client_id {
            return Err(OAuthFailure::new(
                "invalid_grant",
                "client_id: not the client the token was issued to",
            ));
        }
        if row.used_at.is_some() || !store::use_token(&mut tx, &hash, millis(now)).await? {
            // Rotation: a refresh token used twice means two holders; the
            // grant ends for both (OAuth 2.1 §4.3.1).
            store::revoke_grant(&mut tx, &row.grant_id, millis(now)).await?;
            tx.commit().await?;
            self.audit_revoked(&row.grant_id, "refresh token reused", origin)
                .await;
            return Err(invalid());
        }
        let grant = store::grant_in(&mut tx, &row.grant_id)
            .await?
            .ok_or_else(invalid)?;
        self.check_resource(req, &grant)?;
        if let Some(asked) = req.scope.as_deref() {
            let asked =
                Scopes::parse(asked).map_err(|why| OAuthFailure::new("invalid_scope", why))?;
            if !Scopes::parse(&grant.scope)
                .unwrap_or_default()
                .covers(asked)
            {
                return Err(OAuthFailure::new(
                    "invalid_scope",
                    "scope: more than the user granted",
                ));
            }
        }
        let tokens = self.issue(&mut tx, &grant).await?;
        tx.commit().await?;
        Ok(tokens)
    }

    /// A new access token and refresh token for the grant.
    async fn issue(
        &self,
        tx: &mut platform::db::Tx,
        grant: &GrantRow,
    ) -> Result<TokenResponse, OAuthFailure> {
        let now = self.inner.clock.now();
        let access = secret("kma_");
        let refresh = secret("kmr_");
        let access_ttl = TimeDelta::minutes(i64::from(self.inner.config.access_token_minutes));
        let refresh_ttl = TimeDelta::days(i64::from(self.inner.config.refresh_token_days));
        store::insert_token(
            tx,
            &digest(&access),
            &grant.id,
            "access",
            millis(now + access_ttl),
        )
        .await?;
        store::insert_token(
            tx,
            &digest(&refresh),
            &grant.id,
            "refresh",
            millis(now + refresh_ttl),
        )
        .await?;
        Ok(TokenResponse {
            access_token: access,
            token_type: "Bearer".into(),
            expires_in: access_ttl.num_seconds(),
            refresh_token: refresh,
            scope: grant.scope.clone(),
        })
    }

    async fn audit_revoked(&self, grant_id: &str, why: &str, origin: &Origin) {
        if let Ok(Some(grant)) = store::grant(&self.inner.db, grant_id).await {
            self.inner
                .audit
                .record(Record::by_user(
                    &grant.user_id,
                    "mcp.revoked",
                    json!({ "grantId": grant.id, "clientId": grant.client_id, "clientName": grant.client_name, "reason": why }),
                    origin.audit(),
                ))
                .await;
        }
    }

    /// RFC 7009: a refresh token ends its grant; an access token only
    /// itself. Unknown tokens are no error (the answer says nothing).
    pub async fn revoke(&self, req: RevokeRequest, origin: &Origin) -> Result<(), OAuthFailure> {
        let token = required("token", &req.token)?;
        let hash = digest(&token);
        let Some(row) = store::token(&self.inner.db, &hash).await? else {
            return Ok(());
        };
        if req.client_id.as_deref().is_some_and(|c| c != row.client_id) {
            // Someone else's token: not theirs to revoke, and not said.
            return Ok(());
        }
        if row.kind == "refresh" {
            let mut tx = self.inner.db.begin().await?;
            let live =
                store::revoke_grant(&mut tx, &row.grant_id, millis(self.inner.clock.now())).await?;
            tx.commit().await?;
            if live {
                self.audit_revoked(&row.grant_id, "revoked by the app", origin)
                    .await;
            }
        } else {
            store::delete_token(&self.inner.db, &hash).await?;
        }
        Ok(())
    }

    /// The caller behind a bearer token presented at `/mcp`.
    pub async fn verify(&self, bearer: &str) -> Result<McpCaller, BearerFailure> {
        if !bearer.starts_with("kma_") || bearer.len() > 100 {
            return Err(BearerFailure::Invalid("not an access token of this server"));
        }
        let now = millis(self.inner.clock.now());
        let row = store::token(&self.inner.db, &digest(bearer))
            .await
            .map_err(|_| BearerFailure::Invalid("the token could not be checked"))?
            .ok_or(BearerFailure::Invalid("unknown or revoked token"))?;
        if row.kind != "access" || row.revoked_at.is_some() {
            return Err(BearerFailure::Invalid("unknown or revoked token"));
        }
        if row.expires_at <= now {
            return Err(BearerFailure::Invalid("the token has expired"));
        }
        if row.resource != self.resource() {
            return Err(BearerFailure::Invalid("the token is for another audience"));
        }
        let user = self
            .inner
            .auth
            .user(&row.user_id)
            .await
            .map_err(|_| BearerFailure::Invalid("the account is gone"))?;
        if row.last_used_at.is_none_or(|at| at < now - 60_000) {
            // Best effort: the list of apps shows it; a failure costs nothing else.
            let _ = store::touch_grant(&self.inner.db, &row.grant_id, now).await;
        }
        Ok(McpCaller {
            user,
            grant_id: row.grant_id,
            client_id: row.client_id,
            scopes: Scopes::parse(&row.scope).unwrap_or_default(),
        })
    }

    /// The caller's connected apps, newest first.
    pub async fn apps(
        &self,
        user: &User,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<ConnectedApps, ApiError> {
        let limit = limit.clamp(1, 100);
        let before = match cursor {
            Some(c) => {
                let (at, id) = c
                    .split_once('_')
                    .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                    .ok_or_else(|| {
                        ApiError::invalid_field("cursor", "is not a cursor this list gave")
                    })?;
                Some((at, id))
            }
            None => None,
        };
        let mut rows = store::grants(&self.inner.db, &user.id, before, limit + 1).await?;
        let next_cursor = (rows.len() as i64 > limit).then(|| {
            rows.truncate(limit as usize);
            rows.last()
                .map(|g| format!("{}_{}", g.created_at, g.id))
                .unwrap_or_default()
        });
        Ok(ConnectedApps {
            apps: rows
                .into_iter()
                .map(|g| ConnectedApp {
                    scopes: g.scope.split(' ').map(str::to_string).collect(),
                    connected_at: when(g.created_at),
                    last_used_at: g.last_used_at.map(when),
                    id: g.id,
                    client_id: g.client_id,
                    name: g.client_name,
                    redirect_uri: g.redirect_uri,
                })
                .collect(),
            next_cursor,
        })
    }

    /// Disconnects one of the caller's apps: its tokens stop working at once.
    pub async fn disconnect(&self, user: &User, id: &str, origin: &Origin) -> Result<(), ApiError> {
        let not_found = || ApiError::not_found("no such connected app of yours");
        let grant = store::grant(&self.inner.db, id)
            .await?
            .ok_or_else(not_found)?;
        if grant.user_id != user.id || grant.revoked_at.is_some() {
            return Err(not_found());
        }
        let mut tx = self.inner.db.begin().await?;
        store::revoke_grant(&mut tx, id, millis(self.inner.clock.now())).await?;
        tx.commit().await?;
        self.audit_revoked(id, "disconnected by the user", origin)
            .await;
        Ok(())
    }

    /// Drops expired requests, codes and tokens, and lapsed grants.
    pub async fn tidy(&self) -> Result<u64, ApiError> {
        let now = self.inner.clock.now();
        Ok(store::tidy(
            &self.inner.db,
            millis(now),
            millis(now - TimeDelta::days(LAPSED_DAYS)),
        )
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_is_s256() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(valid_verifier(verifier));
        assert!(!valid_verifier("short"));
    }
}
