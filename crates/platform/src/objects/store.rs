//! The two stores behind a bucket, one interface over both.

use bytes::Bytes;

use super::local::LocalStore;
use super::s3::S3Store;
use super::stat::{Entry, Meta, Stat, StoreError};

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
    pub async fn put_file(
        &self,
        path: &str,
        file: &std::path::Path,
        meta: &Meta,
    ) -> Result<(), StoreError> {
        each!(self, s => s.put_file(path, file, meta).await)
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
