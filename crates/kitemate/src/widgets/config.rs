//! Settings of the widgets service (`[widgets]` in kitemate.toml,
//! `KITEMATE_WIDGETS__*`): what the Free plan keeps.

use platform::config::ConfigError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetsConfig {
    /// Widgets a Free account keeps; Pro keeps any number.
    pub free_widgets: u32,
    /// Dashboards a Free account keeps; Pro keeps any number.
    pub free_dashboards: u32,
}

impl Default for WidgetsConfig {
    fn default() -> Self {
        Self {
            free_widgets: 10,
            free_dashboards: 1,
        }
    }
}

impl WidgetsConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.free_dashboards == 0 {
            return Err(ConfigError::new(
                "`widgets.free_dashboards`: must be at least 1 (every user gets a starter dashboard)",
            ));
        }
        Ok(())
    }
}
