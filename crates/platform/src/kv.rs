//! The shared Redis connection behind limits and caches when replicas must
//! agree: made on first use, re-made by the connection manager after a drop.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
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

    /// The shared connection. Attempts are short: a request waiting on a
    /// Redis that is down would hurt more than the limit it checks.
    pub async fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        self.conn
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
    }
}
