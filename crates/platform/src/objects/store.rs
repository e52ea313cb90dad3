//! The two stores behind a bucket, and what they say about an object.

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::local::LocalStore;
use super::s3::S3Store;

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

/// Dispatches to the embedded or the S3 store.
#[derive(Debug, Clone)]
pub enum Store {
    Local(LocalStore),
    S3(S3Store),
}

macro_rules! each {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Store::Local($store) => $call,
            Store::S3($store) => $call,
        }
    };
}

impl Store {
    pub async fn put(&self, path: &str, bytes: Bytes, meta: &Meta) -> Result<(), StoreError> {
        each!(self, s => s.put(path, bytes, meta).await)
    }
    pub async fn get(&self, path: &str) -> Result<(Stat, Bytes), StoreError> {
        each!(self, s => s.get(path).await)
    }
    pub async fn head(&self, path: &str) -> Result<Stat, StoreError> {
        each!(self, s => s.head(path).await)
    }
    pub async fn delete(&self, path: &str) -> Result<(), StoreError> {
        each!(self, s => s.delete(path).await)
    }
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), StoreError> {
        each!(self, s => s.copy(from, to).await)
    }
    pub async fn list(&self, prefix: &str) -> Result<Vec<Entry>, StoreError> {
        each!(self, s => s.list(prefix).await)
    }
}
