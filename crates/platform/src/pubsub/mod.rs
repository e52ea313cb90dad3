//! Pub/sub as Encore has it: typed topics, subscriptions with retries,
//! concurrency limits and dead letters, at-least-once or exactly-once.
//!
//! Publishing inside a transaction writes the event to that database's outbox
//! (one row per subscription), so the event exists if and only if the change
//! committed. Dispatchers lease due rows, run handlers, and delete the rows
//! they handled; a commit wakes them, and a slow poll is only a safety net.

mod dispatch;
mod fanout;
mod nats;
mod store;

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::db::{Db, Tx};
use crate::metrics::Metrics;

pub use dispatch::{DeadLetter, SubscriptionStats};
pub use fanout::{Fanout, Notice};
pub use nats::NatsSettings;

/// How often a subscription is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Guarantee {
    /// Handlers may see a message twice and must be idempotent (the default).
    AtLeastOnce,
    /// Effects are applied once per subscription: a dedupe record is written
    /// in the handler's own transaction.
    ExactlyOnce,
}

/// A topic declared once, with its event type: `static T: TopicDecl<E> = TopicDecl::new("name")`.
#[derive(Debug)]
pub struct TopicDecl<T> {
    pub name: &'static str,
    pub guarantee: Guarantee,
    event: PhantomData<fn() -> T>,
}

impl<T> TopicDecl<T> {
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            guarantee: Guarantee::AtLeastOnce,
            event: PhantomData,
        }
    }

    pub const fn exactly_once(name: &'static str) -> Self {
        Self {
            name,
            guarantee: Guarantee::ExactlyOnce,
            event: PhantomData,
        }
    }
}

/// Retries: exponential backoff between `min_backoff` and `max_backoff`;
/// after `max_attempts` failed attempts the message becomes a dead letter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// Encore's defaults: 10 s to 10 min, 100 retries.
    fn default() -> Self {
        Self {
            min_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(600),
            max_attempts: 101,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`, having failed `attempt` times.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.min_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// How a subscription is run.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionConfig {
    pub retry: RetryPolicy,
    /// Handlers of this subscription running at once, across the process.
    pub max_concurrency: usize,
    /// How long a handler may take before its message is offered again.
    pub ack_deadline: Duration,
    /// Messages of an exactly-once subscription applied in one transaction
    /// when several are due at once (delivered in process; through NATS
    /// each comes alone). One commit and one turn of the database's writer
    /// for many: on SQLite, where every write waits for the one writer,
    /// this is what sustains a high rate. 1 runs each alone.
    pub group: usize,
}

impl Default for SubscriptionConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            max_concurrency: 100,
            ack_deadline: Duration::from_secs(30),
            group: 1,
        }
    }
}

/// A delivered event and its envelope.
#[derive(Debug, Clone)]
pub struct Message<T> {
    pub id: String,
    /// 1 for the first delivery, 2 for the first retry, ...
    pub attempt: u32,
    pub published_at: DateTime<Utc>,
    pub event: T,
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type AtLeastOnceFn = dyn Fn(Message<String>) -> BoxFut<anyhow::Result<()>> + Send + Sync;
type ExactlyOnceFn = dyn Fn(Message<String>, Tx) -> BoxFut<anyhow::Result<Tx>> + Send + Sync;

enum Handler {
    AtLeastOnce(Box<AtLeastOnceFn>),
    ExactlyOnce { db: Db, handler: Box<ExactlyOnceFn> },
}

/// A subscription as the dispatcher runs it.
struct Sub {
    name: &'static str,
    topic: &'static str,
    /// Where the topic's outbox lives.
    outbox: Db,
    handler: Handler,
    config: SubscriptionConfig,
    wake: Notify,
    fast: FastLane,
    /// Set when messages went to the database only (no room in memory), so
    /// the dispatcher claims from it before the next poll.
    db_pending: std::sync::atomic::AtomicBool,
}

impl Sub {
    fn ack_deadline_ms(&self) -> i64 {
        i64::try_from(self.config.ack_deadline.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// Messages run in one transaction: several only for an exactly-once
    /// handler delivered in process (NATS messages are forwarded one by one).
    fn group_size(&self, pubsub: &PubSub) -> usize {
        match self.handler {
            Handler::ExactlyOnce { .. } if pubsub.inner.nats.get().is_none() => {
                self.config.group.max(1)
            }
            _ => 1,
        }
    }
}

struct TopicEntry {
    outbox: Option<Db>,
    subscriptions: Vec<Arc<Sub>>,
}

/// The pub/sub runtime of one app: its topics, subscriptions and dispatchers.
#[derive(Clone)]
pub struct PubSub {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Clock,
    metrics: Arc<Metrics>,
    topics: RwLock<HashMap<&'static str, TopicEntry>>,
    stop: watch::Sender<bool>,
    poll: Duration,
    /// Set when NATS JetStream carries the messages; otherwise in-process.
    nats: std::sync::OnceLock<Arc<nats::Nats>>,
    /// Dispatchers and consumers, awaited when draining.
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for PubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let topics: Vec<_> = self.read().keys().copied().collect();
        f.debug_struct("PubSub").field("topics", &topics).finish()
    }
}

/// The publishing side of a topic, bound to the database whose outbox it writes.
pub struct Topic<T> {
    name: &'static str,
    outbox: Db,
    pubsub: PubSub,
    event: PhantomData<fn(T)>,
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            outbox: self.outbox.clone(),
            pubsub: self.pubsub.clone(),
            event: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topic").field("name", &self.name).finish()
    }
}

impl<T: Serialize> Topic<T> {
    /// Publishes inside `tx`: the event is delivered only if `tx` commits.
    pub async fn publish_in(&self, tx: &mut Tx, event: &T) -> anyhow::Result<String> {
        let mut ids = self.publish_all_in(tx, std::slice::from_ref(event)).await?;
        Ok(ids.pop().unwrap_or_default())
    }

    /// Publishes many events inside `tx` in one statement; their ids, in order.
    pub async fn publish_all_in(&self, tx: &mut Tx, events: &[T]) -> anyhow::Result<Vec<String>> {
        anyhow::ensure!(
            tx.db_name() == self.outbox.name(),
            "topic {} publishes through the {} database, not {}",
            self.name,
            self.outbox.name(),
            tx.db_name()
        );
        let now = self.pubsub.inner.clock.now().timestamp_millis();
        let mut messages = Vec::with_capacity(events.len());
        for event in events {
            let payload = serde_json::to_string(event).context("encoding the event")?;
            messages.push((uuid::Uuid::now_v7().to_string(), payload));
        }
        let subs = self.pubsub.subscriptions_of(self.name);
        let mut rows = Vec::with_capacity(messages.len() * subs.len());
        let mut handed = Vec::new();
        let mut by_db = Vec::new();
        for sub in &subs {
            // The running dispatcher of this process takes the message from
            // memory right after the commit, skipping the database claim; the
            // lease keeps other replicas off it unless this one dies.
            let fast = sub.fast.has_room(messages.len());
            let locked_until = if fast { now + sub.ack_deadline_ms() } else { 0 };
            for (id, payload) in &messages {
                rows.push(store::NewRow {
                    message_id: id,
                    subscription: sub.name,
                    payload,
                    locked_until,
                    attempts: i32::from(fast),
                });
            }
            if fast {
                handed.push(Arc::clone(sub));
            } else {
                by_db.push(Arc::clone(sub));
            }
        }
        store::insert(tx, self.name, &rows, now).await?;
        let metrics = Arc::clone(&self.pubsub.inner.metrics);
        let topic = self.name;
        let count = messages.len() as u64;
        let ids: Vec<String> = messages.iter().map(|(id, _)| id.clone()).collect();
        tx.after_commit(move || {
            metrics.pubsub.published(topic, count);
            for sub in handed {
                sub.fast.push(&messages, now, now + sub.ack_deadline_ms());
                sub.wake.notify_one();
            }
            for sub in by_db {
                sub.db_pending
                    .store(true, std::sync::atomic::Ordering::Release);
                sub.wake.notify_one();
            }
        });
        Ok(ids)
    }

    /// The database whose outbox this topic writes: publish inside its transactions.
    pub fn database(&self) -> &Db {
        &self.outbox
    }

    /// Publishes in a transaction of its own.
    pub async fn publish(&self, event: &T) -> anyhow::Result<String> {
        let mut tx = self.outbox.begin().await?;
        let id = self.publish_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// Messages committed by this process, waiting for its own dispatcher: the
/// in-memory path that spares each message a database claim.
#[derive(Default)]
struct FastLane {
    /// Only a running dispatcher drains it.
    open: std::sync::atomic::AtomicBool,
    queue: std::sync::Mutex<std::collections::VecDeque<store::Row>>,
}

/// Past this many waiting messages, new ones go the database way.
const FAST_LANE_CAPACITY: usize = 20_000;

impl FastLane {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<store::Row>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn has_room(&self, count: usize) -> bool {
        self.open.load(std::sync::atomic::Ordering::Acquire)
            && self.lock().len() + count <= FAST_LANE_CAPACITY
    }

    fn push(&self, messages: &[(String, String)], published_at: i64, lease: i64) {
        let mut queue = self.lock();
        for (id, payload) in messages {
            queue.push_back(store::Row {
                message_id: id.clone(),
                payload: payload.clone(),
                published_at,
                attempts: 1,
                lease,
            });
        }
    }

    /// Up to `limit` messages whose lease has at least `margin_ms` left.
    /// Older ones are dropped from memory: their lease runs out and the
    /// database claim delivers them, so that no message runs twice here.
    fn take(&self, limit: usize, now_ms: i64, margin_ms: i64) -> Vec<store::Row> {
        let mut queue = self.lock();
        let mut rows = Vec::with_capacity(limit.min(queue.len()));
        while rows.len() < limit {
            let Some(row) = queue.pop_front() else { break };
            if row.lease - now_ms >= margin_ms {
                rows.push(row);
            }
        }
        rows
    }
}

impl PubSub {
    pub fn new(clock: Clock, metrics: Arc<Metrics>) -> Self {
        Self::with_poll(clock, metrics, Duration::from_millis(500))
    }

    /// `poll` is the safety-net interval at which idle dispatchers look for work.
    pub fn with_poll(clock: Clock, metrics: Arc<Metrics>, poll: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                metrics,
                topics: RwLock::default(),
                stop: watch::Sender::new(false),
                poll,
                nats: std::sync::OnceLock::new(),
                tasks: std::sync::Mutex::default(),
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<&'static str, TopicEntry>> {
        self.inner
            .topics
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<&'static str, TopicEntry>> {
        self.inner
            .topics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn subscriptions_of(&self, topic: &str) -> Vec<Arc<Sub>> {
        self.read()
            .get(topic)
            .map(|t| t.subscriptions.clone())
            .unwrap_or_default()
    }

    /// The publishing handle of `decl`, writing to `outbox`'s database. A
    /// topic has one publishing database; declaring it again elsewhere fails.
    pub fn topic<T>(&self, decl: &'static TopicDecl<T>, outbox: &Db) -> anyhow::Result<Topic<T>> {
        let mut topics = self.write();
        let entry = topics.entry(decl.name).or_insert_with(|| TopicEntry {
            outbox: None,
            subscriptions: Vec::new(),
        });
        match &entry.outbox {
            Some(db) if db.name() != outbox.name() => anyhow::bail!(
                "topic {} already publishes through the {} database",
                decl.name,
                db.name()
            ),
            Some(_) => {}
            None => {
                anyhow::ensure!(
                    entry.subscriptions.is_empty(),
                    "topic {}: declare it before subscribing to it",
                    decl.name
                );
                entry.outbox = Some(outbox.clone());
            }
        }
        Ok(Topic {
            name: decl.name,
            outbox: outbox.clone(),
            pubsub: self.clone(),
            event: PhantomData,
        })
    }

    fn add(
        &self,
        topic: &'static str,
        name: &'static str,
        handler: Handler,
        config: SubscriptionConfig,
    ) -> anyhow::Result<()> {
        let mut topics = self.write();
        let Some(entry) = topics.get_mut(topic) else {
            anyhow::bail!("subscription {name}: topic {topic} is not declared");
        };
        let Some(outbox) = entry.outbox.clone() else {
            anyhow::bail!("subscription {name}: topic {topic} has no publisher");
        };
        let taken = topics
            .values()
            .flat_map(|t| &t.subscriptions)
            .any(|s| s.name == name);
        anyhow::ensure!(!taken, "subscription name {name} is used twice");
        anyhow::ensure!(
            config.max_concurrency > 0,
            "subscription {name}: max_concurrency must be at least 1"
        );
        anyhow::ensure!(
            config.retry.max_attempts > 0,
            "subscription {name}: max_attempts must be at least 1"
        );
        let sub = Arc::new(Sub {
            name,
            topic,
            outbox,
            handler,
            config,
            wake: Notify::new(),
            fast: FastLane::default(),
            db_pending: std::sync::atomic::AtomicBool::new(true),
        });
        if let Some(entry) = topics.get_mut(topic) {
            entry.subscriptions.push(sub);
        }
        Ok(())
    }

    /// Subscribes `name` to an at-least-once topic.
    pub fn subscribe<T, F, Fut>(
        &self,
        decl: &'static TopicDecl<T>,
        name: &'static str,
        config: SubscriptionConfig,
        handler: F,
    ) -> anyhow::Result<()>
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(Message<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        anyhow::ensure!(
            decl.guarantee == Guarantee::AtLeastOnce,
            "topic {} is exactly-once: subscribe with subscribe_exactly_once",
            decl.name
        );
        let handler = Arc::new(handler);
        let run = move |raw: Message<String>| -> BoxFut<anyhow::Result<()>> {
            let handler = Arc::clone(&handler);
            Box::pin(async move { handler(decode(raw)?).await })
        };
        self.add(decl.name, name, Handler::AtLeastOnce(Box::new(run)), config)
    }

    /// Subscribes `name` to an exactly-once topic. The handler gets a
    /// transaction on `db` (the subscriber's database) and returns it; the
    /// dedupe record is written in it, so its effects apply once.
    ///
    /// On SQLite that transaction holds the database's only writer until the
    /// handler returns: write through `tx` (a write through `db` itself would
    /// wait for the handler, which waits for it), and keep slow work such as
    /// network calls before the first write or out of the handler.
    pub fn subscribe_exactly_once<T, F, Fut>(
        &self,
        decl: &'static TopicDecl<T>,
        name: &'static str,
        db: &Db,
        config: SubscriptionConfig,
        handler: F,
    ) -> anyhow::Result<()>
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(Message<T>, Tx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<Tx>> + Send + 'static,
    {
        anyhow::ensure!(
            decl.guarantee == Guarantee::ExactlyOnce,
            "topic {} is at-least-once: subscribe with subscribe",
            decl.name
        );
        let handler = Arc::new(handler);
        let run = move |raw: Message<String>, tx: Tx| -> BoxFut<anyhow::Result<Tx>> {
            let handler = Arc::clone(&handler);
            Box::pin(async move { handler(decode(raw)?, tx).await })
        };
        let handler = Handler::ExactlyOnce {
            db: db.clone(),
            handler: Box::new(run),
        };
        self.add(decl.name, name, handler, config)
    }

    /// Carries messages through NATS JetStream instead of in-process; call
    /// before [`PubSub::start`]. The connection is made when first needed.
    pub fn use_nats(&self, settings: NatsSettings) -> anyhow::Result<()> {
        self.inner
            .nats
            .set(Arc::new(nats::Nats::new(settings)))
            .map_err(|_| anyhow::anyhow!("pub/sub already uses NATS"))
    }

    /// Deletes this app's NATS streams (a no-op when embedded); for tests.
    pub async fn drop_streams(&self) -> anyhow::Result<()> {
        match self.inner.nats.get() {
            Some(nats) => nats.drop_streams().await,
            None => Ok(()),
        }
    }

    /// The transport's name, for logs and the admin API.
    pub fn transport(&self) -> &'static str {
        if self.inner.nats.get().is_some() {
            "nats"
        } else {
            "embedded"
        }
    }

    /// Starts one dispatcher per subscription (and, on NATS, one consumer).
    /// Messages left by an earlier process (a crash after commit) are picked
    /// up at once.
    pub fn start(&self) {
        let mut tasks = Vec::new();
        for sub in self.read().values().flat_map(|t| t.subscriptions.iter()) {
            tasks.push(dispatch::spawn(Arc::clone(sub), self.clone()));
            if let Some(nats) = self.inner.nats.get() {
                tasks.push(tokio::spawn(nats::consume(
                    Arc::clone(sub),
                    self.clone(),
                    Arc::clone(nats),
                )));
            }
        }
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(tasks);
    }

    /// Stops taking messages, then waits up to `grace` for the handlers
    /// running now to finish and their acknowledgements to be written, so
    /// that a clean shutdown delivers nothing twice. Whatever is still
    /// running after that is delivered again later (at-least-once).
    pub async fn drain(&self, grace: Duration) {
        self.stop();
        let tasks = std::mem::take(
            &mut *self
                .inner
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let all = futures_util::future::join_all(tasks);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                ?grace,
                "pub/sub handlers still running at shutdown; their messages will come again"
            );
        }
    }

    /// Stops the dispatchers; handlers already running finish.
    pub fn stop(&self) {
        self.inner.stop.send_replace(true);
    }

    fn all(&self) -> Vec<Arc<Sub>> {
        let mut subs: Vec<_> = self
            .read()
            .values()
            .flat_map(|t| t.subscriptions.iter().cloned())
            .collect();
        subs.sort_by_key(|s| s.name);
        subs
    }

    fn find(&self, name: &str) -> Option<Arc<Sub>> {
        self.all().into_iter().find(|s| s.name == name)
    }

    /// Topic names with their publishing database, sorted.
    pub fn topics(&self) -> Vec<(&'static str, &'static str)> {
        let mut topics: Vec<_> = self
            .read()
            .iter()
            .map(|(name, t)| (*name, t.outbox.as_ref().map_or("", Db::name)))
            .collect();
        topics.sort_unstable();
        topics
    }
}

/// Deletes the exactly-once dedupe records older than `before` from `db`.
/// A message redelivered after that (days later) would be applied again, so
/// keep `before` well past any lease or retry window.
pub async fn prune_processed(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    store::prune_processed(db, before.timestamp_millis()).await
}

fn decode<T: DeserializeOwned>(raw: Message<String>) -> anyhow::Result<Message<T>> {
    let event = serde_json::from_str(&raw.event).context("decoding the event")?;
    Ok(Message {
        id: raw.id,
        attempt: raw.attempt,
        published_at: raw.published_at,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            max_attempts: 5,
        };
        let waits: Vec<u64> = (1..=6).map(|a| policy.backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
    }
}
