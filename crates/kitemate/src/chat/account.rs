//! Chat's part in a user's export and deletion: conversations with their
//! messages, and the questions counted each month.

use chrono::{DateTime, Utc};
use platform::ApiError;
use platform::archive::ArchiveWriter;
use platform::db::Tx;
use serde::Serialize;

use super::service::ChatService;
use super::store::{self, at, parse};
use crate::auth::AccountPart;

/// Conversations read per page of the export.
const PAGE: i64 = 200;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationExport {
    id: String,
    title: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Oldest first.
    messages: Vec<MessageExport>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageExport {
    id: String,
    role: String,
    content: String,
    data: Option<serde_json::Value>,
    widget: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct MonthUsage {
    month: String,
    questions: i64,
}

impl AccountPart for ChatService {
    async fn export(&self, user_id: &str, archive: &mut ArchiveWriter) -> anyhow::Result<()> {
        let db = self.db();
        archive.file("chat/conversations.jsonl").await?;
        let mut after = String::new();
        loop {
            let page = store::conversations_after(db, user_id, &after, PAGE).await?;
            for conversation in &page {
                let messages = store::messages(db, &conversation.id).await?;
                let export = ConversationExport {
                    id: conversation.id.clone(),
                    title: conversation.title.clone(),
                    created_at: at(conversation.created_at),
                    updated_at: at(conversation.updated_at),
                    messages: messages
                        .into_iter()
                        .map(|m| MessageExport {
                            id: m.id,
                            role: m.role,
                            content: m.content,
                            data: parse(m.data.as_deref()),
                            widget: parse(m.widget.as_deref()),
                            created_at: at(m.created_at),
                        })
                        .collect(),
                };
                archive.lines(&[export]).await?;
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after.clone_from(&last.id),
                _ => break,
            }
        }
        let usage: Vec<MonthUsage> = store::usage_months(db, user_id)
            .await?
            .into_iter()
            .map(|(month, questions)| MonthUsage { month, questions })
            .collect();
        archive.json("chat/usage.json", &usage).await
    }
}

impl ChatService {
    /// Deletes every conversation, message and count of the user's, in `tx`.
    pub async fn forget_user_in(&self, tx: &mut Tx, user_id: &str) -> Result<(), ApiError> {
        store::delete_user(tx, user_id).await?;
        Ok(())
    }
}
