//! Fan-out notices: a notice published on a channel reaches every process
//! that listens to it, for telling caches to forget. Unlike topics, notices
//! are not stored: one that is missed is lost. So a listener also learns
//! when it may have missed some (a [`Notice::Gap`]), and asks
//! [`Fanout::in_sync`] before trusting what it remembers.
//!
//! - In process, a notice reaches this process's listeners at once, bus or not.
//! - Through NATS (core subjects, not JetStream), it reaches every replica.
//!   While the connection is down nothing is in sync; after it comes back,
//!   listeners get a gap first.
//! - Processes sharing a data folder (the server and a `kitemate users …`
//!   command on SQLite) share a stamp file: every notice writes a new stamp,
//!   and a process that finds a stamp it did not see last time has a gap.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::OnceCell;

use super::NatsSettings;

/// What a listener hears.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// A notice's payload.
    Message(&'a [u8]),
    /// Notices may have been missed: forget everything.
    Gap,
}

type Listener = Arc<dyn Fn(Notice<'_>) + Send + Sync>;

/// Notices to every process; cheap to clone.
#[derive(Clone)]
pub struct Fanout {
    inner: Arc<Inner>,
}

struct Inner {
    listeners: RwLock<Vec<(&'static str, Listener)>>,
    nats: Option<Link>,
    stamp: Option<Stamp>,
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout")
            .field("nats", &self.inner.nats.as_ref().map(|l| &l.settings.url))
            .field("stamp", &self.inner.stamp.is_some())
            .finish_non_exhaustive()
    }
}

/// The NATS side: one core connection, subscribed to every channel.
struct Link {
    settings: NatsSettings,
    client: OnceCell<async_nats::Client>,
    /// Connected, subscribed, and no notice dropped since the listeners last had a gap.
    live: AtomicBool,
    /// [`Fanout::start`] subscribed (a command that only publishes never does).
    subscribed: AtomicBool,
}

/// A file of eight bytes that every notice rewrites.
struct Stamp {
    file: File,
    /// What this process read last; a different value means a gap.
    seen: AtomicU64,
    /// Serialises the read-compare-forget of [`Fanout::in_sync`].
    check: Mutex<()>,
}

impl Stamp {
    fn open(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        let stamp = Self {
            file,
            seen: AtomicU64::new(0),
            check: Mutex::new(()),
        };
        let now = stamp.read();
        stamp.seen.store(now, Ordering::Release);
        Ok(stamp)
    }

    /// The stamp now; an unreadable file reads as a value nobody wrote, so
    /// that every check finds a gap rather than trusting a cache.
    fn read(&self) -> u64 {
        let mut bytes = [0u8; 8];
        match self.file.read_exact_at(&mut bytes, 0) {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(_) => rand::random(),
        }
    }

    fn write_new(&self) {
        let value: u64 = rand::random();
        if let Err(err) = self.file.write_all_at(&value.to_le_bytes(), 0) {
            tracing::warn!(error = %err, "fan-out: cannot write the stamp file");
        }
    }
}

impl Fanout {
    /// Notices within this process only.
    pub fn local() -> Self {
        Self::build(None, None)
    }

    /// Notices to every replica through NATS; connects in [`Fanout::start`].
    pub fn nats(settings: NatsSettings) -> Self {
        Self::build(Some(settings), None)
    }

    /// Adds a stamp file shared by the processes using the same data folder.
    pub fn with_stamp(self, path: &Path) -> std::io::Result<Self> {
        let stamp = Stamp::open(path)?;
        let nats = self.inner.nats.as_ref().map(|l| l.settings.clone());
        Ok(Self::build(nats, Some(stamp)))
    }

    fn build(nats: Option<NatsSettings>, stamp: Option<Stamp>) -> Self {
        Self {
            inner: Arc::new(Inner {
                listeners: RwLock::default(),
                nats: nats.map(|settings| Link {
                    settings,
                    client: OnceCell::new(),
                    live: AtomicBool::new(false),
                    subscribed: AtomicBool::new(false),
                }),
                stamp,
            }),
        }
    }

    /// Calls `listener` with every notice on `channel`, and with every gap.
    pub fn listen(
        &self,
        channel: &'static str,
        listener: impl Fn(Notice<'_>) + Send + Sync + 'static,
    ) {
        self.inner
            .listeners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((channel, Arc::new(listener)));
    }

    /// Whether a listener may trust what it remembers: every notice sent so
    /// far has reached it. Cheap enough for every request (an atomic load,
    /// and with a stamp one `pread`).
    pub fn in_sync(&self) -> bool {
        if let Some(link) = &self.inner.nats
            && !link.live.load(Ordering::Acquire)
        {
            return false;
        }
        if let Some(stamp) = &self.inner.stamp {
            let _one = stamp
                .check
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = stamp.read();
            if now != stamp.seen.load(Ordering::Acquire) {
                // Forget first, then remember the stamp: a listener that
                // fills its cache in between is told to forget again.
                self.gap();
                stamp.seen.store(now, Ordering::Release);
            }
        }
        true
    }

    /// Sends `payload` on `channel`: to this process's listeners before it
    /// returns, to other processes as soon as the bus carries it.
    pub async fn publish(&self, channel: &'static str, payload: &[u8]) {
        self.deliver(channel, Notice::Message(payload));
        if let Some(stamp) = &self.inner.stamp {
            stamp.write_new();
        }
        let Some(link) = &self.inner.nats else {
            return;
        };
        let client = match self.client(link).await {
            Ok(client) => client,
            Err(err) => {
                tracing::warn!(error = %err, channel, "fan-out: NATS unreachable; other replicas miss this notice until they reconnect");
                return;
            }
        };
        let subject = subject(&link.settings, channel);
        let sent = async {
            client.publish(subject, payload.to_vec().into()).await?;
            // A command that exits right after must not take the notice with it.
            client.flush().await?;
            anyhow::Ok(())
        };
        match tokio::time::timeout(Duration::from_secs(2), sent).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, channel, "fan-out: publishing failed"),
            Err(_) => tracing::warn!(channel, "fan-out: publishing timed out"),
        }
    }

    /// Connects to NATS and listens to every channel (a no-op in process).
    /// Until the subscription is in place, [`Fanout::in_sync`] is false.
    pub async fn start(&self) -> anyhow::Result<()> {
        let Some(link) = &self.inner.nats else {
            return Ok(());
        };
        let client = self.client(link).await?;
        let wildcard = format!("{}.fanout.>", token(&link.settings.prefix));
        let mut subscription = client.subscribe(wildcard).await?;
        client.flush().await?;
        link.subscribed.store(true, Ordering::Release);
        self.gap();
        link.live.store(true, Ordering::Release);
        let this = self.clone();
        let prefix = format!("{}.fanout.", token(&link.settings.prefix));
        tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                let Some(channel) = message.subject.as_str().strip_prefix(&prefix) else {
                    continue;
                };
                this.deliver(channel, Notice::Message(&message.payload));
            }
            // The client closed: nothing more will be heard.
            if let Some(link) = &this.inner.nats {
                link.live.store(false, Ordering::Release);
            }
        });
        Ok(())
    }

    async fn client<'a>(&'a self, link: &'a Link) -> anyhow::Result<&'a async_nats::Client> {
        link.client
            .get_or_try_init(|| async {
                let weak = Arc::downgrade(&self.inner);
                let client = async_nats::ConnectOptions::new()
                    .name("kitemate-fanout")
                    .no_echo()
                    .connection_timeout(Duration::from_secs(3))
                    .event_callback(move |event| {
                        let weak = weak.clone();
                        async move {
                            if let Some(inner) = weak.upgrade() {
                                Self { inner }.on_event(&event);
                            }
                        }
                    })
                    .connect(link.settings.url.as_str())
                    .await?;
                anyhow::Ok(client)
            })
            .await
    }

    fn on_event(&self, event: &async_nats::Event) {
        let Some(link) = &self.inner.nats else {
            return;
        };
        match event {
            async_nats::Event::Disconnected | async_nats::Event::Closed => {
                link.live.store(false, Ordering::Release);
                self.gap();
            }
            async_nats::Event::SlowConsumer(_) => self.gap(),
            // Resubscribed on reconnecting: what was sent meanwhile is lost.
            async_nats::Event::Connected if link.subscribed.load(Ordering::Acquire) => {
                self.gap();
                link.live.store(true, Ordering::Release);
            }
            _ => {}
        }
    }

    fn gap(&self) {
        for (_, listener) in self.listeners().iter() {
            listener(Notice::Gap);
        }
    }

    fn deliver(&self, channel: &str, notice: Notice<'_>) {
        for (name, listener) in self.listeners().iter() {
            if *name == channel {
                listener(notice);
            }
        }
    }

    fn listeners(&self) -> Vec<(&'static str, Listener)> {
        self.inner
            .listeners
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn subject(settings: &NatsSettings, channel: &str) -> String {
    format!("{}.fanout.{}", token(&settings.prefix), token(channel))
}

/// Subject tokens allow no `.`, `*`, `>` or spaces.
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn counter(fanout: &Fanout, channel: &'static str) -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let (messages, gaps) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (m, g) = (Arc::clone(&messages), Arc::clone(&gaps));
        fanout.listen(channel, move |notice| match notice {
            Notice::Message(_) => {
                m.fetch_add(1, Ordering::SeqCst);
            }
            Notice::Gap => {
                g.fetch_add(1, Ordering::SeqCst);
            }
        });
        (messages, gaps)
    }

    #[tokio::test]
    async fn a_notice_reaches_this_process_at_once_and_only_its_channel() {
        let fanout = Fanout::local();
        let (a, _) = counter(&fanout, "a");
        let (b, _) = counter(&fanout, "b");
        fanout.publish("a", b"x").await;
        assert_eq!(a.load(Ordering::SeqCst), 1);
        assert_eq!(b.load(Ordering::SeqCst), 0);
        assert!(fanout.in_sync());
    }

    #[tokio::test]
    async fn another_process_writing_the_stamp_is_a_gap_once() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("fanout.stamp");
        let server = Fanout::local().with_stamp(&path)?;
        let command = Fanout::local().with_stamp(&path)?;
        let (_, gaps) = counter(&server, "sessions");
        assert!(server.in_sync());
        assert_eq!(gaps.load(Ordering::SeqCst), 0, "nothing was sent yet");
        command.publish("sessions", b"user").await;
        assert!(server.in_sync());
        assert_eq!(gaps.load(Ordering::SeqCst), 1);
        assert!(server.in_sync());
        assert_eq!(gaps.load(Ordering::SeqCst), 1, "one stamp, one gap");
        Ok(())
    }

    #[tokio::test]
    async fn on_nats_nothing_is_in_sync_before_the_subscription_is_in_place() {
        let fanout = Fanout::nats(NatsSettings {
            url: "nats://127.0.0.1:1".into(),
            prefix: "t".into(),
        });
        assert!(!fanout.in_sync());
    }
}
