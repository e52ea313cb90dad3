//! The shared Redis connection behind limits and caches when replicas must
//! agree: made on first use, re-made by the connection manager after a drop.

use std::sync::Arc;

use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

/// A Redis server and the prefix this app's keys live under.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    conn: Arc<OnceCell<ConnectionManager>>,
    prefix: Arc<str>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password; the prefix is enough to tell apps apart.
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Checks the URL; connects on first use.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url).map_err(|err| anyhow::anyhow!("not a redis:// URL: {err}"))?;
        Ok(Self {
            client,
            conn: Arc::default(),
            prefix: prefix.into(),
        })
    }

    /// `prefix:name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    pub async fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        self.conn
            .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
            .await
            .cloned()
    }
}
