//! Wire types of the auth service and the rows behind them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A user's plan. Everyone is `free` until subscriptions exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Free,
    Pro,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
        }
    }

    /// The tier stored as `value`; anything but `pro` is Free.
    pub(crate) fn parse(value: &str) -> Self {
        if value == "pro" {
            Self::Pro
        } else {
            Self::Free
        }
    }
}

fn trimmed<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    String::deserialize(de).map(|s| s.trim().to_string())
}

/// Usernames the site keeps for itself: its own paths (`/u/me`, `/api`),
/// roles people might take for staff, and the brand.
pub const RESERVED_USERNAMES: &[&str] = &[
    "about",
    "account",
    "accounts",
    "admin",
    "administrator",
    "api",
    "app",
    "auth",
    "billing",
    "blog",
    "dashboard",
    "dashboards",
    "discover",
    "docs",
    "embed",
    "explore",
    "feed",
    "help",
    "home",
    "kite",
    "kitemate",
    "login",
    "logout",
    "me",
    "mod",
    "moderator",
    "new",
    "notifications",
    "null",
    "official",
    "owner",
    "pricing",
    "privacy",
    "pro",
    "profile",
    "profiles",
    "security",
    "settings",
    "shared",
    "signup",
    "staff",
    "status",
    "support",
    "system",
    "team",
    "terms",
    "undefined",
    "user",
    "users",
    "widget",
    "widgets",
    "zerodha",
];

/// Usernames are `a-z`, `0-9` and `_` (letters in either case; stored lowercase).
fn username_chars(username: &str) -> Result<(), validator::ValidationError> {
    if username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(())
    } else {
        Err(validator::ValidationError::new("username")
            .with_message("may contain only letters a-z, digits and _".into()))
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupRequest {
    /// Email address; stored trimmed and lowercased.
    #[serde(deserialize_with = "trimmed")]
    #[validate(email, length(max = 254))]
    #[schema(example = "asha@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 8 to 128 characters, not one of the commonest passwords.
    #[validate(length(min = 8, max = 128))]
    #[schema(example = "river otter lantern", min_length = 8, max_length = 128)]
    pub password: String,
    /// 3 to 30 of `a-z`, `0-9` and `_`; unique regardless of case; not a
    /// word the site's own addresses use (`admin`, `api`, `me`, `support`,
    /// `kitemate`, … — see `RESERVED_USERNAMES`).
    #[validate(length(min = 3, max = 30), custom(function = "username_chars"))]
    #[schema(
        example = "asha_invests",
        min_length = 3,
        max_length = 30,
        pattern = "^[A-Za-z0-9_]{3,30}$"
    )]
    pub username: String,
}

/// Deleting one's account: the password, or nothing from a session signed
/// in within the last few minutes (`auth.fresh_session_minutes`).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteAccount {
    #[validate(length(min = 1, max = 128))]
    #[schema(example = "river otter lantern", min_length = 1, max_length = 128)]
    pub password: Option<String>,
}

/// A change of one's account.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeAccount {
    /// A new username, under the same rules as at signup. The old one
    /// keeps sending visitors of your profile to the new one, and no one
    /// else may take it, for 30 days.
    #[validate(length(min = 3, max = 30), custom(function = "username_chars"))]
    #[schema(
        example = "asha_invests",
        min_length = 3,
        max_length = 30,
        pattern = "^[A-Za-z0-9_]{3,30}$"
    )]
    pub username: Option<String>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    #[serde(deserialize_with = "trimmed")]
    #[validate(length(min = 1, max = 254))]
    #[schema(
        example = "asha@example.com",
        min_length = 1,
        max_length = 254,
        pattern = "\\S"
    )]
    pub email: String,
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

// Requests carry passwords: their Debug output leaves them out.
impl std::fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupRequest")
            .field("email", &self.email)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A user as they see themselves.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[schema(example = "0192f3a4-5b6c-7d8e-9f00-112233445566")]
    pub id: String,
    pub email: String,
    pub username: String,
    pub tier: Tier,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

/// A new session's bearer token and its user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// One of the caller's signed-in sessions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    /// True for the session making this request.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<Session>,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: String,
    pub email: String,
    pub username: String,
    pub password_hash: Option<String>,
    pub tier: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            username: row.username,
            tier: Tier::parse(&row.tier),
            is_admin: row.is_admin,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct SessionRow {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_agent: Option<String>,
}

/// What the auth handler resolves a bearer token to.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct CallerRow {
    pub session_id: String,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_id: String,
    pub email: String,
    pub username: String,
    pub tier: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

impl CallerRow {
    pub(super) fn user(&self) -> User {
        User {
            id: self.user_id.clone(),
            email: self.email.clone(),
            username: self.username.clone(),
            tier: Tier::parse(&self.tier),
            is_admin: self.is_admin,
            created_at: self.created_at,
        }
    }
}
