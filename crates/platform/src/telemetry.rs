//! Tracing setup: human-readable or JSON lines, filtered by the configured level.

use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, LogConfig, LogFormat};

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(config: &LogConfig) -> Result<(), ConfigError> {
    let filter = EnvFilter::try_new(&config.level)
        .map_err(|err| ConfigError::new(format!("`log.level`: {err}")))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match config.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    // A second init (tests start many apps in one process) keeps the first subscriber.
    let _ = result;
    Ok(())
}
