//! Configuration: built-in defaults, then an optional TOML file, then `PREFIX_*`
//! environment variables (`__` nests: `KITEMATE_LOG__LEVEL`), read once into typed structs.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One line that names the setting and says what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Loads `T` from its `Default`, then `file` when it exists, then the environment.
///
/// Unknown keys are errors, so that a misspelt setting is not silently
/// ignored; `not_settings` lists the prefixed variables that are something
/// else (a secret, the config file's path, a test's setting).
pub fn load<T>(file: &Path, env_prefix: &str, not_settings: &[&str]) -> Result<T, ConfigError>
where
    T: DeserializeOwned + Serialize + Default,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if file.exists() {
        figment = figment.merge(Toml::file(file));
    }
    figment
        .merge(Env::prefixed(env_prefix).ignore(not_settings).split("__"))
        .extract()
        .map_err(|err| {
            // figment reports one error per problem; the first is the one to fix.
            let first = err.into_iter().next();
            ConfigError(first.map_or_else(|| "unreadable configuration".into(), describe))
        })
}

fn describe(err: figment::Error) -> String {
    let key = err.path.join(".");
    let source = err
        .metadata
        .as_ref()
        .map(|m| match &m.source {
            Some(source) => format!(" (from {} {source})", m.name),
            None => format!(" (from {})", m.name),
        })
        .unwrap_or_default();
    if key.is_empty() {
        format!("{}{source}", err.kind)
    } else {
        format!("`{key}`: {}{source}", err.kind)
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for a log collector.
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `kitemate=debug,sqlx=warn`.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Human,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes, unless a route says otherwise.
    pub body_limit: usize,
    /// Seconds a request may take before it is answered 504 `deadline_exceeded`.
    pub timeout_secs: u64,
    /// Origins allowed by CORS, e.g. `["https://app.kitemate.in"]`. None by default.
    pub cors_origins: Vec<String>,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// Seconds in-flight requests get to finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            timeout_secs: 30,
            cors_origins: Vec::new(),
            trust_forwarded_for: false,
            shutdown_grace_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Requests per minute one client IP may make to public endpoints.
    pub per_ip_per_minute: u32,
    /// Requests one client IP may make at once before the rate applies.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            per_ip_per_minute: 120,
            burst: 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Sample {
        port: u16,
        log: LogConfig,
    }

    #[test]
    fn a_bad_file_value_names_the_key() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("x.toml");
        std::fs::write(&file, "port = \"abc\"\n")?;
        let err = load::<Sample>(&file, "PLATFORM_TEST_UNUSED_", &[]).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("`port`"), "{text}");
        assert!(text.contains("x.toml"), "{text}");
        Ok(())
    }
}
