//! Secrets from the environment or a `KEY=value` secrets file, held so they never print.

use std::collections::HashMap;
use std::path::Path;

pub use secrecy::{ExposeSecret, SecretString};

use crate::config::ConfigError;

/// Named secrets. The environment wins over the file.
#[derive(Default)]
pub struct Secrets {
    from_file: HashMap<String, SecretString>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.from_file.keys().collect();
        names.sort();
        f.debug_struct("Secrets")
            .field("file_keys", &names)
            .finish()
    }
}

impl Secrets {
    /// Reads the secrets file when one is given; it must exist and parse.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(file) = file else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(file).map_err(|err| {
            ConfigError::new(format!(
                "`secrets_file`: cannot read {}: {err}",
                file.display()
            ))
        })?;
        let mut from_file = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(ConfigError::new(format!(
                    "`secrets_file`: line {} of {} is not KEY=value",
                    index + 1,
                    file.display()
                )));
            };
            let value = value.trim().trim_matches('"');
            from_file.insert(
                key.trim().to_string(),
                SecretString::from(value.to_string()),
            );
        }
        Ok(Self { from_file })
    }

    /// The secret called `name`, from the environment or the file.
    pub fn get(&self, name: &str) -> Option<SecretString> {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(SecretString::from)
            .or_else(|| self.from_file.get(name).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_secrets_are_read_and_never_printed() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("secrets.env");
        std::fs::write(&file, "# comment\nPLATFORM_TEST_SECRET=\"hunter2\"\n")?;
        let secrets = Secrets::load(Some(&file))?;
        let secret = secrets.get("PLATFORM_TEST_SECRET");
        assert_eq!(secret.as_ref().map(|s| s.expose_secret()), Some("hunter2"));
        assert!(!format!("{secret:?} {secrets:?}").contains("hunter2"));
        Ok(())
    }
}
