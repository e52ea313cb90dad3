//! What a user takes with them and how they leave: the export of everything
//! KiteMate holds about them, and the deletion of their account. Every
//! service adds its part ([`AccountData`]) when the app is built; auth runs
//! the parts, so it needs none of the services that depend on it.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::Stream;
use platform::ApiError;
use platform::archive::{ArchiveWriter, ReaderGone};
use serde::Serialize;

use super::events::UserDeleted;
use super::extract::AuthData;
use super::parts::AccountData;
use super::service::{AuthService, Origin};
use super::{password, store};
use crate::audit::Record;

/// The top of every archive: what the files are.
const README: &str = "\
This archive holds everything KiteMate keeps about your account, as it was
when you asked for it.

Each folder is one part of KiteMate. A file ending in .json is one JSON
document; a file ending in .jsonl has one JSON document per line, the same
shape the API answers with. Amounts are in rupees as decimal strings unless
a field says paise. Times are UTC (RFC 3339).

manifest.json lists every file with its size in bytes.
";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    user_id: &'a str,
    exported_at: DateTime<Utc>,
    files: Vec<ManifestFile<'a>>,
}

#[derive(Serialize)]
struct ManifestFile<'a> {
    name: &'a str,
    bytes: u64,
}

/// Auth's own part of the export.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ZerodhaExport {
    connected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    zerodha_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connected_at: Option<DateTime<Utc>>,
}

impl AuthService {
    /// Hands auth the other services' parts; called once, when the app is built.
    pub fn add_account_parts(&self, parts: Vec<Arc<dyn AccountData>>) -> anyhow::Result<()> {
        self.inner
            .account_parts
            .set(parts)
            .map_err(|_| anyhow::anyhow!("the account parts are already set"))
    }

    fn account_parts(&self) -> Vec<Arc<dyn AccountData>> {
        self.inner.account_parts.get().cloned().unwrap_or_default()
    }

    /// One of the user's exports or deletion attempts, within their allowance.
    async fn account_action(&self, user_id: &str) -> Result<(), ApiError> {
        self.inner
            .account_limiter
            .check(&format!("account:{user_id}"))
            .await
            .map_err(|wait| {
                ApiError::resource_exhausted(
                    "too many exports or deletion attempts; try again shortly",
                    wait.as_secs().max(1),
                )
            })
    }

    /// The caller's archive: the file name to offer and the stream of its
    /// bytes. It is written by a task of its own as the client reads; a
    /// failure part-way ends the download with an error.
    pub(super) async fn export(
        &self,
        caller: &AuthData,
        origin: &Origin,
    ) -> Result<
        (
            String,
            impl Stream<Item = std::io::Result<bytes::Bytes>> + use<>,
        ),
        ApiError,
    > {
        let user_id = caller.user.id.clone();
        self.account_action(&user_id).await?;
        let now = self.inner.clock.now();
        let (mut writer, stream) = platform::archive::archive(now);
        let auth = self.clone();
        tokio::spawn(async move {
            match auth.write_export(&user_id, now, &mut writer).await {
                Ok(()) => {
                    if let Err(err) = writer.finish().await {
                        tracing::info!(user_id, error = %err, "export not finished");
                    }
                }
                Err(err) if err.is::<ReaderGone>() => {
                    tracing::info!(user_id, "export abandoned by the client");
                }
                Err(err) => {
                    tracing::error!(user_id, error = ?err, "export failed");
                    writer.fail(&err).await;
                }
            }
        });
        self.audit(Record::by_user(
            &caller.user.id,
            "account.exported",
            serde_json::json!({}),
            origin.audit(),
        ))
        .await;
        let name = format!(
            "kitemate-{}-{}.zip",
            caller.user.username,
            now.format("%Y-%m-%d")
        );
        Ok((name, stream))
    }

    async fn write_export(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        archive: &mut ArchiveWriter,
    ) -> anyhow::Result<()> {
        archive.file("README.txt").await?;
        archive.write(README.as_bytes()).await?;
        self.export_own(user_id, archive).await?;
        for part in self.account_parts() {
            part.export(user_id, archive).await?;
        }
        let files = archive.files().to_vec();
        let manifest = Manifest {
            user_id,
            exported_at: now,
            files: files
                .iter()
                .map(|(name, bytes)| ManifestFile {
                    name,
                    bytes: *bytes,
                })
                .collect(),
        };
        archive.json("manifest.json", &manifest).await
    }

    /// The account, its sessions and its Zerodha connection (never a token).
    async fn export_own(&self, user_id: &str, archive: &mut ArchiveWriter) -> anyhow::Result<()> {
        let user = self.user(user_id).await?;
        archive.json("account/user.json", &user).await?;
        let sessions = self.live_sessions(user_id, None).await?;
        archive.file("account/sessions.jsonl").await?;
        archive.lines(&sessions).await?;
        let link = self.zerodha_status(user_id).await?;
        let zerodha = ZerodhaExport {
            connected: link.is_some(),
            zerodha_user_id: link.as_ref().map(|l| l.user_id.clone()),
            status: link.as_ref().map(|l| l.status.clone()),
            connected_at: link.map(|l| l.connected_at),
        };
        archive.json("account/zerodha.json", &zerodha).await?;
        archive.file("account/audit.jsonl").await?;
        let mut cursor = None;
        loop {
            let page = self
                .audit_log()
                .page(&crate::audit::AuditQuery {
                    user_id: Some(user_id),
                    action: None,
                    cursor: cursor.as_deref(),
                    limit: 500,
                })
                .await?;
            archive.lines(&page.entries).await?;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Deletes the caller's account, confirmed by their password or by a
    /// session signed in within `auth.fresh_session_minutes`. Each part may
    /// refuse first (a subscription the provider would not cancel); then
    /// auth's rows go and `user-deleted` is published in the same
    /// transaction, so every service deletes the rest exactly once.
    pub(super) async fn delete_account(
        &self,
        caller: &AuthData,
        password: Option<String>,
        origin: &Origin,
    ) -> Result<(), ApiError> {
        let user_id = caller.user.id.as_str();
        self.account_action(user_id).await?;
        self.confirm(caller, password).await?;
        for part in self.account_parts() {
            part.before_deletion(user_id).await?;
        }
        self.end_kite_session(user_id).await?;
        let now = self.inner.clock.now();
        let mut tx = self.inner.db.begin().await?;
        if !store::delete_user(&mut tx, user_id).await? {
            return Err(ApiError::not_found("user not found"));
        }
        let event = UserDeleted {
            user_id: user_id.to_owned(),
            username: caller.user.username.clone(),
            deleted_at: now,
            request_id: origin.request_id.clone(),
        };
        self.inner.deleted.publish_in(&mut tx, &event).await?;
        tx.commit().await?;
        self.forget(user_id).await;
        tracing::info!(user_id, "account deleted");
        Ok(())
    }

    /// The password, when one is given, else a fresh session.
    async fn confirm(&self, caller: &AuthData, password: Option<String>) -> Result<(), ApiError> {
        let Some(password) = password else {
            let created = store::session_created(&self.inner.db, &caller.session_id).await?;
            let fresh = TimeDelta::minutes(i64::from(self.inner.config.fresh_session_minutes));
            return match created {
                Some(created) if self.inner.clock.now() - created <= fresh => Ok(()),
                _ => Err(confirm_error(format!(
                    "give your password, or sign in again: deleting the account without it \
                     needs a session from the last {} minutes",
                    self.inner.config.fresh_session_minutes
                ))),
            };
        };
        let key = format!("account:{}", caller.user.email);
        let failures = &self.inner.account_failures;
        if let Err(secs) = failures.attempt(&key, self.inner.clock.now()).await {
            return Err(ApiError::resource_exhausted(
                format!("too many wrong passwords; try again in {secs} seconds"),
                secs,
            ));
        }
        let stored = store::user_by_id(&self.inner.db, &caller.user.id)
            .await?
            .and_then(|user| user.password_hash);
        if stored.is_none() {
            failures.succeeded(&key).await;
            return Err(confirm_error(
                "this account has no password (it signs in with Zerodha): sign in again and \
                 delete it without one"
                    .into(),
            ));
        }
        let matches = self
            .hashing(move || password::verify(&password, stored.as_deref()))
            .await?;
        if !matches {
            return Err(confirm_error("the password is wrong".into()));
        }
        failures.clear(&key).await;
        Ok(())
    }
}

/// 403 naming the field that would have confirmed the deletion.
fn confirm_error(reason: String) -> ApiError {
    ApiError::permission_denied(format!("password: {reason}"))
        .with_details(serde_json::json!({ "field": "password", "reason": reason }))
}
