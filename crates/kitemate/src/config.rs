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
use crate::chat::{ChatConfig, LlmSettings};
use crate::market::{Calendar, MarketConfig, Sources};
use crate::mcp::McpConfig;
use crate::portfolio::PortfolioConfig;
use crate::social::SocialConfig;
use crate::subscriptions::{Providers, SubscriptionsConfig};
use crate::widgets::WidgetsConfig;

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
    "RAZORPAY_KEY_ID",
    "RAZORPAY_KEY_SECRET",
    "RAZORPAY_WEBHOOK_SECRETS",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRETS",
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
    pub portfolio: PortfolioConfig,
    pub market: MarketConfig,
    pub llm: LlmSettings,
    pub chat: ChatConfig,
    pub widgets: WidgetsConfig,
    pub social: SocialConfig,
    pub subscriptions: SubscriptionsConfig,
    pub mcp: McpConfig,
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
            portfolio: PortfolioConfig::default(),
            market: MarketConfig::default(),
            llm: LlmSettings::default(),
            chat: ChatConfig::default(),
            widgets: WidgetsConfig::default(),
            social: SocialConfig::default(),
            mcp: McpConfig::default(),
            subscriptions: SubscriptionsConfig::default(),
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
        self.chat.validate()?;
        self.widgets.validate()?;
        self.social.validate()?;
        self.mcp.validate()?;
        if self.mode == Mode::Production && self.mcp.metadata_from_loopback {
            return Err(ConfigError::new(
                "`mcp.metadata_from_loopback`: for development only; production fetches client metadata over https from public addresses",
            ));
        }
        self.subscriptions.validate()?;
        self.portfolio.validate()?;
        self.market.validate()?;
        Ok(())
    }

    /// Reads the secrets once and builds every client the settings name.
    /// Errors name the setting or secret at fault. In development a missing
    /// encryption or signing key is made and kept in `data_dir/keys`; in
    /// production each is required where it is read.
    pub fn resolve(&self) -> Result<Resolved, ConfigError> {
        let secrets = self.secrets()?;
        let backend = self.backend()?;
        let redis = self.redis()?;
        let nats = self.nats()?;
        let cron_schedules = self.cron_schedules()?;
        let kite = self.kite(&secrets)?;
        let llm = self.llm.resolve(&secrets)?;
        let (objects, signer) = self.objects(&secrets)?;
        let keyring = self.keyring(&secrets)?;
        let payments = self.subscriptions.resolve(&secrets)?;
        let calendar = Calendar::load(self.market.holidays_file.as_deref())
            .map_err(|err| ConfigError::new(format!("{err:#}")))?;
        let sources = self
            .market
            .fetch
            .then(|| Sources::new(&self.market))
            .transpose()
            .map_err(|err| ConfigError::new(format!("`market`: {err:#}")))?;
        Ok(Resolved {
            calendar,
            sources,
            payments,
            backend,
            redis,
            nats,
            cron_schedules,
            kite,
            llm,
            objects,
            signer,
            keyring,
            metrics_token: secrets.get(METRICS_TOKEN),
        })
    }

    /// Where objects live, and the key their URLs are signed with.
    fn objects(&self, secrets: &Secrets) -> Result<(ObjectsBackend, UrlSigner), ConfigError> {
        let objects = &self.objects;
        let signing_key = secrets.get(OBJECT_SIGNING_KEY);
        if objects.s3_bucket.is_empty() {
            let dir = self.data_dir.join("objects");
            let signer = match signing_key {
                Some(key) => UrlSigner::new(key.expose_secret().as_bytes()),
                // Replicas of a production deployment must sign alike.
                None if self.mode == Mode::Production => {
                    return Err(ConfigError::new(format!(
                        "`{OBJECT_SIGNING_KEY}`: required in production mode"
                    )));
                }
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
    fn redis(&self) -> Result<Option<platform::kv::Redis>, ConfigError> {
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
    fn keyring(&self, secrets: &Secrets) -> Result<platform::crypto::Keyring, ConfigError> {
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
    fn kite(&self, secrets: &Secrets) -> Result<Option<kite::Kite>, ConfigError> {
        if self.kite.api_key.is_empty() {
            return Ok(None);
        }
        let secret = secrets.get(KITE_API_SECRET).ok_or_else(|| {
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

    /// The schedules `cron.schedules` sets, parsed.
    fn cron_schedules(&self) -> Result<HashMap<String, Schedule>, ConfigError> {
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
    fn nats(&self) -> Result<Option<NatsSettings>, ConfigError> {
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
    fn secrets(&self) -> Result<Secrets, ConfigError> {
        Secrets::load(self.secrets_file.as_deref())
    }

    /// Which database backend the settings pick.
    fn backend(&self) -> Result<Backend, ConfigError> {
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

/// The settings turned into what the app runs on, once at start.
pub struct Resolved {
    pub backend: Backend,
    pub redis: Option<platform::kv::Redis>,
    pub nats: Option<NatsSettings>,
    pub cron_schedules: HashMap<String, Schedule>,
    pub kite: Option<kite::Kite>,
    pub llm: Option<crate::chat::llm::Llm>,
    pub objects: ObjectsBackend,
    pub signer: UrlSigner,
    pub keyring: platform::crypto::Keyring,
    /// Reads `/metrics` on the main listener; without it that route is off.
    pub metrics_token: Option<secrecy::SecretString>,
    /// The payment providers whose keys are set.
    pub payments: Providers,
    /// NSE's trading days (the shipped list or `market.holidays_file`).
    pub calendar: Calendar,
    /// Downloads of closing prices; `None` when `market.fetch` is off.
    pub sources: Option<Sources>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("backend", &self.backend.kind())
            .field("redis", &self.redis.is_some())
            .field("nats", &self.nats.is_some())
            .field("kite", &self.kite.is_some())
            .field("llm", &self.llm.is_some())
            .field("razorpay", &self.payments.razorpay.is_some())
            .field("stripe", &self.payments.stripe.is_some())
            .finish_non_exhaustive()
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
    /// Production refuses to make up either key, naming the one missing.
    #[test]
    fn production_requires_both_keys() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let key = "KITEMATE_ENCRYPTION_KEY=BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
        let signing = "KITEMATE_OBJECT_SIGNING_KEY=signing-key-of-this-test-32-bytes-long";
        let resolve = |lines: &[&str]| {
            let file = dir.path().join("secrets.env");
            std::fs::write(&file, lines.join("\n"))?;
            let config = Config {
                mode: Mode::Production,
                data_dir: dir.path().join("data"),
                secrets_file: Some(file),
                ..Config::default()
            };
            anyhow::Ok(config.resolve().err().map(|err| err.to_string()))
        };
        let missing_signing = resolve(&[key])?.unwrap_or_default();
        assert!(
            missing_signing.contains("`KITEMATE_OBJECT_SIGNING_KEY`: required in production mode"),
            "{missing_signing}"
        );
        let missing_key = resolve(&[signing])?.unwrap_or_default();
        assert!(
            missing_key.contains("`KITEMATE_ENCRYPTION_KEY`: required in production mode"),
            "{missing_key}"
        );
        assert_eq!(resolve(&[key, signing])?, None, "both given: it starts");
        assert!(
            !dir.path().join("data/keys").exists(),
            "no key was made up in production"
        );
        Ok(())
    }

    /// The payment providers' secrets are secrets, not `KITEMATE_*` settings.
    #[test]
    fn payment_secrets_are_not_read_as_settings() {
        for name in crate::subscriptions::SECRET_NAMES {
            assert!(
                NOT_SETTINGS.contains(name),
                "{name} must be in NOT_SETTINGS"
            );
        }
    }

    /// Each settings section a service declares is a section of `Config`.
    #[test]
    fn declared_settings_sections_exist() -> anyhow::Result<()> {
        let sections = serde_json::to_value(Config::default())?;
        for service in crate::app::SERVICES {
            for section in service.settings {
                assert!(
                    sections
                        .get(section)
                        .is_some_and(serde_json::Value::is_object),
                    "service `{}` declares `[{section}]`, which `Config` lacks",
                    service.name
                );
            }
        }
        Ok(())
    }
}
