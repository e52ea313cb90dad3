//! The subscriptions service's part in a user's export and deletion. Before
//! an account goes, every subscription still able to charge is cancelled at
//! its provider at once (not at the period's end); if a provider cannot be
//! reached the deletion stops, so no one is charged for an account that is
//! gone. Afterwards payments and invoices stay, as GST law requires (72
//! months), with the customer's name and address removed; the place of
//! supply and a business's GSTIN stay because the tax return needs them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use platform::ApiError;
use platform::archive::ArchiveWriter;
use platform::db::Tx;
use serde::Serialize;

use super::lifecycle;
use super::model::BillingDetails;
use super::service::SubscriptionService;
use super::store::{self, SubRow};
use crate::auth::{AccountPart, AuthData};

/// What an invoice of a deleted account shows for the customer's name.
const DELETED_NAME: &str = "Account deleted";

/// A subscription as the export lists it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionExport {
    id: String,
    provider: String,
    provider_subscription_id: Option<String>,
    plan: String,
    status: String,
    period_end: Option<DateTime<Utc>>,
    cancel_at_period_end: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<SubRow> for SubscriptionExport {
    fn from(row: SubRow) -> Self {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default();
        Self {
            id: row.id,
            provider: row.provider,
            provider_subscription_id: row.provider_subscription_id,
            plan: row.plan,
            status: row.status,
            period_end: row.period_end.map(at),
            cancel_at_period_end: row.cancel_at_period_end,
            created_at: at(row.created_at),
            updated_at: at(row.updated_at),
        }
    }
}

impl AccountPart for SubscriptionService {
    async fn export(&self, user_id: &str, archive: &mut ArchiveWriter) -> anyhow::Result<()> {
        let caller = AuthData {
            user: Arc::new(self.inner.auth.user(user_id).await?),
            session_id: String::new(),
        };
        let db = &self.inner.db;
        let subscriptions: Vec<SubscriptionExport> = store::of_user(db, user_id)
            .await?
            .into_iter()
            .map(SubscriptionExport::from)
            .collect();
        archive.file("subscriptions/subscriptions.jsonl").await?;
        archive.lines(&subscriptions).await?;
        archive.file("subscriptions/payments.jsonl").await?;
        archive
            .lines(&store::payments_of(db, user_id).await?)
            .await?;
        archive
            .json(
                "subscriptions/billing-details.json",
                &self.billing_details(&caller).await?,
            )
            .await?;
        // The PDFs follow the list, one file at a time, each read again
        // when its turn comes: only the ids are kept meanwhile.
        let mut ids = Vec::new();
        archive.file("subscriptions/invoices.jsonl").await?;
        let mut cursor: Option<String> = None;
        loop {
            let page = self.invoices(&caller, cursor.as_deref(), 100).await?;
            archive.lines(&page.invoices).await?;
            ids.extend(page.invoices.iter().map(|i| i.id.clone()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        for id in ids {
            let (file, pdf) = self.invoice_pdf(&caller, &id).await?;
            archive
                .file(&format!("subscriptions/invoices/{file}"))
                .await?;
            archive.write(&pdf).await?;
        }
        Ok(())
    }

    async fn before_deletion(&self, user_id: &str) -> Result<(), ApiError> {
        self.cancel_all_now(user_id).await
    }
}

impl SubscriptionService {
    /// Cancels, now, every subscription of the user's a provider could
    /// still charge.
    async fn cancel_all_now(&self, user_id: &str) -> Result<(), ApiError> {
        for row in store::of_user(&self.inner.db, user_id).await? {
            if !lifecycle::is_final(&row.status) {
                self.cancel_now_at_provider(&row).await?;
                tracing::info!(
                    user_id,
                    provider = row.provider,
                    "subscription cancelled for a deletion"
                );
            }
        }
        Ok(())
    }

    /// Deletes what subscriptions keeps about a deleted account, in `tx`,
    /// keeping its payments and its invoices without name or address.
    pub async fn forget_user_in(&self, tx: &mut Tx, user_id: &str) -> Result<(), ApiError> {
        for (id, customer) in store::invoice_customers_in(tx, user_id).await? {
            let Ok(Some(mut details)) = serde_json::from_str::<Option<BillingDetails>>(&customer)
            else {
                continue;
            };
            DELETED_NAME.clone_into(&mut details.name);
            details.address.clear();
            let customer = serde_json::to_string(&Some(details)).map_err(ApiError::internal)?;
            store::set_invoice_customer(tx, &id, &customer).await?;
        }
        store::delete_user(tx, user_id).await?;
        Ok(())
    }
}
