//! What the authorization server's JSON endpoints take and give: OAuth's
//! own shapes (snake_case, RFC 6749, 7591, 8414, 9728), and the connected
//! apps a user sees (camelCase, like the rest of the API).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 10;

/// The longest redirect URI, client name or URI accepted.
pub const MAX_URI: usize = 2000;
pub const MAX_CLIENT_NAME: usize = 100;

/// An OAuth error (RFC 6749 §5.2): what OAuth clients read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_grant`, `invalid_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_target`,
    /// `invalid_redirect_uri`, `invalid_client_metadata`, `slow_down`.
    pub error: String,
    /// What was wrong, for the developer: names the field.
    pub error_description: String,
}

/// Dynamic client registration (RFC 7591). Only public clients: no secret
/// is issued, and PKCE is what proves the client at the token endpoint.
#[derive(Debug, Clone, Deserialize, validator::Validate, ToSchema)]
pub struct RegistrationRequest {
    /// 1 to 10 exact redirect URIs: `https`, `http` on loopback
    /// (`localhost`, `127.0.0.1`, `[::1]`), or an app's own scheme
    /// (`com.example.app:/callback`); no fragment.
    #[schema(min_items = 1, max_items = 10)]
    pub redirect_uris: Vec<String>,
    /// Shown on the consent page; up to 100 characters.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub client_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub client_uri: Option<String>,
    /// `none` (the only method: public clients).
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// `authorization_code` and `refresh_token`.
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// `code`.
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
    /// `portfolio:read`.
    #[serde(default)]
    pub scope: Option<String>,
}

/// A registered client.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Registration {
    pub client_id: String,
    /// Seconds since 1970.
    pub client_id_issued_at: i64,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub scope: String,
}

/// Tokens from `POST /oauth/token`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds the access token lasts.
    pub expires_in: i64,
    /// Use once: each use gives a new one, and a second use of the same one
    /// ends the connection.
    pub refresh_token: String,
    pub scope: String,
}

/// The form `POST /oauth/token` takes (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `authorization_code` (with `code`, `redirect_uri`, `client_id`,
    /// `code_verifier`) or `refresh_token` (with `refresh_token`).
    #[schema(required = true, min_length = 1)]
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub client_id: Option<String>,
    /// PKCE: 43 to 128 of `A-Z a-z 0-9 - . _ ~`.
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    /// RFC 8707: this server's MCP endpoint, `<public URL>/mcp`.
    pub resource: Option<String>,
    pub scope: Option<String>,
}

/// The form `POST /oauth/revoke` takes (RFC 7009).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// The refresh token (which ends the connection) or an access token.
    #[schema(required = true, min_length = 1)]
    pub token: Option<String>,
    /// `access_token` or `refresh_token`; either is looked for anyway.
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
}

/// RFC 9728: where to get a token for `/mcp`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourceMetadata {
    pub resource: String,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub bearer_methods_supported: Vec<String>,
    pub resource_name: String,
    pub resource_documentation: String,
}

/// RFC 8414: the authorization server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub registration_endpoint: String,
    pub revocation_endpoint: String,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    /// The authorization response carries `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
    /// A `client_id` may be the https URL of a client metadata document.
    pub client_id_metadata_document_supported: bool,
}

/// An app the user connected to their KiteMate (an MCP client).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedApp {
    /// The grant's id: `DELETE /connected-apps/{id}` disconnects it.
    pub id: String,
    pub client_id: String,
    /// As the app named itself: not verified.
    pub name: String,
    /// Where it received its code.
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub connected_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A page of connected apps, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedApps {
    pub apps: Vec<ConnectedApp>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}
