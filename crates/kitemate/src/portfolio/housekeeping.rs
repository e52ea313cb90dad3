//! Keeping the imports bucket lean: uploaded files past the retention
//! setting are deleted (the import and its trades stay), and files no
//! import points at (an upload whose import failed half way, say) go after
//! a grace period.

use chrono::{DateTime, Utc};
use platform::ApiError;

use super::service::PortfolioService;
use super::store;

/// Imports handled per round.
const ROUND: i64 = 500;

impl PortfolioService {
    /// Deletes the stored files of imports made before `before`; answers how many.
    pub async fn expire_import_files(&self, before: DateTime<Utc>) -> Result<u64, ApiError> {
        let mut deleted = 0;
        loop {
            let due = store::imports_with_files_before(&self.db, before.timestamp_millis(), ROUND)
                .await?;
            if due.is_empty() {
                return Ok(deleted);
            }
            for (id, key) in due {
                self.imports.delete(&key).await?;
                store::forget_file(&self.db, &id).await?;
                deleted += 1;
            }
        }
    }

    /// Deletes stored files no import points at, last written before
    /// `before` (an import in flight writes its file before its row).
    pub async fn sweep_orphan_files(&self, before: DateTime<Utc>) -> Result<u64, ApiError> {
        let old: Vec<String> = self
            .imports
            .list("")
            .await?
            .into_iter()
            .filter(|e| e.last_modified < before)
            .map(|e| e.key)
            .collect();
        let keys: Vec<&str> = old.iter().map(String::as_str).collect();
        let kept: std::collections::HashSet<String> = store::referenced_keys(&self.db, &keys)
            .await?
            .into_iter()
            .collect();
        let mut deleted = 0;
        for key in keys.into_iter().filter(|k| !kept.contains(*k)) {
            self.imports.delete(key).await?;
            deleted += 1;
        }
        Ok(deleted)
    }
}
