//! Dispatchers: lease due messages, run handlers within the concurrency
//! limit, then acknowledge in batches or schedule a retry.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};

use super::store::{self, Row};
use super::{Handler, Message, PubSub, Sub};

/// Most messages leased or acknowledged in one statement.
const BATCH: usize = 512;

/// How long handled messages wait to be acknowledged together. A message
/// handled but not yet acknowledged is delivered again only after a crash.
const ACK_LINGER: Duration = Duration::from_millis(10);

/// One subscription's figures, as `GET /admin/pubsub` shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionStats {
    pub name: &'static str,
    pub topic: &'static str,
    pub guarantee: super::Guarantee,
    pub max_concurrency: usize,
    pub max_attempts: u32,
    /// Handled successfully by this process since it started.
    pub delivered: u64,
    /// Failed attempts in this process since it started.
    pub failed: u64,
    /// Waiting to be delivered or retried (all replicas).
    pub backlog: i64,
    /// Out of retries, waiting for an administrator (all replicas).
    pub dead_letters: i64,
}

/// A message that ran out of retries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub message_id: String,
    pub published_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// The event as published.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

struct Outcome {
    message_id: String,
    attempts: i32,
    lease: i64,
    result: anyhow::Result<()>,
}

/// Why a message that came back more often than its attempts allow is dead.
pub(super) const NO_ANSWER: &str =
    "no answer from the handler in any of its attempts (it hung, or the process stopped)";

/// Dead-letters a message that came back more often than its attempts allow.
async fn give_up(sub: &Sub, pubsub: &PubSub, row: &Row) {
    pubsub.inner.metrics.pubsub.dead_lettered(sub.name);
    let error = NO_ANSWER;
    let now = pubsub.inner.clock.now().timestamp_millis();
    if let Err(err) = store::fail(
        &sub.outbox,
        sub.name,
        &row.message_id,
        row.lease,
        now,
        true,
        error,
    )
    .await
    {
        tracing::error!(subscription = sub.name, error = %err, "cannot dead-letter a message");
    }
}

/// How soon a message NATS did not take is offered to it again. Relaying
/// is not the handler's attempt: it never counts toward dead-lettering.
const RELAY_RETRY: Duration = Duration::from_secs(1);

/// Starts the dispatcher of `sub`. The returned task ends once the app
/// stops and every message in hand has been handled and acknowledged.
pub(super) fn spawn(sub: Arc<Sub>, pubsub: PubSub) -> tokio::task::JoinHandle<()> {
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let acks = tokio::spawn(acknowledge(Arc::clone(&sub), pubsub.clone(), done_rx));
    tokio::spawn(lease(sub, pubsub, done_tx));
    acks
}

/// Leases due messages whenever handler slots are free, and runs them.
async fn lease(sub: Arc<Sub>, pubsub: PubSub, done: mpsc::UnboundedSender<Outcome>) {
    let slots = Arc::new(Semaphore::new(sub.config.max_concurrency));
    let mut stop = pubsub.inner.stop.subscribe();
    let clock = pubsub.inner.clock.clone();
    let lease_ms = sub.ack_deadline_ms();
    sub.fast
        .open
        .store(true, std::sync::atomic::Ordering::Release);
    let mut last_claim = tokio::time::Instant::now() - pubsub.inner.poll;
    while !*stop.borrow() {
        let free = slots.available_permits().min(BATCH);
        // Messages this process committed come from memory. The database is
        // asked at every poll interval (retries, other replicas' messages,
        // those of a dead process) and at once when messages went there only.
        let now = clock.now().timestamp_millis();
        let mut rows = sub.fast.take(free, now, lease_ms / 2);
        let poll_due = last_claim.elapsed() >= pubsub.inner.poll;
        let want_db = poll_due
            || sub
                .db_pending
                .swap(false, std::sync::atomic::Ordering::AcqRel);
        if rows.len() < free && want_db {
            let want = free - rows.len();
            match store::claim(&sub.outbox, sub.name, now, now + lease_ms, want as i64).await {
                Ok(claimed) => {
                    last_claim = tokio::time::Instant::now();
                    if claimed.len() == want {
                        // There may be more waiting: ask again straight away.
                        sub.db_pending
                            .store(true, std::sync::atomic::Ordering::Release);
                    }
                    let relaying = pubsub.inner.nats.get().is_some();
                    for row in claimed {
                        if !relaying
                            && u32::try_from(row.attempts).unwrap_or(u32::MAX)
                                > sub.config.retry.max_attempts
                        {
                            // Earlier deliveries never answered (the handler hung or
                            // the process died): out of attempts all the same.
                            give_up(&sub, &pubsub, &row).await;
                        } else {
                            rows.push(row);
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(subscription = sub.name, error = %err, "cannot lease messages")
                }
            }
        }
        let full = rows.len() == free && free > 0;
        let group = sub.group_size(&pubsub);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Row> = rows.by_ref().take(group).collect();
            let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                return;
            };
            let (sub, pubsub, done) = (Arc::clone(&sub), pubsub.clone(), done.clone());
            tokio::spawn(async move {
                let heads: Vec<_> = chunk
                    .iter()
                    .map(|row| (row.message_id.clone(), row.attempts, row.lease))
                    .collect();
                let results = if chunk.len() == 1 {
                    let row = chunk.into_iter().next().into_iter();
                    let mut one = Vec::with_capacity(1);
                    for row in row {
                        one.push(handle(&sub, &pubsub, row).await);
                    }
                    one
                } else {
                    handle_group(&sub, &pubsub, chunk).await
                };
                for ((message_id, attempts, lease), result) in heads.into_iter().zip(results) {
                    let _ = done.send(Outcome {
                        message_id,
                        attempts,
                        lease,
                        result,
                    });
                }
                drop(permit);
            });
        }
        if full {
            continue;
        }
        // Nothing more due (or no free slot): wait for a commit, a finished
        // handler freeing a slot, or the safety-net poll that also picks up retries.
        tokio::select! {
            () = sub.wake.notified() => {}
            () = tokio::time::sleep(pubsub.inner.poll) => {}
            _ = stop.changed() => {}
        }
    }
    sub.fast
        .open
        .store(false, std::sync::atomic::Ordering::Release);
}

/// Delivers one outbox row: to the handler, or on to NATS when that is the transport.
async fn handle(sub: &Sub, pubsub: &PubSub, row: Row) -> anyhow::Result<()> {
    if let Some(nats) = pubsub.inner.nats.get() {
        let deadline = sub.config.ack_deadline;
        return tokio::time::timeout(deadline, nats.forward(sub, &row))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("NATS did not answer within {deadline:?}")));
    }
    run_within_deadline(sub, pubsub, message_of(row)).await
}

fn message_of(row: Row) -> Message<String> {
    Message {
        attempt: u32::try_from(row.attempts).unwrap_or(1),
        published_at: DateTime::from_timestamp_millis(row.published_at).unwrap_or_default(),
        id: row.message_id,
        event: row.payload,
    }
}

/// Runs an exactly-once subscription's handler on several messages in one
/// transaction (one commit, one turn of the writer), each with its dedupe
/// record. If any fails, nothing of the group is kept and each message runs
/// again alone, so one bad message fails by itself.
async fn handle_group(sub: &Arc<Sub>, pubsub: &PubSub, rows: Vec<Row>) -> Vec<anyhow::Result<()>> {
    let deadline = sub.config.ack_deadline;
    let together = {
        let (sub, rows) = (Arc::clone(sub), rows.clone());
        let now = pubsub.inner.clock.now().timestamp_millis();
        // A task of its own, so a panicking handler is a failed group.
        let task = tokio::spawn(async move {
            let Handler::ExactlyOnce { db, handler } = &sub.handler else {
                anyhow::bail!("only exactly-once handlers run in groups");
            };
            let mut tx = db.begin().await?;
            for row in rows {
                let message = message_of(row);
                if store::mark_processed(&mut tx, sub.name, &message.id, now).await? {
                    tx = handler(message, tx).await?;
                }
            }
            tx.commit().await.map_err(anyhow::Error::from)
        });
        let mut task = task;
        let together = tokio::time::timeout(deadline, &mut task).await;
        if together.is_err() {
            // Too slow: stop it before each message runs alone (its
            // dedupe records would only make those wait and then skip).
            task.abort();
        }
        together
    };
    match together {
        Ok(Ok(Ok(()))) => rows.iter().map(|_| Ok(())).collect(),
        failed => {
            if let Ok(Ok(Err(err))) = &failed {
                tracing::info!(subscription = sub.name, error = %err, "a group failed; its messages run alone");
            }
            let mut results = Vec::with_capacity(rows.len());
            for row in rows {
                results.push(run_within_deadline(sub, pubsub, message_of(row)).await);
            }
            results
        }
    }
}

/// Runs the handler, failing the attempt when it outlasts the ack deadline.
pub(super) async fn run_within_deadline(
    sub: &Sub,
    pubsub: &PubSub,
    message: Message<String>,
) -> anyhow::Result<()> {
    let deadline = sub.config.ack_deadline;
    tokio::time::timeout(deadline, run(sub, pubsub, message))
        .await
        .unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "no answer within the ack deadline of {deadline:?}"
            ))
        })
}

async fn run(sub: &Sub, pubsub: &PubSub, message: Message<String>) -> anyhow::Result<()> {
    // A panicking handler is a failed attempt, not a dead dispatcher.
    let task = match &sub.handler {
        Handler::AtLeastOnce(handler) => tokio::spawn(handler(message)),
        Handler::ExactlyOnce { db, handler } => {
            let mut tx = db.begin().await?;
            let now = pubsub.inner.clock.now().timestamp_millis();
            if !store::mark_processed(&mut tx, sub.name, &message.id, now).await? {
                return Ok(()); // applied before; the rollback keeps nothing
            }
            let run = handler(message, tx);
            tokio::spawn(async move { run.await?.commit().await.map_err(anyhow::Error::from) })
        }
    };
    task.await
        .map_err(|err| anyhow::anyhow!("handler panicked: {err}"))?
}

/// Collects handler outcomes; deletes handled messages in batches and
/// schedules retries or dead-letters failures.
async fn acknowledge(sub: Arc<Sub>, pubsub: PubSub, mut done: mpsc::UnboundedReceiver<Outcome>) {
    let clock = pubsub.inner.clock.clone();
    let metrics = &pubsub.inner.metrics.pubsub;
    let mut batch = Vec::with_capacity(BATCH);
    while done.recv_many(&mut batch, BATCH).await > 0 {
        // Linger a moment so that one statement acknowledges many messages:
        // on SQLite every write queues behind the single writer connection.
        if batch.len() < BATCH {
            tokio::time::sleep(ACK_LINGER).await;
            while batch.len() < BATCH {
                match done.try_recv() {
                    Ok(outcome) => batch.push(outcome),
                    Err(_) => break,
                }
            }
        }
        let now = clock.now();
        let relaying = pubsub.inner.nats.get().is_some();
        let mut handled = Vec::with_capacity(batch.len());
        for outcome in batch.drain(..) {
            match outcome.result {
                Ok(()) => handled.push(outcome.message_id),
                Err(err) if relaying => {
                    tracing::warn!(subscription = sub.name, message_id = %outcome.message_id, error = format!("{err:#}"), "cannot forward to NATS; trying again");
                    let next = now.timestamp_millis()
                        + i64::try_from(RELAY_RETRY.as_millis()).unwrap_or(1_000);
                    let error = format!("{err:#}");
                    if let Err(err) = store::fail(
                        &sub.outbox,
                        sub.name,
                        &outcome.message_id,
                        outcome.lease,
                        next,
                        false,
                        &error,
                    )
                    .await
                    {
                        tracing::error!(subscription = sub.name, error = %err, "cannot record a failed relay");
                    }
                }
                Err(err) => {
                    metrics.failed(sub.name);
                    let attempts = outcome.attempts;
                    let dead = u32::try_from(attempts).unwrap_or(u32::MAX)
                        >= sub.config.retry.max_attempts;
                    let wait = sub
                        .config
                        .retry
                        .backoff(u32::try_from(attempts).unwrap_or(1));
                    let next = now.timestamp_millis()
                        + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                    let error = format!("{err:#}");
                    tracing::warn!(subscription = sub.name, message_id = %outcome.message_id, attempts, dead, error, "handler failed");
                    if dead {
                        metrics.dead_lettered(sub.name);
                    }
                    if let Err(err) = store::fail(
                        &sub.outbox,
                        sub.name,
                        &outcome.message_id,
                        outcome.lease,
                        next,
                        dead,
                        &error,
                    )
                    .await
                    {
                        tracing::error!(subscription = sub.name, error = %err, "cannot record a failed delivery");
                    }
                }
            }
        }
        if let Err(err) = store::ack(&sub.outbox, sub.name, &handled).await {
            // The lease runs out and the messages come again: at-least-once holds.
            tracing::error!(subscription = sub.name, error = %err, "cannot acknowledge messages");
            continue;
        }
        if pubsub.inner.nats.get().is_none() {
            // Forwarded to NATS is not delivered yet: the consumer counts that.
            metrics.delivered(sub.name, handled.len() as u64);
        }
        sub.wake.notify_one();
    }
}

impl PubSub {
    /// Every subscription's figures, sorted by name.
    pub async fn stats(&self) -> anyhow::Result<Vec<SubscriptionStats>> {
        let mut out = Vec::new();
        for sub in self.all() {
            let backlog = self.backlog(&sub).await?;
            let (_, dead_letters) = store::counts(&sub.outbox, sub.name).await?;
            let metrics = &self.inner.metrics.pubsub;
            out.push(SubscriptionStats {
                name: sub.name,
                topic: sub.topic,
                guarantee: match sub.handler {
                    Handler::AtLeastOnce(_) => super::Guarantee::AtLeastOnce,
                    Handler::ExactlyOnce { .. } => super::Guarantee::ExactlyOnce,
                },
                max_concurrency: sub.config.max_concurrency,
                max_attempts: sub.config.retry.max_attempts,
                delivered: metrics.delivered_count(sub.name),
                failed: metrics.failed_count(sub.name),
                backlog,
                dead_letters,
            });
            metrics.set_backlog(sub.name, backlog);
        }
        Ok(out)
    }

    /// Messages of `sub` not yet handled: in the outbox, and in NATS when
    /// that is the transport.
    async fn backlog(&self, sub: &Sub) -> anyhow::Result<i64> {
        let (outbox, _) = store::counts(&sub.outbox, sub.name).await?;
        let relayed = match self.inner.nats.get() {
            Some(nats) => nats.pending(sub).await?,
            None => 0,
        };
        Ok(outbox + relayed)
    }

    /// The dead letters of `subscription` (at most `limit`), or `None` when
    /// there is no such subscription.
    pub async fn dead_letters(
        &self,
        subscription: &str,
        limit: i64,
    ) -> Result<Option<Vec<DeadLetter>>, sqlx::Error> {
        let Some(sub) = self.find(subscription) else {
            return Ok(None);
        };
        let rows = store::dead_letters(&sub.outbox, sub.name, limit).await?;
        Ok(Some(
            rows.into_iter()
                .map(|row| DeadLetter {
                    event: serde_json::from_str(&row.payload)
                        .unwrap_or(serde_json::Value::String(row.payload)),
                    message_id: row.message_id,
                    published_at: DateTime::from_timestamp_millis(row.published_at)
                        .unwrap_or_default(),
                    attempts: row.attempts,
                    last_error: row.last_error,
                })
                .collect(),
        ))
    }

    /// Gives every dead letter of `subscription` a fresh set of attempts.
    pub async fn redeliver(&self, subscription: &str) -> Result<Option<u64>, sqlx::Error> {
        let Some(sub) = self.find(subscription) else {
            return Ok(None);
        };
        let now = self.inner.clock.now().timestamp_millis();
        let count = store::redeliver(&sub.outbox, sub.name, now).await?;
        sub.db_pending
            .store(true, std::sync::atomic::Ordering::Release);
        sub.wake.notify_one();
        Ok(Some(count))
    }

    /// Waits until no subscription has messages waiting (dead letters aside),
    /// checking every few milliseconds; for tests and benchmarks.
    pub async fn drained(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut waiting = 0;
            for sub in self.all() {
                waiting += self.backlog(&sub).await?;
            }
            if waiting == 0 {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "{waiting} messages still waiting"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
