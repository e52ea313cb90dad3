//! The production transport: NATS JetStream. The outbox still takes every
//! event inside the publisher's transaction; its dispatcher forwards each
//! row to the topic's stream (one stream per topic, one subject per
//! subscription), and a durable pull consumer per subscription, shared by
//! every replica, runs the handlers.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, AckKind, consumer, stream};
use chrono::DateTime;
use futures_util::StreamExt as _;
use tokio::sync::{OnceCell, Semaphore};

use super::store::{self, Row};
use super::{Message, PubSub, Sub, dispatch};

const ID: &str = "Kitemate-Id";
const PUBLISHED_AT: &str = "Kitemate-Published-At";

/// Where the NATS server is, and the prefix that keeps apps sharing it apart.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// e.g. `nats://127.0.0.1:4222`
    pub url: String,
    /// Starts every stream name and subject: `{prefix}.{topic}.{subscription}`.
    pub prefix: String,
}

pub(super) struct Nats {
    settings: NatsSettings,
    js: OnceCell<jetstream::Context>,
    /// Streams this process has made sure exist.
    streams: Mutex<HashSet<&'static str>>,
}

impl std::fmt::Debug for Nats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nats")
            .field("url", &self.settings.url)
            .finish()
    }
}

/// Stream names allow no `.`, `*`, `>` or spaces; topic names are kebab-case.
fn token(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Nats {
    pub(super) fn new(settings: NatsSettings) -> Self {
        Self {
            settings,
            js: OnceCell::new(),
            streams: Mutex::default(),
        }
    }

    async fn context(&self) -> anyhow::Result<&jetstream::Context> {
        self.js
            .get_or_try_init(|| async {
                let client = async_nats::ConnectOptions::new()
                    .name("kitemate")
                    .connection_timeout(Duration::from_secs(3))
                    .connect(self.settings.url.as_str())
                    .await
                    .with_context(|| format!("connecting to NATS at {}", self.settings.url))?;
                Ok(jetstream::new(client))
            })
            .await
    }

    fn stream_name(&self, topic: &str) -> String {
        format!("{}_{}", token(&self.settings.prefix), token(topic))
    }

    fn subject(&self, topic: &str, subscription: &str) -> String {
        format!(
            "{}.{}.{}",
            token(&self.settings.prefix),
            token(topic),
            token(subscription)
        )
    }

    async fn stream(&self, topic: &'static str) -> anyhow::Result<stream::Stream> {
        let js = self.context().await?;
        let config = stream::Config {
            name: self.stream_name(topic),
            subjects: vec![format!(
                "{}.{}.*",
                token(&self.settings.prefix),
                token(topic)
            )],
            // Each subject has exactly one consumer, so a message can go as
            // soon as that consumer acknowledges it.
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            ..Default::default()
        };
        let stream = js
            .get_or_create_stream(config)
            .await
            .with_context(|| format!("creating the NATS stream of topic {topic}"))?;
        self.streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(topic);
        Ok(stream)
    }

    /// Sends one outbox row to its subscription's subject and waits for
    /// JetStream to have stored it; only then may the row be deleted.
    pub(super) async fn forward(&self, sub: &Sub, row: &Row) -> anyhow::Result<()> {
        let known = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(sub.topic);
        if !known {
            self.stream(sub.topic).await?;
        }
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(ID, row.message_id.as_str());
        headers.insert(PUBLISHED_AT, row.published_at.to_string().as_str());
        self.context()
            .await?
            .publish_with_headers(
                self.subject(sub.topic, sub.name),
                headers,
                row.payload.clone().into(),
            )
            .await?
            .await
            .context("JetStream did not store the message")?;
        Ok(())
    }

    async fn consumer(
        &self,
        sub: &Sub,
    ) -> anyhow::Result<consumer::Consumer<consumer::pull::Config>> {
        let stream = self.stream(sub.topic).await?;
        let config = consumer::pull::Config {
            durable_name: Some(token(sub.name)),
            filter_subject: self.subject(sub.topic, sub.name),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: sub.config.ack_deadline,
            // Attempts are counted here, so that the last one dead-letters.
            max_deliver: -1,
            max_ack_pending: i64::try_from(sub.config.max_concurrency).unwrap_or(i64::MAX),
            ..Default::default()
        };
        Ok(stream
            .get_or_create_consumer(&token(sub.name), config)
            .await?)
    }

    /// Messages in JetStream not yet handled by `sub` (waiting or in flight).
    pub(super) async fn pending(&self, sub: &Sub) -> anyhow::Result<i64> {
        let stream = self.stream(sub.topic).await?;
        match stream.consumer_info(token(sub.name)).await {
            Ok(info) => Ok(i64::try_from(info.num_pending).unwrap_or(i64::MAX)
                + i64::try_from(info.num_ack_pending).unwrap_or(i64::MAX)),
            Err(err) if err.to_string().contains("not found") => Ok(0),
            Err(err) => Err(err.into()),
        }
    }
}

impl Nats {
    /// Deletes every stream under this prefix; for tests that share a server.
    pub(super) async fn drop_streams(&self) -> anyhow::Result<()> {
        let js = self.context().await?;
        let start = format!("{}_", token(&self.settings.prefix));
        let mut names = js.stream_names();
        let mut mine = Vec::new();
        while let Some(name) = names.next().await {
            let name = name?;
            if name.starts_with(&start) {
                mine.push(name);
            }
        }
        for name in mine {
            js.delete_stream(&name).await?;
        }
        Ok(())
    }
}

/// Runs `sub`'s handlers on its durable consumer until the app stops,
/// reconnecting after errors.
pub(super) async fn consume(sub: Arc<Sub>, pubsub: PubSub, nats: Arc<Nats>) {
    let slots = Arc::new(Semaphore::new(sub.config.max_concurrency));
    pull(&sub, &pubsub, &nats, &slots).await;
    // Stopping: the handlers running now finish and acknowledge first.
    let all = u32::try_from(sub.config.max_concurrency).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

async fn pull(sub: &Arc<Sub>, pubsub: &PubSub, nats: &Nats, slots: &Arc<Semaphore>) {
    let mut stop = pubsub.inner.stop.subscribe();
    while !*stop.borrow() {
        let messages = match nats.consumer(sub).await {
            Ok(consumer) => consumer
                .stream()
                .max_messages_per_batch(sub.config.max_concurrency.min(256))
                .messages()
                .await
                .map_err(anyhow::Error::from),
            Err(err) => Err(err),
        };
        let mut messages = match messages {
            Ok(messages) => messages,
            Err(err) => {
                tracing::warn!(
                    subscription = sub.name,
                    error = format!("{err:#}"),
                    "cannot consume from NATS"
                );
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = stop.changed() => return,
                }
            }
        };
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                _ = stop.changed() => return,
            };
            match next {
                Some(Ok(message)) => {
                    let Ok(permit) = Arc::clone(slots).acquire_owned().await else {
                        return;
                    };
                    let (sub, pubsub) = (Arc::clone(sub), pubsub.clone());
                    tokio::spawn(async move {
                        deliver(&sub, &pubsub, message).await;
                        drop(permit);
                    });
                }
                Some(Err(err)) => {
                    tracing::warn!(subscription = sub.name, error = %err, "NATS consumer error");
                }
                None => break,
            }
        }
    }
}

async fn deliver(sub: &Sub, pubsub: &PubSub, message: jetstream::Message) {
    let metrics = &pubsub.inner.metrics.pubsub;
    let attempt = message.info().map_or(1, |info| info.delivered);
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_string())
    };
    let id = header(ID).unwrap_or_default();
    let published_at = header(PUBLISHED_AT)
        .and_then(|t| t.parse().ok())
        .unwrap_or_default();
    let payload = String::from_utf8_lossy(&message.payload).into_owned();
    let max_attempts = i64::from(sub.config.retry.max_attempts);
    let original = &message;
    let bury = |attempts: i64, error: String| {
        let row = store::DeadRow {
            message_id: id.clone(),
            payload: payload.clone(),
            published_at,
            attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
            last_error: Some(error),
        };
        async move {
            metrics.dead_lettered(sub.name);
            let now = pubsub.inner.clock.now().timestamp_millis();
            match store::bury(&sub.outbox, sub.topic, sub.name, &row, now).await {
                // Stored as a dead letter: JetStream may drop it.
                Ok(()) => ack(original, AckKind::Term).await,
                Err(err) => {
                    tracing::error!(subscription = sub.name, error = %err, "cannot dead-letter a message")
                }
            }
        }
    };
    if attempt > max_attempts {
        // Earlier deliveries never answered (a hung handler or a dead replica).
        bury(attempt - 1, dispatch::NO_ANSWER.to_string()).await;
        return;
    }
    let delivery = Message {
        id: id.clone(),
        attempt: u32::try_from(attempt).unwrap_or(1),
        published_at: DateTime::from_timestamp_millis(published_at).unwrap_or_default(),
        event: payload.clone(),
    };
    match dispatch::run_within_deadline(sub, pubsub, delivery).await {
        Ok(()) => {
            ack(&message, AckKind::Ack).await;
            metrics.delivered(sub.name, 1);
        }
        Err(err) => {
            metrics.failed(sub.name);
            let error = format!("{err:#}");
            let dead = attempt >= max_attempts;
            tracing::warn!(subscription = sub.name, message_id = %id, attempt, dead, error, "handler failed");
            if dead {
                bury(attempt, error).await;
            } else {
                let wait = sub
                    .config
                    .retry
                    .backoff(u32::try_from(attempt).unwrap_or(1));
                ack(&message, AckKind::Nak(Some(wait))).await;
            }
        }
    }
}

async fn ack(message: &jetstream::Message, kind: AckKind) {
    if let Err(err) = message.ack_with(kind).await {
        // The ack wait runs out and the message comes again: at-least-once holds.
        tracing::warn!(error = %err, "cannot acknowledge a NATS message");
    }
}
