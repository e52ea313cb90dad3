//! Embeds: a shared widget's chart as an HTML page (and SVG) for an
//! `<iframe>` on someone's blog. The link is signed with the server's key
//! over the widget, the current share link's fingerprint and an expiry the
//! owner chose (or none), so rotating or revoking the share link, hiding
//! the widget, or the expiry passing, each kills it.

use chrono::{DateTime, Utc};
use platform::ApiError;
use platform::objects::Grant;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::chart::esc;
use super::model::Visibility;
use super::reach_store;
use super::service::{WidgetService, draw};
use crate::auth::User;

/// An expiry far enough to mean none (9999-12-31).
const NEVER: i64 = 253_402_300_799;
/// The longest expiry an owner may choose.
pub const MAX_EMBED_DAYS: u32 = 3650;

/// A link to embed a widget.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbedLink {
    /// `<iframe src="…">` this.
    pub embed_url: String,
    /// The chart alone, as SVG.
    pub chart_url: String,
    /// Absent when it does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a signature binds: the widget and its current share link.
fn subject(widget_id: &str, share_token: &str) -> String {
    let digest = Sha256::digest(share_token.as_bytes());
    let fingerprint: String = platform::mac::hex(&digest[..8]);
    format!("{widget_id}/{fingerprint}")
}

fn grant(subject: &str, expires: i64) -> Grant<'_> {
    Grant {
        method: "EMBED",
        bucket: "widgets",
        key: subject,
        expires,
        content_type: None,
    }
}

fn dead() -> ApiError {
    ApiError::not_found(
        "this embed link does not work: it expired, or the widget is no longer shared",
    )
}

impl WidgetService {
    /// A signed embed link for one of the caller's shared widgets, valid for
    /// `days` (or for as long as the share link lives, when `None`).
    pub async fn embed_link(
        &self,
        owner: &User,
        id: &str,
        days: Option<u32>,
    ) -> Result<EmbedLink, ApiError> {
        let widget = self.get(owner, id).await?;
        let share = widget.share_url.as_deref().unwrap_or_default();
        let Some(share_token) = share
            .rsplit('/')
            .next()
            .filter(|_| widget.visibility.is_shared())
        else {
            return Err(ApiError::failed_precondition(
                "the widget is private: set its visibility to unlisted or public to embed it",
            ));
        };
        let expires = match days {
            Some(days) if (1..=MAX_EMBED_DAYS).contains(&days) => {
                self.clock.now().timestamp() + i64::from(days) * 86_400
            }
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "expiresInDays",
                    format!("must be 1 to {MAX_EMBED_DAYS}"),
                ));
            }
            None => NEVER,
        };
        let subject = subject(&widget.id, share_token);
        let signature = self.signer.sign(&grant(&subject, expires));
        let token = format!("{}.{expires}.{signature}", widget.id);
        let embed_url = format!("{}/embed/widgets/{token}", self.public_url);
        Ok(EmbedLink {
            chart_url: format!("{embed_url}/chart.svg"),
            embed_url,
            expires_at: (expires != NEVER)
                .then(|| DateTime::from_timestamp(expires, 0))
                .flatten(),
        })
    }

    /// The chart (SVG) and what frames it, for a working embed token.
    async fn embedded(
        &self,
        token: &str,
    ) -> Result<(String, super::model::Widget, String), ApiError> {
        let mut parts = token.splitn(3, '.');
        let (Some(id), Some(expires), Some(signature)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(dead());
        };
        let expires: i64 = expires.parse().map_err(|_| dead())?;
        if id.len() > 64 || signature.len() > 64 {
            return Err(dead());
        }
        let row = reach_store::reachable(&self.db, id, "")
            .await?
            .ok_or_else(dead)?;
        let share_token = row.share_token.clone().ok_or_else(dead)?;
        let subject = subject(&row.id, &share_token);
        self.signer
            .verify(
                &grant(&subject, expires),
                signature,
                self.clock.now().timestamp(),
            )
            .map_err(|_| dead())?;
        let owner_id = row.user_id.clone();
        let widget = self.widget(row)?;
        if widget.visibility == Visibility::Private {
            return Err(dead());
        }
        let data = self.data_of(&widget, &owner_id, false).await?;
        let owner = self.auth.user(&owner_id).await?.username;
        self.viewed(&widget.id);
        Ok((draw(&widget, &data), widget, owner))
    }

    /// The embed page: the chart, its description and a link back.
    pub async fn embed_page(&self, token: &str) -> Result<String, ApiError> {
        let (svg, widget, owner) = self.embedded(token).await?;
        let share = widget.share_url.as_deref().unwrap_or_default();
        Ok(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{title} · KiteMate</title><style>\
             body{{margin:0;font:14px system-ui,sans-serif;color:#1f2937;background:#fff}}\
             figure{{margin:0;padding:8px}}figure>svg{{width:100%;height:auto;display:block}}\
             figcaption{{display:flex;gap:8px;justify-content:space-between;padding:4px 8px;\
             color:#6b7280;font-size:12px}}a{{color:inherit}}</style></head><body><figure>{svg}\
             <figcaption><span>{description}</span><a href=\"{share}\" target=\"_blank\" \
             rel=\"noopener noreferrer\">@{owner} on KiteMate</a></figcaption></figure></body></html>",
            title = esc(&widget.content.title),
            description = esc(&widget.content.description),
            share = esc(share),
            owner = esc(&owner),
        ))
    }

    /// The embedded chart alone, as SVG.
    pub async fn embed_chart(&self, token: &str) -> Result<String, ApiError> {
        Ok(self.embedded(token).await?.0)
    }
}
