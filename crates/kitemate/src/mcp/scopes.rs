//! The scopes a client may hold: `portfolio:read` (holdings, trades, P&L,
//! tax) and `widgets:read` (the user's widgets and their data). Nothing
//! writes; there is no scope that would.

use std::fmt;

/// Every scope this server knows, in the order they are written.
pub const ALL: &[&str] = &[PORTFOLIO, WIDGETS];
pub const PORTFOLIO: &str = "portfolio:read";
pub const WIDGETS: &str = "widgets:read";

/// A set of known scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes {
    portfolio: bool,
    widgets: bool,
}

impl Scopes {
    pub fn all() -> Self {
        Self {
            portfolio: true,
            widgets: true,
        }
    }

    /// A space-separated scope string; an unknown scope is refused (there
    /// is nothing it could grant).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = Self::default();
        for word in text.split_ascii_whitespace() {
            match word {
                PORTFOLIO => out.portfolio = true,
                WIDGETS => out.widgets = true,
                _ => {
                    return Err(format!(
                        "`{}` is not a scope here ({})",
                        word.chars().take(40).collect::<String>(),
                        ALL.join(", ")
                    ));
                }
            }
        }
        if out == Self::default() {
            return Err(format!("names no scope ({})", ALL.join(", ")));
        }
        Ok(out)
    }

    pub fn has(self, scope: &str) -> bool {
        match scope {
            PORTFOLIO => self.portfolio,
            WIDGETS => self.widgets,
            _ => false,
        }
    }

    /// Whether every scope of `other` is in this one.
    pub fn covers(self, other: Self) -> bool {
        (self.portfolio || !other.portfolio) && (self.widgets || !other.widgets)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = ALL.iter().copied().filter(|s| self.has(s)).collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        let both = Scopes::parse("widgets:read portfolio:read").unwrap_or_default();
        assert_eq!(both.to_string(), "portfolio:read widgets:read");
        assert!(Scopes::parse("orders:write").is_err());
        assert!(Scopes::parse("  ").is_err());
        let one = Scopes::parse("portfolio:read").unwrap_or_default();
        assert!(both.covers(one) && !one.covers(both));
    }
}
