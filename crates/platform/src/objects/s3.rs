//! The production store: any S3-compatible service through `object_store`.
//! All buckets share one S3 bucket, each under its own prefix, so operators
//! create and grant one bucket however many the app declares.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, ClientOptions, GetOptions, ObjectMeta, ObjectStore,
    ObjectStoreExt as _, PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};

use super::stat::{Entry, Meta, Stat, StoreError};

const VERSION: Attribute = Attribute::Metadata(Cow::Borrowed("kitemate-version"));

/// What is kept beside an object's bytes, as S3 attributes.
fn attributes(meta: &Meta) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert(
        Attribute::ContentType,
        AttributeValue::from(meta.content_type.clone()),
    );
    if let Some(version) = &meta.version {
        attributes.insert(VERSION, AttributeValue::from(version.clone()));
    }
    attributes
}

/// Where the S3 store is and how to reach it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Empty for AWS itself; otherwise e.g. `http://127.0.0.1:7480`.
    pub endpoint: String,
    pub region: String,
    /// Put before every key, e.g. `prod/`; lets deployments share a bucket.
    pub prefix: String,
    pub access_key_id: String,
    pub secret_access_key: secrecy::SecretString,
}

#[derive(Debug, Clone)]
pub struct S3Store {
    store: Arc<AmazonS3>,
    prefix: String,
}

fn s3(err: object_store::Error) -> StoreError {
    match err {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        other => StoreError::Other(other.into()),
    }
}

impl S3Store {
    pub fn new(settings: &S3Settings) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret as _;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(settings.secret_access_key.expose_secret())
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(3))
                    .with_timeout(Duration::from_secs(60))
                    .with_allow_http(settings.endpoint.starts_with("http://")),
            );
        if !settings.endpoint.is_empty() {
            // Self-hosted stores (MinIO, Ceph RGW, Garage) want path-style URLs.
            builder = builder
                .with_endpoint(&settings.endpoint)
                .with_virtual_hosted_style_request(false);
        }
        let prefix = settings.prefix.trim_matches('/');
        Ok(Self {
            store: Arc::new(builder.build()?),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }

    fn path(&self, path: &str) -> Path {
        Path::from(format!("{}{path}", self.prefix))
    }

    fn stat(meta: &ObjectMeta, attributes: &Attributes) -> Stat {
        let text = |a: &Attribute| attributes.get(a).map(|v| v.as_ref().to_string());
        Stat {
            size: meta.size,
            last_modified: meta.last_modified,
            etag: meta
                .e_tag
                .clone()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string(),
            meta: Meta {
                content_type: text(&Attribute::ContentType)
                    .unwrap_or_else(|| "application/octet-stream".into()),
                version: text(&VERSION),
            },
        }
    }

    pub async fn put(&self, path: &str, bytes: Bytes, meta: &Meta) -> Result<(), StoreError> {
        let options = PutOptions {
            attributes: attributes(meta),
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(path), PutPayload::from(bytes), options)
            .await
            .map_err(s3)?;
        Ok(())
    }

    /// [`S3Store::put`] from a file, sent in multipart pieces as it is read.
    pub async fn put_file(
        &self,
        path: &str,
        from: &std::path::Path,
        meta: &Meta,
    ) -> Result<(), StoreError> {
        use tokio::io::AsyncReadExt as _;
        let options = PutMultipartOptions {
            attributes: attributes(meta),
            ..PutMultipartOptions::default()
        };
        let upload = self
            .store
            .put_multipart_opts(&self.path(path), options)
            .await
            .map_err(s3)?;
        let mut writer = WriteMultipart::new(upload);
        let sent = async {
            let mut source = tokio::fs::File::open(from)
                .await
                .map_err(|e| StoreError::Other(e.into()))?;
            let mut buf = vec![0; 1 << 20];
            loop {
                let read = source
                    .read(&mut buf)
                    .await
                    .map_err(|e| StoreError::Other(e.into()))?;
                if read == 0 {
                    return Ok(());
                }
                // At most a few parts in flight: memory stays bounded.
                writer.wait_for_capacity(4).await.map_err(s3)?;
                writer.write(&buf[..read]);
            }
        }
        .await;
        match sent {
            Ok(()) => writer.finish().await.map(|_| ()).map_err(s3),
            Err(err) => {
                let _ = writer.abort().await;
                Err(err)
            }
        }
    }

    pub async fn get(&self, path: &str) -> Result<(Stat, Bytes), StoreError> {
        let got = self
            .store
            .get_opts(&self.path(path), GetOptions::default())
            .await
            .map_err(s3)?;
        let stat = Self::stat(&got.meta, &got.attributes);
        Ok((stat, got.bytes().await.map_err(s3)?))
    }

    pub async fn head(&self, path: &str) -> Result<Stat, StoreError> {
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        let got = self
            .store
            .get_opts(&self.path(path), options)
            .await
            .map_err(s3)?;
        Ok(Self::stat(&got.meta, &got.attributes))
    }

    pub async fn delete(&self, path: &str) -> Result<(), StoreError> {
        match self.store.delete(&self.path(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(s3(err)),
        }
    }

    pub async fn copy(&self, from: &str, to: &str) -> Result<(), StoreError> {
        self.store
            .copy(&self.path(from), &self.path(to))
            .await
            .map_err(s3)
    }

    /// Objects whose path starts with `prefix` (a string prefix, not only
    /// whole folders), in path order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<Entry>, StoreError> {
        let dir = prefix.rsplit_once('/').map_or("", |(dir, _)| dir);
        let dir = self.path(dir);
        let mut found: Vec<Entry> = self
            .store
            .list(Some(&dir))
            .map_err(s3)
            .try_filter_map(|meta| async move {
                let full = meta.location.as_ref();
                let path = full.strip_prefix(self.prefix.as_str()).unwrap_or(full);
                Ok(path.starts_with(prefix).then(|| Entry {
                    path: path.to_string(),
                    size: meta.size,
                    last_modified: meta.last_modified,
                }))
            })
            .try_collect()
            .await?;
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }
}
