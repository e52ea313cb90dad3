//! What a store says about an object, and how it fails: shared by both stores.

use chrono::{DateTime, Utc};

/// What is kept beside an object's bytes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Stat {
    pub size: u64,
    pub last_modified: DateTime<Utc>,
    pub etag: String,
    pub meta: Meta,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such object")]
    NotFound,
    #[error("the key clashes with an object named like one of its folders")]
    Conflict,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}
