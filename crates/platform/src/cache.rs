//! A small cache with expiry: in memory by default, in Redis when replicas
//! should share it. A cache may forget anything at any time; a Redis error
//! reads as a miss.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::AsyncCommands;

use crate::kv::Redis;

/// Entries kept in memory before expired ones are swept and, if need be, the map cleared.
const MEMORY_ENTRIES: usize = 50_000;

/// Values and when they expire, by key.
type Entries = Arc<Mutex<HashMap<String, (Vec<u8>, Instant)>>>;

#[derive(Debug, Clone)]
pub enum Cache {
    Memory(Entries),
    Redis(Redis),
}

impl Default for Cache {
    fn default() -> Self {
        Self::Memory(Arc::default())
    }
}

impl Cache {
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self {
            Self::Memory(map) => {
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match map.get(key) {
                    Some((value, until)) if *until > Instant::now() => Some(value.clone()),
                    Some(_) => {
                        map.remove(key);
                        None
                    }
                    None => None,
                }
            }
            Self::Redis(redis) => {
                let mut conn = redis.conn().await.ok()?;
                conn.get::<_, Option<Vec<u8>>>(redis.key(&format!("cache:{key}")))
                    .await
                    .unwrap_or_else(|err| {
                        tracing::warn!(error = %err, "cache read failed");
                        None
                    })
            }
        }
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        match self {
            Self::Memory(map) => {
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if map.len() >= MEMORY_ENTRIES {
                    let now = Instant::now();
                    map.retain(|_, (_, until)| *until > now);
                    if map.len() >= MEMORY_ENTRIES {
                        map.clear();
                    }
                }
                map.insert(key.to_string(), (value.to_vec(), Instant::now() + ttl));
            }
            Self::Redis(redis) => {
                let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                let result = match redis.conn().await {
                    Ok(mut conn) => {
                        conn.pset_ex::<_, _, ()>(redis.key(&format!("cache:{key}")), value, millis)
                            .await
                    }
                    Err(err) => Err(err),
                };
                if let Err(err) = result {
                    tracing::warn!(error = %err, "cache write failed");
                }
            }
        }
    }

    pub async fn delete(&self, key: &str) {
        match self {
            Self::Memory(map) => {
                map.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(key);
            }
            Self::Redis(redis) => {
                if let Ok(mut conn) = redis.conn().await
                    && let Err(err) = conn.del::<_, ()>(redis.key(&format!("cache:{key}"))).await
                {
                    tracing::warn!(error = %err, "cache delete failed");
                }
            }
        }
    }
}
