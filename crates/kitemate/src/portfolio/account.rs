//! The portfolio's part in a user's export and deletion: trades, imports
//! (with the files as uploaded), holdings, positions and daily history.

use platform::ApiError;
use platform::archive::ArchiveWriter;
use platform::db::Tx;

use super::model::TradeFilter;
use super::service::PortfolioService;
use super::store;
use crate::auth::AccountPart;

/// Trades and imports read per page of the export.
const PAGE: usize = 2_000;

impl AccountPart for PortfolioService {
    async fn export(&self, user_id: &str, archive: &mut ArchiveWriter) -> anyhow::Result<()> {
        archive.file("portfolio/trades.jsonl").await?;
        let mut offset = 0;
        loop {
            let page = self
                .trades(user_id, &TradeFilter::default(), offset, PAGE)
                .await?;
            archive.lines(&page.trades).await?;
            offset += page.trades.len();
            if page.trades.is_empty() || offset >= usize::try_from(page.total).unwrap_or(0) {
                break;
            }
        }
        archive.file("portfolio/imports.jsonl").await?;
        let mut ids = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.imports(user_id, offset, PAGE as i64).await?;
            for import in &page.imports {
                let detail = self.import_detail(user_id, &import.id).await?;
                archive.lines(&[detail]).await?;
                ids.push(import.id.clone());
            }
            offset += page.imports.len() as i64;
            if page.imports.is_empty() || offset >= page.total {
                break;
            }
        }
        // The files as they were uploaded, one at a time.
        for id in ids {
            let key = format!("{user_id}/{id}.csv");
            match self.imports.download(&key).await {
                Ok(object) => {
                    archive.file(&format!("portfolio/imports/{id}.csv")).await?;
                    archive.write(&object.bytes).await?;
                }
                Err(platform::objects::ObjectError::NotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
        archive
            .json("portfolio/holdings.json", &self.portfolio(user_id).await?)
            .await?;
        archive
            .json("portfolio/positions.json", &self.positions(user_id).await?)
            .await?;
        // Before any market the app knows of (a date every engine reads).
        let first = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
        let history = self.history(user_id, first, self.today()).await?;
        archive.file("portfolio/history.jsonl").await?;
        archive.lines(&history).await
    }
}

impl PortfolioService {
    /// Deletes the uploaded files of a deleted account; before its rows,
    /// and again harmlessly if the deletion is retried.
    pub async fn forget_files(&self, user_id: &str) -> Result<(), ApiError> {
        let prefix = format!("{user_id}/");
        for entry in self.imports.list(&prefix).await? {
            self.imports.delete(&entry.key).await?;
        }
        Ok(())
    }

    /// Deletes every row the portfolio keeps about the user, in `tx`.
    pub async fn forget_user_in(&self, tx: &mut Tx, user_id: &str) -> Result<(), ApiError> {
        store::delete_user(tx, user_id).await?;
        Ok(())
    }
}
