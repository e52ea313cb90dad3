//! The auth service's logic: signup, login, sessions, the auth handler.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use platform::ApiError;
use platform::clock::Clock;
use platform::db::{Db, is_unique_violation};
use platform::kv::Redis;
use platform::pubsub::{Fanout, PubSub, Topic};
use platform::ratelimit::ip_key;
use platform::throttle::FailureThrottle;
use tokio::sync::Semaphore;

use super::cache::SessionCache;
use super::config::AuthConfig;
use super::events::{
    USER_DELETED, USER_SIGNED_UP, UserDeleted, UserSignedUp, ZERODHA_REAUTH_REQUIRED,
    ZerodhaReauthRequired,
};
use super::extract::AuthData;
use super::model::{AuthResponse, Session, SignupRequest, Tier, User};
use super::parts::AccountData;
use super::{password, store, token};
use crate::audit::{AuditPage, AuditQuery, AuditService, Origin as AuditOrigin, Record};

/// The auth service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuthService {
    pub(super) inner: Arc<Inner>,
}

/// What auth is built from besides its database: for connecting Zerodha,
/// the Kite client (when configured) and the keys that seal access tokens
/// at rest; the audit log its sensitive actions go to.
#[derive(Debug, Clone)]
pub struct AuthParts {
    pub kite: Option<kite::Kite>,
    pub keyring: Arc<platform::crypto::Keyring>,
    /// Cookies marked `Secure` (production: served over HTTPS).
    pub secure_cookies: bool,
    pub audit: AuditService,
    /// Per user: exports and deletion attempts (`auth.account_actions_per_minute`).
    pub account_limiter: platform::ratelimit::RateLimiter,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) db: Db,
    pub(super) clock: Clock,
    pub(super) config: AuthConfig,
    pub(super) signed_up: Topic<UserSignedUp>,
    pub(super) deleted: Topic<UserDeleted>,
    pub(super) reauth: Topic<ZerodhaReauthRequired>,
    /// The other services' parts of an export and a deletion.
    pub(super) account_parts: std::sync::OnceLock<Vec<Arc<dyn AccountData>>>,
    pub(super) account_limiter: platform::ratelimit::RateLimiter,
    pub(super) zerodha: AuthParts,
    /// Callers of recent sessions, when every replica hears what changes them.
    sessions: Option<Arc<SessionCache>>,
    pub(super) account_failures: FailureThrottle,
    ip_failures: FailureThrottle,
    /// argon2 takes 19 MiB and a core for tens of milliseconds: a few at a time.
    hashing: Semaphore,
}

/// How long a password check may wait for a free hashing slot before the
/// server says it is busy.
const HASHING_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Where a request comes from: recorded for the user's session list and in
/// the audit log.
#[derive(Debug, Default, Clone)]
pub struct Origin {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl Origin {
    /// The same, as the audit log keeps it.
    pub fn audit(&self) -> AuditOrigin {
        AuditOrigin {
            request_id: self.request_id.clone(),
            ip: self.ip.map(|ip| ip.to_string()),
        }
    }
}

impl AuthService {
    /// `redis`, when given, shares the failed-login throttles between
    /// replicas; `fanout`, when given, must reach every process that serves
    /// or changes these users: sessions are then remembered (see [`SessionCache`]).
    pub fn new(
        db: Db,
        clock: Clock,
        config: AuthConfig,
        pubsub: &PubSub,
        redis: Option<&Redis>,
        fanout: Option<&Fanout>,
        zerodha: AuthParts,
    ) -> anyhow::Result<Self> {
        let ttl = std::time::Duration::from_secs(config.session_cache_secs.into());
        let sessions = fanout
            .filter(|_| !ttl.is_zero())
            .map(|fanout| SessionCache::new(fanout.clone(), ttl));
        let signed_up = pubsub.topic(&USER_SIGNED_UP, &db)?;
        let deleted = pubsub.topic(&USER_DELETED, &db)?;
        let reauth = pubsub.topic(&ZERODHA_REAUTH_REQUIRED, &db)?;
        let window = TimeDelta::minutes(i64::from(config.failure_window_minutes));
        let max_wait = TimeDelta::seconds(i64::from(config.max_failure_wait_secs));
        let mut account_failures =
            FailureThrottle::new(config.account_free_failures, window, max_wait);
        let mut ip_failures = FailureThrottle::new(config.ip_free_failures, window, max_wait);
        if let Some(redis) = redis {
            account_failures = account_failures.shared(redis.clone(), "login-account");
            ip_failures = ip_failures.shared(redis.clone(), "login-ip");
        }
        Ok(Self {
            inner: Arc::new(Inner {
                account_failures,
                ip_failures,
                hashing: Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
                ),
                db,
                clock,
                config,
                signed_up,
                deleted,
                reauth,
                account_parts: std::sync::OnceLock::new(),
                account_limiter: zerodha.account_limiter.clone(),
                zerodha,
                sessions,
            }),
        })
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(super) fn secure_cookies(&self) -> bool {
        self.inner.zerodha.secure_cookies
    }

    pub(super) fn zerodha_return_url(&self) -> &str {
        &self.inner.config.zerodha_return_url
    }

    /// Runs an argon2 computation on the blocking pool, a few at a time.
    pub(super) async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = tokio::time::timeout(HASHING_QUEUE_WAIT, self.inner.hashing.acquire())
            .await
            .map_err(|_| ApiError::unavailable("the server is busy; try again shortly"))?
            .map_err(ApiError::internal)?;
        let result = tokio::task::spawn_blocking(work)
            .await
            .map_err(ApiError::internal)?;
        drop(permit);
        Ok(result)
    }

    /// Drops sessions that expired or were revoked more than a day ago, and
    /// forgets stale login failures.
    pub async fn tidy(&self) -> Result<u64, ApiError> {
        let now = self.inner.clock.now();
        self.inner.account_failures.forget_idle(now);
        self.inner.ip_failures.forget_idle(now);
        Ok(store::delete_dead_sessions(&self.inner.db, now - TimeDelta::days(1)).await?)
    }

    /// The auth handler: a bearer token to the caller, or 401.
    pub async fn authenticate(&self, bearer: &str) -> Result<AuthData, ApiError> {
        let invalid = || ApiError::unauthenticated("invalid or expired session; log in again");
        if !token::looks_valid(bearer) {
            return Err(invalid());
        }
        let hash = token::digest(bearer);
        let now = self.inner.clock.now();
        let Some(cache) = &self.inner.sessions else {
            return self
                .live_caller(store::SessionBy::TokenHash(&hash))
                .await?
                .map(|(caller, _)| caller)
                .ok_or_else(invalid);
        };
        if let Some(caller) = cache.get(&hash, now) {
            return Ok(caller);
        }
        let ticket = cache.ticket();
        let (caller, expires) = self
            .live_caller(store::SessionBy::TokenHash(&hash))
            .await?
            .ok_or_else(invalid)?;
        cache.put(ticket, &hash, &caller, expires);
        Ok(caller)
    }

    /// The caller of a session that is neither revoked nor expired, and
    /// when the session expires.
    async fn live_caller(
        &self,
        by: store::SessionBy<'_>,
    ) -> Result<Option<(AuthData, DateTime<Utc>)>, ApiError> {
        let now = self.inner.clock.now();
        Ok(store::caller(&self.inner.db, by)
            .await?
            .filter(|row| row.revoked_at.is_none() && row.expires_at > now)
            .map(|row| {
                let caller = AuthData {
                    user: Arc::new(row.user()),
                    session_id: row.session_id,
                };
                (caller, row.expires_at)
            }))
    }

    /// Tells every replica that `user_id`'s sessions or account changed.
    pub(super) async fn forget(&self, user_id: &str) {
        if let Some(cache) = &self.inner.sessions {
            cache.changed(user_id).await;
        }
    }

    /// The caller of a session still alive (not revoked, not expired), as
    /// it is now (a tier may have changed); for connections that outlive a
    /// request and check again before each thing they do.
    pub async fn session(&self, session_id: &str) -> Result<AuthData, ApiError> {
        self.live_caller(store::SessionBy::Id(session_id))
            .await?
            .map(|(caller, _)| caller)
            .ok_or_else(|| ApiError::unauthenticated("the session has ended; log in again"))
    }

    pub(super) async fn signup(
        &self,
        req: SignupRequest,
        origin: Origin,
    ) -> Result<AuthResponse, ApiError> {
        let email = normalize_email(&req.email);
        let username = req.username.to_lowercase();
        check_username(&username)?;
        password::check_strength(&req.password, &email, &username)?;
        let db = &self.inner.db;
        let (email_taken, username_taken) = store::taken(db, &email, &username).await?;
        if email_taken {
            return Err(taken("email", "an account with this email already exists"));
        }
        if username_taken || self.held_by_another(&username, "").await? {
            return Err(taken("username", "this username is taken"));
        }
        let password = req.password;
        let hash = self
            .hashing(move || password::hash(&password))
            .await?
            .map_err(|err| ApiError::internal(anyhow::anyhow!("hashing password: {err}")))?;
        let now = self.inner.clock.now();
        let user_id = uuid::Uuid::now_v7().to_string();
        let mut tx = db.begin().await?;
        let new_user = store::NewUser {
            id: &user_id,
            email: &email,
            username: &username,
            password_hash: Some(&hash),
            now,
        };
        if let Err(err) = store::insert_user(&mut tx, &new_user).await {
            // A concurrent signup won the race between our check and insert.
            return Err(match unique_violation_on(&err) {
                Some("username") => taken("username", "this username is taken"),
                Some(_) => taken("email", "an account with this email already exists"),
                None => err.into(),
            });
        }
        let (token, expires_at) = self.insert_session(&mut tx, &user_id, &origin).await?;
        let event = UserSignedUp {
            user_id: user_id.clone(),
            username: username.clone(),
        };
        self.inner.signed_up.publish_in(&mut tx, &event).await?;
        tx.commit().await?;
        tracing::info!(user_id, "user signed up");
        let user = self.user(&user_id).await?;
        Ok(AuthResponse {
            token,
            expires_at,
            user,
        })
    }

    pub(super) async fn login(
        &self,
        email: &str,
        password: String,
        origin: Origin,
    ) -> Result<AuthResponse, ApiError> {
        let user = self.check_password(email, password, &origin).await?;
        let mut tx = self.inner.db.begin().await?;
        let (token, expires_at) = self.insert_session(&mut tx, &user.id, &origin).await?;
        tx.commit().await?;
        Ok(AuthResponse {
            token,
            expires_at,
            user,
        })
    }

    /// The user whose email and password these are, without starting a
    /// session (the MCP authorization page signs in this way); failures are
    /// throttled per account and per address like logins.
    pub async fn check_password(
        &self,
        email: &str,
        password: String,
        origin: &Origin,
    ) -> Result<User, ApiError> {
        let email = normalize_email(email);
        let now = self.inner.clock.now();
        let account_key = format!("account:{email}");
        let ip_key = origin.ip.map(|ip| format!("ip:{}", ip_key(ip)));
        let throttles = &self.inner;
        let account = throttles.account_failures.attempt(&account_key, now).await;
        let ip = match &ip_key {
            Some(key) => throttles.ip_failures.attempt(key, now).await,
            None => Ok(()),
        };
        if let Some(secs) = [account.err(), ip.err()].into_iter().flatten().max() {
            // Whichever attempt was counted is taken back: this one never ran.
            if account.is_ok() {
                throttles.account_failures.succeeded(&account_key).await;
            }
            if let (Ok(()), Some(key)) = (ip, &ip_key) {
                throttles.ip_failures.succeeded(key).await;
            }
            return Err(ApiError::resource_exhausted(
                format!("too many failed logins; try again in {secs} seconds"),
                secs,
            ));
        }
        let user = store::user_by_email(&self.inner.db, &email).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = self
            .hashing(move || password::verify(&password, stored.as_deref()))
            .await?;
        let user = match user {
            Some(user) if matches => user,
            _ => return Err(ApiError::unauthenticated("invalid email or password")),
        };
        throttles.account_failures.clear(&account_key).await;
        if let Some(key) = &ip_key {
            throttles.ip_failures.succeeded(key).await;
        }
        Ok(user.into())
    }

    pub(super) async fn insert_session(
        &self,
        tx: &mut platform::db::Tx,
        user_id: &str,
        origin: &Origin,
    ) -> Result<(String, DateTime<Utc>), ApiError> {
        let token = token::generate();
        let now = self.inner.clock.now();
        let expires_at = now + TimeDelta::hours(i64::from(self.inner.config.session_ttl_hours));
        let ip = origin.ip.map(|ip| ip.to_string());
        store::insert_session(
            tx,
            &store::NewSession {
                id: &uuid::Uuid::now_v7().to_string(),
                user_id,
                token_hash: &token::digest(&token),
                now,
                expires_at,
                user_agent: origin.user_agent.as_deref(),
                ip: ip.as_deref(),
            },
        )
        .await?;
        Ok((token, expires_at))
    }

    /// The id of the user with this email (trimmed, any case), if there is one.
    pub async fn user_id_by_email(&self, email: &str) -> Result<Option<String>, ApiError> {
        let email = normalize_email(email);
        Ok(store::user_by_email(&self.inner.db, &email)
            .await?
            .map(|u| u.id))
    }

    /// The user with this username (any case), if there is one.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, ApiError> {
        Ok(
            store::user_by_username(&self.inner.db, &username.to_ascii_lowercase())
                .await?
                .map(User::from),
        )
    }

    /// Milliseconds since when a former username still points to its owner.
    fn renamed_since(&self) -> i64 {
        (self.inner.clock.now() - TimeDelta::days(FORMER_USERNAME_DAYS)).timestamp_millis()
    }

    /// Whether someone other than `user_id` gave `username` up lately.
    async fn held_by_another(&self, username: &str, user_id: &str) -> Result<bool, ApiError> {
        Ok(store::held(&self.inner.db, username, user_id, self.renamed_since()).await?)
    }

    /// The caller takes a new username; the old one sends visitors of their
    /// profile to the new one, and no one else may take it, for 30 days.
    pub(super) async fn change_username(&self, me: &User, new: &str) -> Result<User, ApiError> {
        let new = new.to_lowercase();
        check_username(&new)?;
        let old = me.username.to_lowercase();
        if new == old {
            return self.user(&me.id).await;
        }
        let db = &self.inner.db;
        let (_, username_taken) = store::taken(db, "", &new).await?;
        if username_taken || self.held_by_another(&new, &me.id).await? {
            return Err(taken("username", "this username is taken"));
        }
        let now = self.inner.clock.now().timestamp_millis();
        let mut tx = db.begin().await?;
        if let Err(err) = store::rename(&mut tx, &me.id, &old, &new, now).await {
            return Err(match unique_violation_on(&err) {
                Some(_) => taken("username", "this username is taken"),
                None => err.into(),
            });
        }
        tx.commit().await?;
        self.forget(&me.id).await;
        tracing::info!(user_id = me.id, "username changed");
        self.user(&me.id).await
    }

    /// The current username of whoever had `username` (any case) until a
    /// change in the last 30 days.
    pub async fn renamed(&self, username: &str) -> Result<Option<String>, ApiError> {
        Ok(store::renamed(
            &self.inner.db,
            &username.to_ascii_lowercase(),
            self.renamed_since(),
        )
        .await?)
    }

    /// The usernames of the users among `ids` (at most 500 at once), by id.
    pub async fn usernames(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, String>, ApiError> {
        let mut names = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            names.extend(store::usernames(&self.inner.db, chunk).await?);
        }
        Ok(names)
    }

    /// (id, username) of up to `limit` users whose username starts with
    /// `prefix` (any case), shortest first.
    pub async fn find_usernames(
        &self,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<(String, String)>, ApiError> {
        Ok(store::find_usernames(&self.inner.db, &prefix.to_ascii_lowercase(), limit).await?)
    }

    /// The user with this id, as they see themselves.
    pub async fn user(&self, user_id: &str) -> Result<User, ApiError> {
        store::user_by_id(&self.inner.db, user_id)
            .await?
            .map(User::from)
            .ok_or_else(|| ApiError::not_found("user not found"))
    }

    pub(super) async fn sessions(&self, caller: &AuthData) -> Result<Vec<Session>, ApiError> {
        self.live_sessions(&caller.user.id, Some(&caller.session_id))
            .await
    }

    /// The user's live sessions, newest first, `current` marking one.
    pub(super) async fn live_sessions(
        &self,
        user_id: &str,
        current: Option<&str>,
    ) -> Result<Vec<Session>, ApiError> {
        let now = self.inner.clock.now();
        let rows = store::sessions_of(&self.inner.db, user_id).await?;
        Ok(rows
            .into_iter()
            .filter(|row| row.revoked_at.is_none() && row.expires_at > now)
            .map(|row| Session {
                current: Some(row.id.as_str()) == current,
                id: row.id,
                created_at: row.created_at,
                expires_at: row.expires_at,
                user_agent: row.user_agent,
            })
            .collect())
    }

    /// Revokes one of the caller's sessions; another user's session is "not found".
    pub(super) async fn revoke(
        &self,
        caller: &AuthData,
        session_id: &str,
        origin: &Origin,
    ) -> Result<(), ApiError> {
        let now = self.inner.clock.now();
        if store::revoke_session(&self.inner.db, &caller.user.id, session_id, now).await? {
            self.forget(&caller.user.id).await;
            let detail = serde_json::json!({ "sessionId": session_id, "own": session_id == caller.session_id });
            self.audit(Record::by_user(
                &caller.user.id,
                "session.revoked",
                detail,
                origin.audit(),
            ))
            .await;
            Ok(())
        } else {
            Err(ApiError::not_found("session not found"))
        }
    }

    /// Puts the user on `tier` if `version` is newer than the last change
    /// applied (the subscriptions service numbers its changes); every
    /// replica forgets the user's cached sessions, so the next request
    /// carries the tier. Answers whether it applied.
    pub async fn apply_tier(
        &self,
        user_id: &str,
        tier: Tier,
        version: i64,
    ) -> Result<bool, ApiError> {
        let applied = store::apply_tier(
            &self.inner.db,
            user_id,
            tier.as_str(),
            version,
            self.inner.clock.now(),
        )
        .await?;
        if applied {
            self.forget(user_id).await;
        }
        Ok(applied)
    }

    /// Makes the user with this email an administrator (an operator's
    /// command, recorded in the audit log).
    pub async fn grant_admin(&self, email: &str) -> Result<(), ApiError> {
        let change = store::UserChange {
            is_admin: Some(true),
        };
        let user_id = self.change_user(email, change).await?;
        self.audit(Record {
            user_id: Some(user_id),
            actor: "operator".into(),
            action: "admin.granted",
            detail: serde_json::json!({}),
            origin: AuditOrigin::default(),
            key: None,
        })
        .await;
        Ok(())
    }

    /// The audit log auth writes to.
    pub(crate) fn audit_log(&self) -> &AuditService {
        &self.inner.zerodha.audit
    }

    /// Writes to the audit log.
    pub(crate) async fn audit(&self, record: Record) {
        self.inner.zerodha.audit.record(record).await;
    }

    /// The caller's own audit entries, newest first.
    pub(super) async fn activity(
        &self,
        caller: &AuthData,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<AuditPage, ApiError> {
        self.inner
            .zerodha
            .audit
            .page(&AuditQuery {
                user_id: Some(&caller.user.id),
                action: None,
                cursor,
                limit,
            })
            .await
    }

    async fn change_user(
        &self,
        email: &str,
        change: store::UserChange,
    ) -> Result<String, ApiError> {
        let email = normalize_email(email);
        match store::change_user(&self.inner.db, &email, change, self.inner.clock.now()).await? {
            Some(user_id) => {
                self.forget(&user_id).await;
                Ok(user_id)
            }
            None => Err(ApiError::not_found(format!("no user with email {email}"))),
        }
    }
}

fn taken(field: &str, message: &str) -> ApiError {
    ApiError::already_exists(message).with_details(serde_json::json!({ "field": field }))
}

/// Which column a unique violation is about, read from the constraint or
/// index name both engines put in the error.
/// A username's own rules: `a-z`, `0-9`, `_`, and not a reserved word
/// (its length is checked by the request's schema).
fn check_username(username: &str) -> Result<(), ApiError> {
    if !username
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ApiError::invalid_field(
            "username",
            "may contain only letters a-z, digits and _",
        ));
    }
    if super::model::RESERVED_USERNAMES.contains(&username) {
        return Err(ApiError::invalid_field(
            "username",
            "is reserved: choose another",
        ));
    }
    Ok(())
}

fn unique_violation_on(err: &sqlx::Error) -> Option<&'static str> {
    if !is_unique_violation(err) {
        return None;
    }
    let db = err.as_database_error()?;
    let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
    Some(if text.contains("username") {
        "username"
    } else {
        "email"
    })
}

/// How long a former username points to its owner and stays theirs.
pub const FORMER_USERNAME_DAYS: i64 = 30;

fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
