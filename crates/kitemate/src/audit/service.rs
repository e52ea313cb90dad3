//! `AuditService`: appends entries and reads them back, a page at a time.

use chrono::DateTime;
use platform::ApiError;
use platform::clock::Clock;
use platform::db::{Db, Tx};

use super::model::{AuditEntry, AuditPage, Record};
use super::store::{self, EntryRow, Filter};

#[derive(Debug, Clone)]
pub struct AuditService {
    db: Db,
    clock: Clock,
}

/// What an administrator narrows the log to.
#[derive(Debug, Default)]
pub struct AuditQuery<'a> {
    pub user_id: Option<&'a str>,
    pub action: Option<&'a str>,
    pub cursor: Option<&'a str>,
    pub limit: i64,
}

impl AuditService {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// Appends `record`. The action it records has happened already, so a
    /// failure to write is logged, not handed to the caller.
    pub async fn record(&self, record: Record) {
        let id = uuid::Uuid::now_v7().to_string();
        let at = self.clock.now().timestamp_millis();
        if let Err(err) = store::append(&self.db, &id, at, &record).await {
            tracing::error!(error = %err, action = record.action, "audit entry not written");
        }
    }

    /// The audit database, for a subscription that writes in its transaction.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A deleted account: its entries go (they name what the person did and
    /// from where), and one entry keeps the fact of the deletion, with the
    /// request that asked for it and nothing about the person.
    pub async fn forget_user_in(
        &self,
        tx: &mut Tx,
        user_id: &str,
        deleted_at: DateTime<chrono::Utc>,
        request_id: Option<String>,
    ) -> Result<u64, ApiError> {
        let removed = store::delete_user(tx, user_id).await?;
        let record = Record {
            user_id: Some(user_id.to_owned()),
            actor: "user".into(),
            action: "account.deleted",
            detail: serde_json::json!({ "entriesRemoved": removed }),
            origin: super::model::Origin {
                request_id,
                ip: None,
            },
            key: Some(format!("account.deleted:{user_id}")),
        };
        let id = uuid::Uuid::now_v7().to_string();
        store::append_in(tx, &id, deleted_at.timestamp_millis(), &record).await?;
        Ok(removed)
    }

    /// Entries newest first, narrowed by `query`.
    pub async fn page(&self, query: &AuditQuery<'_>) -> Result<AuditPage, ApiError> {
        let filter = Filter {
            user_id: query.user_id,
            action: query.action,
            before: query.cursor,
        };
        let (rows, more) = store::page(&self.db, &filter, query.limit).await?;
        let next_cursor = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
        Ok(AuditPage {
            entries: rows.into_iter().map(entry).collect(),
            next_cursor,
        })
    }
}

fn entry(row: EntryRow) -> AuditEntry {
    AuditEntry {
        id: row.id,
        at: DateTime::from_timestamp_millis(row.at).unwrap_or_default(),
        user_id: row.user_id,
        actor: row.actor,
        action: row.action,
        detail: serde_json::from_str(&row.detail).unwrap_or_default(),
        request_id: row.request_id,
        ip: row.ip,
    }
}
