//! Connecting Zerodha: a logged-in user links their account; a visitor signs
//! up or logs in with Zerodha as the identity (keyed by the Zerodha user id).
//! Kite access tokens are sealed at rest and never logged or returned.

pub(super) mod api;
pub(crate) mod store;

use chrono::{DateTime, TimeDelta, Utc};
use platform::ApiError;
use secrecy::SecretString;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::User;
use super::service::{AuthService, Origin};
use crate::audit::Record;

/// How long a login started with `initiate` may take (and its browser
/// cookie lives).
pub(super) const STATE_TTL_MINUTES: i64 = 10;
/// How long the app has to exchange a browser sign-in's code.
const HANDOFF_TTL_MINUTES: i64 = 2;

/// A user's Zerodha connection, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZerodhaStatus {
    /// The Zerodha client id, such as `AB1234`.
    pub user_id: String,
    /// `connected`, or `reauth_required` once Kite says the session ended
    /// (they end at 06:00 IST every day).
    pub status: String,
    pub connected_at: DateTime<Utc>,
}

/// What finishing a Zerodha login did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZerodhaConnected {
    pub zerodha: ZerodhaStatus,
    pub user: User,
    /// A new KiteMate session, for a visitor who signed in with Zerodha.
    pub token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// True when this made a new KiteMate account.
    pub created: bool,
    /// Internal: the one-use code a browser sign-in hands to the app.
    #[serde(skip)]
    pub handoff: Option<String>,
}

/// A started login: where to send the browser, and the nonce for its cookie.
#[derive(Debug)]
pub struct Initiated {
    pub auth_url: String,
    pub state: String,
    /// Goes into an HttpOnly cookie; its hash is kept with the state.
    pub browser: String,
}

/// Who brings a login's state back.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// The app's own request, with the caller's bearer token if any.
    Bearer(Option<&'a str>),
    /// The browser redirect from Kite, with the nonce of its cookie if any.
    Browser(Option<&'a str>),
}

fn context(user_id: &str) -> String {
    format!("kite-token:{user_id}")
}

/// 404 for a key that names nothing (a login state, a sign-in code), with
/// the field it came in, like a 400's details.
fn not_found_field(field: &str, reason: &str) -> ApiError {
    ApiError::not_found(format!("{field}: {reason}"))
        .with_details(serde_json::json!({ "field": field, "reason": reason }))
}

fn kite_failure(err: kite::Error) -> ApiError {
    match err {
        kite::Error::Token { .. } => ApiError::invalid_field(
            "requestToken",
            "Kite refused it (expired or already used); log in with Zerodha again",
        ),
        err if err.is_transient() => {
            ApiError::unavailable(format!("Zerodha did not answer: {err}"))
        }
        kite::Error::Invalid(reason) => ApiError::invalid_field("requestToken", reason),
        err => ApiError::unavailable(format!("Zerodha refused the login: {err}")),
    }
}

impl AuthService {
    fn kite(&self) -> Result<&kite::Kite, ApiError> {
        // Switched off on this server: as if the routes were not there.
        self.inner.zerodha.kite.as_ref().ok_or_else(|| {
            ApiError::not_found("connecting Zerodha is not set up on this server (kite.api_key)")
        })
    }

    /// Starts a Zerodha login: the URL to send the browser to, carrying a
    /// state bound to `caller` (or to nobody, for a visitor) and to the
    /// browser that holds the returned nonce in its cookie.
    pub async fn zerodha_initiate(&self, caller: Option<&str>) -> Result<Initiated, ApiError> {
        let kite = self.kite()?;
        let state = super::token::generate_state();
        let browser = super::token::generate_state();
        let now = self.inner.clock.now();
        store::insert_state(
            &self.inner.db,
            &state,
            caller,
            &super::token::digest(&browser),
            now + TimeDelta::minutes(STATE_TTL_MINUTES),
            now,
        )
        .await?;
        Ok(Initiated {
            auth_url: kite.login_url(Some(&state)),
            state,
            browser,
        })
    }

    /// Finishes a Zerodha login. `proof` says who brings the state back: a
    /// state bound to a user is finished only by that user's bearer or by
    /// the browser that started it, and a browser never finishes a login it
    /// did not start (that is how a link to someone else's login would
    /// connect the victim's Zerodha account to the sender).
    pub async fn zerodha_complete(
        &self,
        proof: Proof<'_>,
        request_token: &str,
        state: &str,
        origin: Origin,
    ) -> Result<ZerodhaConnected, ApiError> {
        let kite = self.kite()?;
        let now = self.inner.clock.now();
        let unknown = || {
            not_found_field(
                "state",
                "no such login: unknown, used or expired; start again from initiate",
            )
        };
        let mut tx = self.inner.db.begin().await?;
        let row = store::peek_state(&mut tx, state, now)
            .await?
            .ok_or_else(unknown)?;
        match proof {
            Proof::Bearer(caller) => {
                if let Some(bound) = &row.user_id
                    && caller != Some(bound.as_str())
                {
                    return Err(ApiError::permission_denied(
                        "this Zerodha login was started by another user",
                    ));
                }
            }
            Proof::Browser(nonce) => {
                let same = match (nonce, &row.browser) {
                    // Hashes of 256-bit nonces: comparing them leaks nothing useful.
                    (Some(nonce), Some(hash)) => super::token::digest(nonce) == *hash,
                    _ => false,
                };
                if !same {
                    return Err(ApiError::permission_denied(
                        "this Zerodha login was started in another browser; start again from KiteMate",
                    ));
                }
            }
        }
        if !store::take_state(&mut tx, state).await? {
            return Err(unknown());
        }
        tx.commit().await?;
        let store::StateRow {
            user_id: bound,
            browser,
        } = row;
        let session = kite
            .generate_session(request_token)
            .await
            .map_err(kite_failure)?;
        let zerodha_user_id = session.user_id.clone();
        let mut tx = self.inner.db.begin().await?;
        let owner = store::user_of_zerodha(&mut tx, &zerodha_user_id).await?;
        let (user_id, created) = match (&bound, owner) {
            (Some(user), Some(owner)) if *user != owner => {
                return Err(ApiError::already_exists(
                    "this Zerodha account is linked to another KiteMate account",
                ));
            }
            (Some(user), _) => (user.clone(), false),
            (None, Some(owner)) => (owner, false),
            (None, None) => (
                self.create_zerodha_user(&mut tx, &session, now).await?,
                true,
            ),
        };
        let sealed = self
            .inner
            .zerodha
            .keyring
            .seal(&session.access_token, &context(&user_id));
        store::upsert_link(&mut tx, &user_id, &zerodha_user_id, &sealed, now).await?;
        // A visitor gets a session: in the answer to the app's own request,
        // or, through the browser redirect, as a one-use code that only the
        // same browser can exchange (a session never rides in a URL).
        let (mut token, mut expires_at, mut handoff) = (None, None, None);
        if bound.is_none() {
            match proof {
                Proof::Bearer(_) => {
                    let (t, e) = self.insert_session(&mut tx, &user_id, &origin).await?;
                    (token, expires_at) = (Some(t), Some(e));
                }
                Proof::Browser(_) => {
                    // The browser was checked against this hash above.
                    let code = super::token::generate_state();
                    store::insert_handoff(
                        &mut tx,
                        &super::token::digest(&code),
                        &user_id,
                        browser.as_deref().unwrap_or_default(),
                        created,
                        now + TimeDelta::minutes(HANDOFF_TTL_MINUTES),
                        now,
                    )
                    .await?;
                    handoff = Some(code);
                }
            }
        }
        tx.commit().await?;
        tracing::info!(user_id, zerodha_user_id, created, "Zerodha connected");
        let detail = serde_json::json!({ "zerodhaUserId": zerodha_user_id, "newAccount": created });
        self.audit(Record::by_user(
            &user_id,
            "zerodha.connected",
            detail,
            origin.audit(),
        ))
        .await;
        Ok(ZerodhaConnected {
            zerodha: self
                .zerodha_status(&user_id)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("link vanished")))?,
            user: self.user(&user_id).await?,
            token,
            expires_at,
            created,
            handoff,
        })
    }

    /// Exchanges the one-use code of a browser sign-in for a session; only
    /// the browser the code was made for (its cookie nonce) can.
    pub async fn zerodha_exchange(
        &self,
        code: &str,
        browser: Option<&str>,
        origin: Origin,
    ) -> Result<ZerodhaConnected, ApiError> {
        let refused = || {
            not_found_field(
                "code",
                "no such code: unknown, expired, used, or from another browser; sign in with Zerodha again",
            )
        };
        let browser = browser.ok_or_else(refused)?;
        let now = self.inner.clock.now();
        let mut tx = self.inner.db.begin().await?;
        let (user_id, created) = store::take_handoff(
            &mut tx,
            &super::token::digest(code),
            &super::token::digest(browser),
            now,
        )
        .await?
        .ok_or_else(refused)?;
        let (token, expires) = self.insert_session(&mut tx, &user_id, &origin).await?;
        tx.commit().await?;
        Ok(ZerodhaConnected {
            zerodha: self.zerodha_status(&user_id).await?.ok_or_else(|| {
                ApiError::invalid_field("code", "the Zerodha account was disconnected")
            })?,
            user: self.user(&user_id).await?,
            token: Some(token),
            expires_at: Some(expires),
            created,
            handoff: None,
        })
    }

    /// A KiteMate account for a visitor who signed in with Zerodha: their
    /// Kite email when it is a real, unused one; a username from the client id.
    async fn create_zerodha_user(
        &self,
        tx: &mut platform::db::Tx,
        session: &kite::models::Session,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let user_id = uuid::Uuid::now_v7().to_string();
        let client = session.user_id.to_ascii_lowercase();
        let email = session.email.trim().to_ascii_lowercase();
        let (email_taken, _) = super::store::taken(&self.inner.db, &email, "").await?;
        let email = if email.contains('@') && !email_taken {
            email
        } else {
            // Kite may mask the email; the account still needs a unique one.
            format!("{client}@zerodha.invalid")
        };
        let mut username = format!("z_{client}");
        if super::store::taken(&self.inner.db, "", &username).await?.1 {
            username = format!("z_{client}_{}", &user_id[user_id.len() - 6..]);
        }
        super::store::insert_user(
            tx,
            &super::store::NewUser {
                id: &user_id,
                email: &email,
                username: &username,
                password_hash: None,
                now,
            },
        )
        .await?;
        let event = super::events::UserSignedUp {
            user_id: user_id.clone(),
            username,
        };
        self.inner.signed_up.publish_in(tx, &event).await?;
        Ok(user_id)
    }

    /// The caller's Zerodha connection, if any.
    pub async fn zerodha_status(&self, user_id: &str) -> Result<Option<ZerodhaStatus>, ApiError> {
        Ok(store::link_of(&self.inner.db, user_id)
            .await?
            .map(|link| ZerodhaStatus {
                user_id: link.zerodha_user_id,
                status: link.status,
                connected_at: link.connected_at,
            }))
    }

    /// The user's Kite access token, opened, while the connection is live.
    pub async fn kite_token(&self, user_id: &str) -> Result<Option<SecretString>, ApiError> {
        let Some(link) = store::link_of(&self.inner.db, user_id).await? else {
            return Ok(None);
        };
        if link.status != "connected" {
            return Ok(None);
        }
        self.inner
            .zerodha
            .keyring
            .open(&link.access_token, &context(user_id))
            .map(Some)
            .map_err(|err| {
                ApiError::internal(anyhow::anyhow!(
                    "cannot open the Kite token of {user_id}: {err}"
                ))
            })
    }

    /// A page of the users whose Kite session is alive: connected at or
    /// after `since` (the last 06:00 IST, when Kite ends every session).
    pub async fn live_kite_users(
        &self,
        since: DateTime<Utc>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, ApiError> {
        Ok(store::live_links(&self.inner.db, since, after, limit).await?)
    }

    /// Kite ends every session at 06:00 IST: marks the links made before
    /// `before` as needing a new login, and tells each user
    /// (`zerodha-reauth-required`, in the same transaction). Returns how many.
    pub async fn expire_kite_sessions(&self, before: DateTime<Utc>) -> Result<usize, ApiError> {
        let now = self.inner.clock.now();
        let mut tx = self.inner.db.begin().await?;
        let users = store::expire_links(&mut tx, before, now).await?;
        for user_id in &users {
            let event = super::events::ZerodhaReauthRequired {
                user_id: user_id.clone(),
                at: now,
            };
            self.inner.reauth.publish_in(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(users.len())
    }

    /// Deletes Zerodha login states and hand-offs that expired unused;
    /// answers how many.
    pub async fn tidy_zerodha(&self) -> Result<u64, ApiError> {
        Ok(store::delete_expired(&self.inner.db, self.inner.clock.now()).await?)
    }

    /// Kite said the session ended: the user must log in with Zerodha again.
    pub async fn zerodha_expired(&self, user_id: &str) -> Result<(), ApiError> {
        store::set_status(
            &self.inner.db,
            user_id,
            "reauth_required",
            self.inner.clock.now(),
        )
        .await?;
        Ok(())
    }

    /// Ends the user's session at Kite, when it still lives.
    pub(in crate::auth) async fn end_kite_session(&self, user_id: &str) -> Result<(), ApiError> {
        if let (Ok(kite), Some(token)) = (self.kite(), self.kite_token(user_id).await?) {
            use secrecy::ExposeSecret as _;
            if let Err(err) = kite.invalidate_session(token.expose_secret()).await {
                // Already ended, or Kite is down: forgetting it here is what matters.
                tracing::info!(user_id, error = %err, "Kite session not invalidated");
            }
        }
        Ok(())
    }

    /// Disconnects: ends the session at Kite (when it still lives) and forgets it.
    pub(super) async fn zerodha_disconnect(
        &self,
        user_id: &str,
        origin: &Origin,
    ) -> Result<(), ApiError> {
        self.end_kite_session(user_id).await?;
        if !store::delete_link(&self.inner.db, user_id).await? {
            return Err(ApiError::not_found("no Zerodha account is connected"));
        }
        let record = Record::by_user(
            user_id,
            "zerodha.disconnected",
            serde_json::json!({}),
            origin.audit(),
        );
        self.audit(record).await;
        Ok(())
    }

    /// Seals every stored token under the current key; returns how many changed.
    pub async fn reseal_tokens(&self) -> Result<u64, ApiError> {
        let keyring = &self.inner.zerodha.keyring;
        let mut changed = 0;
        for link in store::all_links(&self.inner.db).await? {
            if !keyring.is_stale(&link.access_token) {
                continue;
            }
            let plain = keyring
                .open(&link.access_token, &context(&link.user_id))
                .map_err(|err| {
                    ApiError::internal(anyhow::anyhow!("user {}: {err}", link.user_id))
                })?;
            use secrecy::ExposeSecret as _;
            let sealed = keyring.seal(plain.expose_secret(), &context(&link.user_id));
            if store::reseal(&self.inner.db, &link.user_id, &link.access_token, &sealed).await? {
                changed += 1;
            }
        }
        self.audit(Record {
            user_id: None,
            actor: "operator".into(),
            action: "keys.rotated",
            detail: serde_json::json!({ "tokensResealed": changed }),
            origin: crate::audit::Origin::default(),
            key: None,
        })
        .await;
        Ok(changed)
    }
}
