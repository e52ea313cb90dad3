//! The app's settings: defaults, then `kitemate.toml`, then `KITEMATE_*` variables.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use platform::config::{ConfigError, HttpConfig, LogConfig, RateLimitConfig};
use platform::cron::Schedule;
use platform::db::Backend;
use platform::objects::{Backend as ObjectsBackend, S3Settings, UrlSigner};
use platform::pubsub::NatsSettings;
use platform::secrets::{ExposeSecret as _, Secrets};
use serde::{Deserialize, Serialize};

use crate::auth::AuthConfig;

/// `KITEMATE_*` variables that are not settings: the config file's path,
/// secrets, the test suite's services, and the binary the benchmark
/// scripts run (`KITEMATE_BIN`).
const NOT_SETTINGS: &[&str] = &[
    "BIN",
    "CONFIG",
    "ENCRYPTION_KEY",
    "ENCRYPTION_OLD_KEYS",
    "KITE_API_SECRET",
    "METRICS_TOKEN",
    "OBJECT_SIGNING_KEY",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "TEST_DATABASE_URL",
    "TEST_NATS_URL",
    "TEST_REDIS_URL",
    "TEST_S3",
];

/// Secret: seals Kite access tokens at rest (32 bytes, base64).
pub const ENCRYPTION_KEY: &str = "KITEMATE_ENCRYPTION_KEY";
/// Secret: keys that sealed earlier values, comma-separated, while rotating.
pub const ENCRYPTION_OLD_KEYS: &str = "KITEMATE_ENCRYPTION_OLD_KEYS";
/// Secret: the Kite Connect app's API secret.
pub const KITE_API_SECRET: &str = "KITEMATE_KITE_API_SECRET";
/// Secret: lets `GET /metrics` on the main listener be read by whoever sends
/// it as a bearer token; without it `/metrics` there does not exist.
pub const METRICS_TOKEN: &str = "KITEMATE_METRICS_TOKEN";
/// Secret: signs object URLs; every replica needs the same one.
pub const OBJECT_SIGNING_KEY: &str = "KITEMATE_OBJECT_SIGNING_KEY";
/// The chat model's API key, named as the issue and most tools name it.
pub const LLM_API_KEY: &str = "LLM_API_KEY";
/// Secrets: credentials for the S3 store.
pub const S3_ACCESS_KEY_ID: &str = "KITEMATE_S3_ACCESS_KEY_ID";
pub const S3_SECRET_ACCESS_KEY: &str = "KITEMATE_S3_SECRET_ACCESS_KEY";

/// Everything `kitemate` reads at startup, once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `development` makes missing keys itself (with a warning); `production`
    /// refuses to start without them.
    pub mode: Mode,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// A second address serving only `GET /metrics`, without a token (keep
    /// it private: `127.0.0.1:9100`, say); off when left out.
    pub metrics_listen: Option<SocketAddr>,
    /// Folder for the embedded databases and files.
    pub data_dir: PathBuf,
    /// `postgres://user@host:port/prefix` to put every service's database on
    /// PostgreSQL (`prefix_auth`, ...); empty for SQLite files in `data_dir`.
    pub database_url: DatabaseUrl,
    /// `redis://host:6379` to share rate limits and caches between replicas;
    /// empty to keep them in this process's memory.
    pub redis_url: DatabaseUrl,
    /// Prefix of every Redis key this app writes, so apps can share a server.
    pub redis_prefix: String,
    /// `nats://host:4222` to carry pub/sub through NATS JetStream between
    /// replicas; empty to deliver in this process.
    pub nats_url: DatabaseUrl,
    /// Starts every NATS stream and subject this app makes.
    pub nats_prefix: String,
    /// A `KEY=value` file of secrets; the environment wins over it.
    pub secrets_file: Option<PathBuf>,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub rate_limit: RateLimitConfig,
    pub auth: AuthConfig,
    pub objects: ObjectsConfig,
    pub cron: CronConfig,
    pub kite: KiteConfig,
    pub llm: LlmSettings,
    pub chat: ChatConfig,
}

/// Limits on questions, on every plan (`[chat]`, `KITEMATE_CHAT__*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatConfig {
    /// Questions one user may ask a minute, Pro included.
    pub questions_per_minute: u32,
    /// Questions one user may ask at once before the rate applies.
    pub burst: u32,
    /// Questions of one user being answered at the same time.
    pub in_flight: u32,
    /// A chat WebSocket that sends nothing for this long is closed.
    pub socket_idle_secs: u64,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            questions_per_minute: 20,
            burst: 10,
            in_flight: 2,
            socket_idle_secs: 300,
        }
    }
}

/// A language model for chat: any OpenAI-compatible endpoint. With no
/// `base_url`, the built-in engine answers. Its key is the secret
/// `LLM_API_KEY`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// Up to `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    /// For one completion, tool calls included; past it the engine answers.
    pub timeout_ms: u64,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            model: String::new(),
            timeout_ms: 20_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Development,
    Production,
}

/// The Kite Connect app users log in to Zerodha through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KiteConfig {
    /// The app's API key; empty turns "connect Zerodha" off. Its secret is
    /// `KITEMATE_KITE_API_SECRET`.
    pub api_key: String,
    pub api_root: String,
    pub login_root: String,
}

impl Default for KiteConfig {
    fn default() -> Self {
        Self {
            api_key: String::new(),
            api_root: "https://api.kite.trade".into(),
            login_root: "https://kite.zerodha.com".into(),
        }
    }
}

/// Cron settings: schedules an operator moves without a new build.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct CronConfig {
    /// Job name → `every 2h` or `cron 0 18 * * 1-5`, replacing its declared schedule.
    pub schedules: std::collections::BTreeMap<String, String>,
}

/// Where uploaded files live and how their URLs start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectsConfig {
    /// The S3 bucket that holds every KiteMate bucket (each under its own
    /// prefix); empty keeps objects in `data_dir/objects`.
    pub s3_bucket: String,
    /// An S3-compatible endpoint such as `http://127.0.0.1:7480`; empty for AWS.
    pub s3_endpoint: String,
    pub s3_region: String,
    /// Put before every key in the S3 bucket, so deployments can share one.
    pub s3_prefix: String,
    /// How object URLs start, e.g. `https://kitemate.in`; empty for `http://{listen}`.
    pub public_url: String,
}

impl Default for ObjectsConfig {
    fn default() -> Self {
        Self {
            s3_bucket: String::new(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_prefix: String::new(),
            public_url: String::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            metrics_listen: None,
            data_dir: PathBuf::from("./data"),
            database_url: DatabaseUrl::default(),
            redis_url: DatabaseUrl::default(),
            redis_prefix: "kitemate".into(),
            nats_url: DatabaseUrl::default(),
            nats_prefix: "kitemate".into(),
            secrets_file: None,
            log: LogConfig::default(),
            http: HttpConfig::default(),
            rate_limit: RateLimitConfig::default(),
            auth: AuthConfig::default(),
            objects: ObjectsConfig::default(),
            cron: CronConfig::default(),
            kite: KiteConfig::default(),
            llm: LlmSettings::default(),
            chat: ChatConfig::default(),
            mode: Mode::default(),
        }
    }
}

impl Config {
    /// Reads `file` (when present) and the environment, then checks the values.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let config: Self = platform::config::load(file, "KITEMATE_", NOT_SETTINGS)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.http.body_limit == 0 {
            return Err(ConfigError::new(
                "`http.body_limit`: must be more than 0 bytes",
            ));
        }
        for origin in &self.http.cors_origins {
            let scheme_ok = origin.starts_with("https://") || origin.starts_with("http://");
            if !scheme_ok || origin.ends_with('/') || origin.chars().any(char::is_whitespace) {
                return Err(ConfigError::new(format!(
                    "`http.cors_origins`: {origin:?} is not an origin like https://app.example.com"
                )));
            }
        }
        if self.http.timeout_secs == 0 {
            return Err(ConfigError::new("`http.timeout_secs`: must be at least 1"));
        }
        self.auth.validate()?;
        for (name, value) in [
            (
                "questions_per_minute",
                u64::from(self.chat.questions_per_minute),
            ),
            ("burst", u64::from(self.chat.burst)),
            ("in_flight", u64::from(self.chat.in_flight)),
            ("socket_idle_secs", self.chat.socket_idle_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::new(format!(
                    "`chat.{name}`: must be at least 1"
                )));
            }
        }
        self.secrets()?;
        self.redis()?;
        self.nats()?;
        self.cron_schedules()?;
        self.kite()?;
        if self.mode == Mode::Production {
            if self.secrets()?.get(ENCRYPTION_KEY).is_none() {
                return Err(ConfigError::new(format!(
                    "`{ENCRYPTION_KEY}`: required in production mode"
                )));
            }
            if self.secrets()?.get(OBJECT_SIGNING_KEY).is_none() {
                return Err(ConfigError::new(format!(
                    "`{OBJECT_SIGNING_KEY}`: required in production mode"
                )));
            }
        }
        if !self.objects.s3_bucket.is_empty() {
            // The embedded store's key is made on first use, not by checking settings.
            self.objects()?;
        }
        self.backend().map(|_| ())
    }

    /// The token that reads `/metrics` on the main listener, if one is set.
    pub fn metrics_token(&self) -> Result<Option<secrecy::SecretString>, ConfigError> {
        Ok(self.secrets()?.get(METRICS_TOKEN))
    }

    /// Where objects live, and the key their URLs are signed with.
    pub fn objects(&self) -> Result<(ObjectsBackend, UrlSigner), ConfigError> {
        let secrets = self.secrets()?;
        let objects = &self.objects;
        let signing_key = secrets.get(OBJECT_SIGNING_KEY);
        if objects.s3_bucket.is_empty() {
            let dir = self.data_dir.join("objects");
            let signer = match signing_key {
                Some(key) => UrlSigner::new(key.expose_secret().as_bytes()),
                None => UrlSigner::load_or_create(&self.data_dir.join("keys/object-signing.key")),
            }
            .map_err(|err| ConfigError::new(format!("`{OBJECT_SIGNING_KEY}`: {err:#}")))?;
            return Ok((ObjectsBackend::Local { dir }, signer));
        }
        if !objects.s3_endpoint.is_empty()
            && !objects.s3_endpoint.starts_with("http://")
            && !objects.s3_endpoint.starts_with("https://")
        {
            return Err(ConfigError::new(
                "`objects.s3_endpoint`: must start with http:// or https://",
            ));
        }
        let need = |name: &str| {
            secrets.get(name).ok_or_else(|| {
                ConfigError::new(format!(
                    "`{name}`: required when `objects.s3_bucket` is set"
                ))
            })
        };
        // Replicas must sign alike, so S3 deployments cannot make up a key each.
        let signer = UrlSigner::new(need(OBJECT_SIGNING_KEY)?.expose_secret().as_bytes())
            .map_err(|err| ConfigError::new(format!("`{OBJECT_SIGNING_KEY}`: {err:#}")))?;
        let settings = S3Settings {
            bucket: objects.s3_bucket.clone(),
            endpoint: objects.s3_endpoint.clone(),
            region: objects.s3_region.clone(),
            prefix: objects.s3_prefix.clone(),
            access_key_id: need(S3_ACCESS_KEY_ID)?.expose_secret().to_string(),
            secret_access_key: need(S3_SECRET_ACCESS_KEY)?,
        };
        Ok((ObjectsBackend::S3(settings), signer))
    }

    /// How object URLs start.
    pub fn public_url(&self) -> String {
        if self.objects.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.objects.public_url.clone()
        }
    }

    /// The Redis server limits and caches share, if one is configured.
    pub fn redis(&self) -> Result<Option<platform::kv::Redis>, ConfigError> {
        let url = self.redis_url.expose();
        if url.is_empty() {
            return Ok(None);
        }
        if !url.starts_with("redis://") {
            return Err(ConfigError::new(
                "`redis_url`: only redis:// URLs are supported",
            ));
        }
        platform::kv::Redis::new(url, &self.redis_prefix)
            .map(Some)
            .map_err(|err| ConfigError::new(format!("`redis_url`: {err:#}")))
    }

    /// The keys that seal secrets at rest. In development a missing key is
    /// made and kept in `data_dir/keys`; production requires one.
    pub fn keyring(&self) -> Result<platform::crypto::Keyring, ConfigError> {
        let secrets = self.secrets()?;
        let named = |err: anyhow::Error| ConfigError::new(format!("`{ENCRYPTION_KEY}`: {err:#}"));
        match secrets.get(ENCRYPTION_KEY) {
            Some(key) => {
                platform::crypto::Keyring::new(&key, secrets.get(ENCRYPTION_OLD_KEYS).as_ref())
                    .map_err(named)
            }
            None if self.mode == Mode::Production => Err(ConfigError::new(format!(
                "`{ENCRYPTION_KEY}`: required in production mode (32 random bytes, base64: `openssl rand -base64 32`)"
            ))),
            None => {
                let path = self.data_dir.join("keys/encryption.key");
                tracing::warn!(path = %path.display(), "no {ENCRYPTION_KEY}: using a key kept in the data folder");
                platform::crypto::Keyring::load_or_create(&path).map_err(named)
            }
        }
    }

    /// The Kite Connect client, when an API key is configured.
    pub fn kite(&self) -> Result<Option<kite::Kite>, ConfigError> {
        if self.kite.api_key.is_empty() {
            return Ok(None);
        }
        let secret = self.secrets()?.get(KITE_API_SECRET).ok_or_else(|| {
            ConfigError::new(format!(
                "`{KITE_API_SECRET}`: required when `kite.api_key` is set"
            ))
        })?;
        let mut config = kite::Config::new(self.kite.api_key.clone(), secret);
        config.api_root = self.kite.api_root.trim_end_matches('/').to_string();
        config.login_root = self.kite.login_root.trim_end_matches('/').to_string();
        kite::Kite::new(config)
            .map(Some)
            .map_err(|err| ConfigError::new(format!("`kite`: {err}")))
    }

    /// The chat model, when `llm.base_url` is set.
    pub fn llm(&self) -> Result<Option<crate::chat::llm::Llm>, ConfigError> {
        if self.llm.base_url.is_empty() {
            return Ok(None);
        }
        if self.llm.model.is_empty() {
            return Err(ConfigError::new(
                "`llm.model`: required when `llm.base_url` is set",
            ));
        }
        let api_key = self.secrets()?.get(LLM_API_KEY).ok_or_else(|| {
            ConfigError::new(format!(
                "`{LLM_API_KEY}`: required when `llm.base_url` is set"
            ))
        })?;
        crate::chat::llm::Llm::new(crate::chat::llm::LlmConfig {
            base_url: self.llm.base_url.clone(),
            model: self.llm.model.clone(),
            api_key,
            timeout: std::time::Duration::from_millis(self.llm.timeout_ms),
        })
        .map(Some)
        .map_err(|err| ConfigError::new(format!("`llm`: {err}")))
    }

    /// The schedules `cron.schedules` sets, parsed.
    pub fn cron_schedules(&self) -> Result<HashMap<String, Schedule>, ConfigError> {
        self.cron
            .schedules
            .iter()
            .map(|(name, text)| {
                Schedule::parse(text)
                    .map(|schedule| (name.clone(), schedule))
                    .map_err(|err| ConfigError::new(format!("`cron.schedules.{name}`: {err}")))
            })
            .collect()
    }

    /// The NATS server pub/sub goes through, if one is configured.
    pub fn nats(&self) -> Result<Option<NatsSettings>, ConfigError> {
        let url = self.nats_url.expose();
        if url.is_empty() {
            return Ok(None);
        }
        if !url.starts_with("nats://") {
            return Err(ConfigError::new(
                "`nats_url`: only nats:// URLs are supported",
            ));
        }
        let prefix_ok = !self.nats_prefix.is_empty()
            && self
                .nats_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !prefix_ok {
            return Err(ConfigError::new(
                "`nats_prefix`: use letters, digits, - and _ only",
            ));
        }
        Ok(Some(NatsSettings {
            url: url.to_string(),
            prefix: self.nats_prefix.clone(),
        }))
    }

    /// The secrets: the environment, then `secrets_file` when one is set.
    pub fn secrets(&self) -> Result<Secrets, ConfigError> {
        Secrets::load(self.secrets_file.as_deref())
    }

    /// Which database backend the settings pick.
    pub fn backend(&self) -> Result<Backend, ConfigError> {
        let url = self.database_url.expose();
        if url.is_empty() {
            return Ok(Backend::Sqlite {
                dir: self.data_dir.clone(),
            });
        }
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(ConfigError::new(
                "`database_url`: only postgres:// URLs are supported (leave it empty for SQLite)",
            ));
        }
        Backend::postgres(url).map_err(|err| ConfigError::new(format!("`database_url`: {err:#}")))
    }
}

/// A database or Redis URL: it may hold a password, so its Debug output hides it.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL itself, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // postgres://user:secret@host/db -> postgres://user:***@host/db
        let url = &self.0;
        let redacted = match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let userinfo = &url[scheme + 3..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                    None => url.clone(),
                }
            }
            _ => url.clone(),
        };
        f.write_str(&redacted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_never_print() {
        let url = DatabaseUrl::new("postgres://kite:hunter2@db.internal:5432/kitemate");
        let printed = format!(
            "{url:?} {:?}",
            Config {
                database_url: url.clone(),
                ..Config::default()
            }
        );
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(
            printed.contains("postgres://kite:***@db.internal:5432/kitemate"),
            "{printed}"
        );
    }
}
