//! The MCP service: the authorization server's state and what the tools
//! read through (the portfolio, widgets and chat services, never their
//! tables).

use std::sync::Arc;

use platform::clock::Clock;
use platform::db::Db;
use platform::ratelimit::RateLimiter;

use super::config::McpConfig;
use crate::audit::AuditService;
use crate::auth::AuthService;
use crate::chat::ChatService;
use crate::portfolio::PortfolioService;
use crate::widgets::WidgetService;

/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct McpService {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) db: Db,
    pub(super) clock: Clock,
    pub(super) config: McpConfig,
    /// Without a trailing slash: the issuer, and `/mcp` after it the audience.
    pub(super) public_url: String,
    pub(super) auth: AuthService,
    pub(super) audit: AuditService,
    pub(super) portfolio: PortfolioService,
    pub(super) widgets: WidgetService,
    /// The Free plan's allowance, which tool calls count against.
    pub(super) chat: ChatService,
    /// Tool calls per user and minute.
    pub(super) tool_limiter: RateLimiter,
    /// Whether the app runs in production (cookies `Secure`, no loopback hosts).
    pub(super) production: bool,
}

/// What the MCP service is built from besides its database.
#[derive(Debug, Clone)]
pub struct McpParts {
    pub config: McpConfig,
    pub public_url: String,
    pub auth: AuthService,
    pub audit: AuditService,
    pub portfolio: PortfolioService,
    pub widgets: WidgetService,
    pub chat: ChatService,
    pub tool_limiter: RateLimiter,
    pub production: bool,
}

impl McpService {
    pub fn new(db: Db, clock: Clock, parts: McpParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                clock,
                public_url: parts.public_url.trim_end_matches('/').to_string(),
                config: parts.config,
                auth: parts.auth,
                audit: parts.audit,
                portfolio: parts.portfolio,
                widgets: parts.widgets,
                chat: parts.chat,
                tool_limiter: parts.tool_limiter,
                production: parts.production,
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn config(&self) -> &McpConfig {
        &self.inner.config
    }

    /// The tool-call limiter, for upkeep.
    pub fn tool_limiter(&self) -> &RateLimiter {
        &self.inner.tool_limiter
    }

    pub(super) fn secure_cookies(&self) -> bool {
        self.inner.production
    }
}
