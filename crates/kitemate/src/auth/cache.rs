//! Callers of recently seen sessions, so that an authenticated request costs
//! no query. Revoking a session or changing a user sends a fan-out notice;
//! every replica forgets that user's entries when it hears it, and trusts
//! nothing while it cannot hear (see [`platform::pubsub::Fanout`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use platform::pubsub::{Fanout, Notice};

use super::extract::AuthData;

/// The fan-out channel: a user's id, whose sessions and profile changed.
pub(super) const CHANNEL: &str = "auth-users";

/// At most this many sessions are remembered (about 300 bytes each).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
pub(super) struct SessionCache {
    fanout: Fanout,
    entries: RwLock<HashMap<String, Entry>>,
    /// Bumped by every forgetting: a lookup that started before one must
    /// not store what it read.
    generation: AtomicU64,
    ttl: Duration,
}

#[derive(Debug)]
struct Entry {
    caller: AuthData,
    session_expires: DateTime<Utc>,
    stored: Instant,
}

/// A place to store a caller read from the database, taken before reading.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ticket(u64);

impl SessionCache {
    /// A cache whose entries live at most `ttl`, listening on `fanout`.
    pub(super) fn new(fanout: Fanout, ttl: Duration) -> Arc<Self> {
        let cache = Arc::new(Self {
            fanout: fanout.clone(),
            entries: RwLock::default(),
            generation: AtomicU64::new(0),
            ttl,
        });
        let weak = Arc::downgrade(&cache);
        fanout.listen(CHANNEL, move |notice| {
            let Some(cache) = weak.upgrade() else { return };
            match notice {
                Notice::Message(user_id) => {
                    cache.forget_user(std::str::from_utf8(user_id).unwrap_or_default());
                }
                Notice::Gap => cache.forget_all(),
            }
        });
        cache
    }

    /// The caller of the session whose token hashes to `hash`, if it is
    /// remembered, unexpired at `now`, and nothing may have been missed.
    pub(super) fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<AuthData> {
        if !self.fanout.in_sync() {
            return None;
        }
        let entries = self.read();
        let entry = entries.get(hash)?;
        (entry.session_expires > now && entry.stored.elapsed() < self.ttl)
            .then(|| entry.caller.clone())
    }

    /// Taken before reading the database; see [`SessionCache::put`].
    pub(super) fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    /// Remembers a caller read after `ticket` was taken, unless something
    /// was forgotten meanwhile (the read may predate a revocation).
    pub(super) fn put(
        &self,
        ticket: Ticket,
        hash: &str,
        caller: &AuthData,
        session_expires: DateTime<Utc>,
    ) {
        if !self.fanout.in_sync() {
            return;
        }
        let mut entries = self.write();
        // Under the lock: forgetting bumps the generation under it too.
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, e| e.stored.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            hash.to_owned(),
            Entry {
                caller: caller.clone(),
                session_expires,
                stored: Instant::now(),
            },
        );
    }

    /// Tells every replica (this one before returning) to forget `user_id`.
    pub(super) async fn changed(&self, user_id: &str) {
        self.fanout.publish(CHANNEL, user_id.as_bytes()).await;
    }

    fn forget_user(&self, user_id: &str) {
        let mut entries = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, e| e.caller.user.id != user_id);
    }

    fn forget_all(&self) {
        let mut entries = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Entry>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry>> {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
