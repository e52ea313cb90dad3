//! The embedded store: one file per object under a folder, written to a
//! temporary file and renamed into place so a reader never sees half of one.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::stat::{Entry, Meta, Stat, StoreError};
use crate::mac::hex;

/// Each file starts with these bytes, the header's length and the header.
const MAGIC: &[u8; 4] = b"KMO1";
/// A header is a few hundred bytes; this bounds what `head` reads.
const MAX_HEADER: usize = 16 * 1024;

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    #[serde(flatten)]
    meta: Meta,
    etag: String,
}

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

fn io(err: std::io::Error) -> StoreError {
    if err.kind() == ErrorKind::NotFound {
        StoreError::NotFound
    } else {
        StoreError::Other(err.into())
    }
}

fn modified(meta: &std::fs::Metadata) -> DateTime<Utc> {
    meta.modified()
        .map(DateTime::<Utc>::from)
        .unwrap_or_default()
}

impl LocalStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn file(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    /// A fresh temporary file name on the same filesystem, for renames.
    async fn temp(&self) -> Result<PathBuf, StoreError> {
        let dir = self.root.join(".tmp");
        crate::db::create_private_dir(&dir).map_err(io)?;
        Ok(dir.join(uuid::Uuid::now_v7().to_string()))
    }

    async fn place(&self, temp: &Path, path: &str) -> Result<(), StoreError> {
        let target = self.file(path);
        if let Some(dir) = target.parent() {
            crate::db::create_private_dir(dir).map_err(|err| {
                // "a/b" cannot live beside an object called "a" in a folder.
                if matches!(
                    err.kind(),
                    ErrorKind::NotADirectory | ErrorKind::AlreadyExists
                ) {
                    StoreError::Conflict
                } else {
                    io(err)
                }
            })?;
        }
        tokio::fs::rename(temp, &target)
            .await
            .map_err(|err| match err.kind() {
                ErrorKind::IsADirectory | ErrorKind::DirectoryNotEmpty => StoreError::Conflict,
                _ => io(err),
            })
    }

    pub async fn put(&self, path: &str, bytes: Bytes, meta: &Meta) -> Result<(), StoreError> {
        let etag = hex(&Sha256::digest(&bytes)[..16]);
        self.write(path, meta, etag, |mut file| async move {
            file.write_all(&bytes).await?;
            Ok(file)
        })
        .await
    }

    /// [`LocalStore::put`] from a file, copied a piece at a time. The etag
    /// needs the whole content before the header is written, so the file
    /// is read twice (from the page cache the second time).
    pub async fn put_file(&self, path: &str, from: &Path, meta: &Meta) -> Result<(), StoreError> {
        let mut hash = Sha256::new();
        let mut source = tokio::fs::File::open(from).await.map_err(io)?;
        let mut buf = vec![0; 1 << 20];
        loop {
            let read = source.read(&mut buf).await.map_err(io)?;
            if read == 0 {
                break;
            }
            hash.update(&buf[..read]);
        }
        let etag = hex(&hash.finalize()[..16]);
        let from = from.to_path_buf();
        self.write(path, meta, etag, |mut file| async move {
            let mut source = tokio::fs::File::open(&from).await?;
            tokio::io::copy(&mut source, &mut file).await?;
            Ok(file)
        })
        .await
    }

    /// Writes the header and then what `body` writes into a private temp
    /// file, and puts it in place.
    async fn write<F, Fut>(
        &self,
        path: &str,
        meta: &Meta,
        etag: String,
        body: F,
    ) -> Result<(), StoreError>
    where
        F: FnOnce(tokio::fs::File) -> Fut,
        Fut: Future<Output = std::io::Result<tokio::fs::File>>,
    {
        let header = Header {
            meta: meta.clone(),
            etag,
        };
        let header = serde_json::to_vec(&header).map_err(|e| StoreError::Other(e.into()))?;
        let len = u32::try_from(header.len()).map_err(|e| StoreError::Other(e.into()))?;
        let mut head = Vec::with_capacity(8 + header.len());
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&header);
        let temp = self.temp().await?;
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .await?;
            }
            file.write_all(&head).await?;
            let mut file = body(file).await?;
            file.flush().await?;
            std::io::Result::Ok(())
        }
        .await;
        let placed = match written {
            Ok(()) => self.place(&temp, path).await,
            Err(err) => Err(io(err)),
        };
        if placed.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        placed
    }

    fn parse(file: &[u8]) -> Result<(Header, usize), StoreError> {
        let bad = || StoreError::Other(anyhow::anyhow!("not an object file"));
        if file.len() < 8 || &file[..4] != MAGIC {
            return Err(bad());
        }
        let len = u32::from_le_bytes([file[4], file[5], file[6], file[7]]) as usize;
        let body = 8 + len;
        let header = file.get(8..body).ok_or_else(bad)?;
        let header = serde_json::from_slice(header).map_err(|_| bad())?;
        Ok((header, body))
    }

    fn stat(header: Header, size: usize, fs: &std::fs::Metadata) -> Stat {
        Stat {
            size: size as u64,
            last_modified: modified(fs),
            etag: header.etag,
            meta: header.meta,
        }
    }

    pub async fn get(&self, path: &str) -> Result<(Stat, Bytes), StoreError> {
        let file = self.file(path);
        let bytes = Bytes::from(tokio::fs::read(&file).await.map_err(io)?);
        let fs = tokio::fs::metadata(&file).await.map_err(io)?;
        let (header, body) = Self::parse(&bytes)?;
        let data = bytes.slice(body..);
        Ok((Self::stat(header, data.len(), &fs), data))
    }

    pub async fn head(&self, path: &str) -> Result<Stat, StoreError> {
        use tokio::io::AsyncReadExt as _;
        let file = tokio::fs::File::open(self.file(path)).await.map_err(io)?;
        let fs = file.metadata().await.map_err(io)?;
        if fs.is_dir() {
            return Err(StoreError::NotFound);
        }
        let mut start = Vec::with_capacity(1024);
        file.take(MAX_HEADER as u64)
            .read_to_end(&mut start)
            .await
            .map_err(io)?;
        let (header, body) = Self::parse(&start)?;
        Ok(Self::stat(header, fs.len() as usize - body, &fs))
    }

    pub async fn delete(&self, path: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.file(path)).await {
            Ok(()) => {}
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(io(err)),
        }
        // Empty folders left behind would turn into phantom prefixes.
        let mut dir = self.file(path);
        while dir.pop() && dir != self.root && tokio::fs::remove_dir(&dir).await.is_ok() {}
        Ok(())
    }

    /// A hard link: versions share their bytes with the current object.
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), StoreError> {
        let temp = self.temp().await?;
        tokio::fs::hard_link(self.file(from), &temp)
            .await
            .map_err(io)?;
        let placed = self.place(&temp, to).await;
        if placed.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        placed
    }

    /// Every object whose path starts with `prefix`, in path order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<Entry>, StoreError> {
        let start = prefix.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut pending = vec![self.root.join(start)];
        let mut found = Vec::new();
        while let Some(dir) = pending.pop() {
            let mut read = match tokio::fs::read_dir(&dir).await {
                Ok(read) => read,
                Err(err)
                    if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) =>
                {
                    continue;
                }
                Err(err) => return Err(io(err)),
            };
            while let Some(item) = read.next_entry().await.map_err(io)? {
                let name = item.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                let full = item.path();
                let Ok(rel) = full.strip_prefix(&self.root) else {
                    continue;
                };
                let rel = rel.to_string_lossy().replace('\\', "/");
                let kind = item.file_type().await.map_err(io)?;
                if kind.is_dir() {
                    if prefix.starts_with(&format!("{rel}/")) || rel.starts_with(prefix) {
                        pending.push(full);
                    }
                } else if rel.starts_with(prefix) {
                    let stat = self.head(&rel).await?;
                    found.push(Entry {
                        path: rel,
                        size: stat.size,
                        last_modified: stat.last_modified,
                    });
                }
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }
}
