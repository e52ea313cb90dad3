//! Object storage, as Encore's buckets: declared once (public or private,
//! versioned or not), kept in a folder by default or in any S3-compatible
//! store, and reachable over HTTP at `/objects/{bucket}/{key}` — public
//! objects by anyone, private ones only through a signed URL.

mod content;
pub mod http;
mod key;
mod local;
mod s3;
mod sign;
mod stat;
mod store;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

pub use content::inline_safe;
pub use key::{MAX_KEY_LEN, check_key};
pub use s3::S3Settings;
pub(crate) use sign::write_private;
pub use sign::{Grant, UrlSigner};

use crate::ApiError;
use crate::clock::Clock;
use stat::{Meta, StoreError};
use store::Store;

/// How much of a file is read to check its content type.
const SNIFF_BYTES: usize = 64 * 1024;

/// Folder inside a bucket where a versioned bucket keeps every upload.
const VERSIONS: &str = ".versions";

/// A bucket, declared once as a `static`.
#[derive(Debug)]
pub struct BucketDecl {
    pub name: &'static str,
    /// Public objects are served to anyone; private ones need a signed URL.
    pub public: bool,
    /// Keeps every upload, so earlier versions can be read back.
    pub versioned: bool,
    /// Largest upload accepted, in bytes.
    pub max_size: u64,
    /// The only content types taken; empty takes any (still checked against the bytes).
    pub content_types: &'static [&'static str],
}

impl BucketDecl {
    /// A private, unversioned bucket taking up to 10 MiB of any type.
    pub const fn private(name: &'static str) -> Self {
        Self {
            name,
            public: false,
            versioned: false,
            max_size: 10 << 20,
            content_types: &[],
        }
    }

    pub const fn public(name: &'static str) -> Self {
        Self {
            public: true,
            ..Self::private(name)
        }
    }

    pub const fn versioned(self) -> Self {
        Self {
            versioned: true,
            ..self
        }
    }

    pub const fn max_size(self, bytes: u64) -> Self {
        Self {
            max_size: bytes,
            ..self
        }
    }

    pub const fn content_types(self, types: &'static [&'static str]) -> Self {
        Self {
            content_types: types,
            ..self
        }
    }
}

/// Where objects live.
#[derive(Debug, Clone)]
pub enum Backend {
    /// One folder per bucket under `dir`.
    Local {
        dir: PathBuf,
    },
    S3(S3Settings),
}

/// What is known about a stored object.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attrs {
    pub key: String,
    pub size: u64,
    pub content_type: String,
    pub etag: String,
    /// Set in versioned buckets: the id to read this upload back with.
    pub version: Option<String>,
    pub last_modified: DateTime<Utc>,
}

/// An object's bytes with its attributes.
#[derive(Debug, Clone)]
pub struct Object {
    pub attrs: Attrs,
    pub bytes: Bytes,
}

/// One line of a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEntry {
    pub key: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

/// One kept upload of a versioned object, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionEntry {
    pub version: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("key {0}")]
    InvalidKey(&'static str),
    #[error("the object is larger than this bucket's limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("content type: {0}")]
    ContentType(String),
    #[error("no such object")]
    NotFound,
    #[error("the key clashes with an object named like one of its folders")]
    Conflict,
    #[error("bucket {0} is private: it has no public URLs")]
    NotPublic(&'static str),
    #[error("object store failed: {0:#}")]
    Store(anyhow::Error),
}

impl From<StoreError> for ObjectError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict => Self::Conflict,
            StoreError::Other(err) => Self::Store(err),
        }
    }
}

impl From<ObjectError> for ApiError {
    fn from(err: ObjectError) -> Self {
        match err {
            ObjectError::InvalidKey(reason) => ApiError::invalid_field("key", reason),
            ObjectError::TooLarge { .. } => ApiError::invalid_argument(err.to_string())
                .with_status(StatusCode::PAYLOAD_TOO_LARGE),
            ObjectError::ContentType(reason) => ApiError::invalid_field("contentType", reason),
            ObjectError::NotFound => ApiError::not_found("no such object"),
            ObjectError::Conflict => ApiError::already_exists(err.to_string()),
            ObjectError::NotPublic(_) => ApiError::failed_precondition(err.to_string()),
            ObjectError::Store(source) => ApiError::internal(source),
        }
    }
}

/// Every declared bucket, on one backend.
#[derive(Debug, Clone)]
pub struct Objects {
    buckets: Arc<HashMap<&'static str, Bucket>>,
}

impl Objects {
    /// `base_url` starts every URL handed out, e.g. `https://kitemate.app`.
    pub fn new(
        backend: &Backend,
        decls: &[&'static BucketDecl],
        signer: UrlSigner,
        base_url: &str,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let store = match backend {
            Backend::Local { dir } => Store::Local(local::LocalStore::new(dir.clone())),
            Backend::S3(settings) => Store::S3(s3::S3Store::new(settings)?),
        };
        let base_url: Arc<str> = base_url.trim_end_matches('/').into();
        let mut buckets = HashMap::new();
        for &decl in decls {
            anyhow::ensure!(
                !decl.name.is_empty()
                    && decl
                        .name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "bucket name {:?}: use lowercase letters, digits and -",
                decl.name
            );
            let bucket = Bucket {
                decl,
                store: store.clone(),
                signer: signer.clone(),
                base_url: Arc::clone(&base_url),
                clock: clock.clone(),
            };
            anyhow::ensure!(
                buckets.insert(decl.name, bucket).is_none(),
                "bucket {} is declared twice",
                decl.name
            );
        }
        Ok(Self {
            buckets: Arc::new(buckets),
        })
    }

    pub fn bucket(&self, name: &str) -> Option<&Bucket> {
        self.buckets.get(name)
    }

    /// The bucket called `name`, which the caller knows was declared.
    pub fn require(&self, name: &str) -> anyhow::Result<&Bucket> {
        self.bucket(name)
            .ok_or_else(|| anyhow::anyhow!("no bucket called {name} is declared"))
    }
}

/// One bucket's handle; cheap to clone.
#[derive(Debug, Clone)]
pub struct Bucket {
    decl: &'static BucketDecl,
    store: Store,
    signer: UrlSigner,
    base_url: Arc<str>,
    clock: Clock,
}

/// Keys keep `/` between parts and escape everything else that URLs mind.
const KEY_PART: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn valid(key: &str) -> Result<(), ObjectError> {
    check_key(key).map_err(ObjectError::InvalidKey)
}

impl Bucket {
    pub fn decl(&self) -> &'static BucketDecl {
        self.decl
    }

    fn path(&self, key: &str) -> String {
        format!("{}/{key}", self.decl.name)
    }

    fn version_path(&self, key: &str, version: &str) -> String {
        format!("{}/{VERSIONS}/{key}/{version}", self.decl.name)
    }

    fn to_attrs(key: &str, stat: stat::Stat) -> Attrs {
        Attrs {
            key: key.to_string(),
            size: stat.size,
            content_type: stat.meta.content_type,
            etag: stat.etag,
            version: stat.meta.version,
            last_modified: stat.last_modified,
        }
    }

    /// Stores `bytes` under `key`, replacing what was there. The content type
    /// is checked against the bytes (or sniffed when `None`).
    pub async fn upload(
        &self,
        key: &str,
        bytes: impl Into<Bytes>,
        content_type: Option<&str>,
    ) -> Result<Attrs, ObjectError> {
        valid(key)?;
        let bytes = bytes.into();
        if bytes.len() as u64 > self.decl.max_size {
            return Err(ObjectError::TooLarge {
                limit: self.decl.max_size,
            });
        }
        let content_type = content::settle(content_type, &bytes, self.decl.content_types)
            .map_err(ObjectError::ContentType)?;
        let path = self.path(key);
        if self.decl.versioned {
            // The version is written first and then copied over the current
            // object, so the current object is always one of the versions.
            let version = uuid::Uuid::now_v7().to_string();
            let kept = self.version_path(key, &version);
            let meta = Meta {
                content_type,
                version: Some(version),
            };
            self.store.put(&kept, bytes, &meta).await?;
            self.store.copy(&kept, &path).await?;
        } else {
            self.store
                .put(
                    &path,
                    bytes,
                    &Meta {
                        content_type,
                        version: None,
                    },
                )
                .await?;
        }
        Ok(Self::to_attrs(key, self.store.head(&path).await?))
    }

    /// [`Bucket::upload`] for a file on disk, read as it is sent rather
    /// than held in memory (a shell import of a large export). The content
    /// type is checked against the file's first bytes.
    pub async fn upload_file(
        &self,
        key: &str,
        file: &std::path::Path,
        content_type: Option<&str>,
    ) -> Result<Attrs, ObjectError> {
        use tokio::io::AsyncReadExt as _;
        valid(key)?;
        let io = |err: std::io::Error| ObjectError::Store(anyhow::Error::from(err));
        let mut opened = tokio::fs::File::open(file).await.map_err(io)?;
        if opened.metadata().await.map_err(io)?.len() > self.decl.max_size {
            return Err(ObjectError::TooLarge {
                limit: self.decl.max_size,
            });
        }
        let mut head = vec![0; SNIFF_BYTES];
        let mut filled = 0;
        while filled < head.len() {
            match opened.read(&mut head[filled..]).await.map_err(io)? {
                0 => break,
                read => filled += read,
            }
        }
        head.truncate(filled);
        // A character cut by the end of the sample is not an encoding error.
        let sample = match std::str::from_utf8(&head) {
            Err(err) if err.error_len().is_none() && filled == SNIFF_BYTES => {
                &head[..err.valid_up_to()]
            }
            _ => &head[..],
        };
        let content_type = content::settle(content_type, sample, self.decl.content_types)
            .map_err(ObjectError::ContentType)?;
        drop(opened);
        let path = self.path(key);
        let meta = |version: Option<String>| Meta {
            content_type: content_type.clone(),
            version,
        };
        if self.decl.versioned {
            let version = uuid::Uuid::now_v7().to_string();
            let kept = self.version_path(key, &version);
            self.store
                .put_file(&kept, file, &meta(Some(version)))
                .await?;
            self.store.copy(&kept, &path).await?;
        } else {
            self.store.put_file(&path, file, &meta(None)).await?;
        }
        Ok(Self::to_attrs(key, self.store.head(&path).await?))
    }

    pub async fn download(&self, key: &str) -> Result<Object, ObjectError> {
        valid(key)?;
        let (stat, bytes) = self.store.get(&self.path(key)).await?;
        Ok(Object {
            attrs: Self::to_attrs(key, stat),
            bytes,
        })
    }

    /// One kept upload of a versioned object.
    pub async fn download_version(&self, key: &str, version: &str) -> Result<Object, ObjectError> {
        valid(key)?;
        if uuid::Uuid::try_parse(version).is_err() {
            return Err(ObjectError::NotFound);
        }
        let (stat, bytes) = self.store.get(&self.version_path(key, version)).await?;
        Ok(Object {
            attrs: Self::to_attrs(key, stat),
            bytes,
        })
    }

    pub async fn attrs(&self, key: &str) -> Result<Attrs, ObjectError> {
        valid(key)?;
        Ok(Self::to_attrs(key, self.store.head(&self.path(key)).await?))
    }

    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        match self.attrs(key).await {
            Ok(_) => Ok(true),
            Err(ObjectError::NotFound) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Objects whose key starts with `prefix`, in key order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ListEntry>, ObjectError> {
        key::check_prefix(prefix).map_err(ObjectError::InvalidKey)?;
        let root = format!("{}/", self.decl.name);
        let entries = self.store.list(&format!("{root}{prefix}")).await?;
        Ok(entries
            .into_iter()
            .filter_map(|e| {
                let key = e.path.strip_prefix(&root)?;
                // The versions folder is bookkeeping, not the caller's objects.
                check_key(key).ok()?;
                Some(ListEntry {
                    key: key.to_string(),
                    size: e.size,
                    last_modified: e.last_modified,
                })
            })
            .collect())
    }

    /// Every kept upload of `key`, oldest first (empty when unversioned).
    pub async fn versions(&self, key: &str) -> Result<Vec<VersionEntry>, ObjectError> {
        valid(key)?;
        let folder = format!("{}/{VERSIONS}/{key}/", self.decl.name);
        let entries = self.store.list(&folder).await?;
        // Version ids are UUIDv7, so key order is upload order.
        Ok(entries
            .into_iter()
            .filter_map(|e| {
                let version = e.path.strip_prefix(&folder)?;
                uuid::Uuid::try_parse(version).ok()?;
                Some(VersionEntry {
                    version: version.to_string(),
                    size: e.size,
                    last_modified: e.last_modified,
                })
            })
            .collect())
    }

    /// Removes the current object; a versioned bucket keeps its versions.
    /// Removing what is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        valid(key)?;
        Ok(self.store.delete(&self.path(key)).await?)
    }

    fn url(&self, key: &str) -> String {
        let key: Vec<String> = key
            .split('/')
            .map(|p| utf8_percent_encode(p, KEY_PART).to_string())
            .collect();
        format!(
            "{}/objects/{}/{}",
            self.base_url,
            self.decl.name,
            key.join("/")
        )
    }

    /// The URL anyone can read a public object at.
    pub fn public_url(&self, key: &str) -> Result<String, ObjectError> {
        valid(key)?;
        if !self.decl.public {
            return Err(ObjectError::NotPublic(self.decl.name));
        }
        Ok(self.url(key))
    }

    fn signed_url(
        &self,
        method: &str,
        key: &str,
        ttl: Duration,
        content_type: Option<&str>,
    ) -> Result<String, ObjectError> {
        valid(key)?;
        let ttl = chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::MAX);
        let expires = self
            .clock
            .now()
            .checked_add_signed(ttl)
            .map_or(i64::MAX, |t| t.timestamp());
        let grant = Grant {
            method,
            bucket: self.decl.name,
            key,
            expires,
            content_type,
        };
        let mut url = format!(
            "{}?expires={expires}&sig={}",
            self.url(key),
            self.signer.sign(&grant)
        );
        if let Some(content_type) = content_type {
            url.push_str("&type=");
            url.extend(utf8_percent_encode(content_type, NON_ALPHANUMERIC));
        }
        Ok(url)
    }

    /// A URL that reads `key` until `ttl` has passed, public bucket or not.
    pub fn signed_download_url(&self, key: &str, ttl: Duration) -> Result<String, ObjectError> {
        self.signed_url("GET", key, ttl, None)
    }

    /// A URL that lets its holder `PUT` one object at `key` until `ttl` has
    /// passed; with `content_type`, only that type is taken.
    pub fn signed_upload_url(
        &self,
        key: &str,
        ttl: Duration,
        content_type: Option<&str>,
    ) -> Result<String, ObjectError> {
        self.signed_url("PUT", key, ttl, content_type)
    }

    fn verify(&self, grant: &Grant<'_>, signature: &str) -> Result<(), &'static str> {
        self.signer
            .verify(grant, signature, self.clock.now().timestamp())
    }
}
