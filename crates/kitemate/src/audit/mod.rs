//! The audit log: an append-only record of sensitive actions (payments and
//! tier changes, Zerodha connect and disconnect, key rotation, admin
//! actions, session revocation): who, what, when, from which request and
//! address; never a secret. Services write through [`AuditService`];
//! administrators read it at `GET /admin/audit`, users their own entries at
//! `GET /auth/activity` (those routes belong to admin and auth, which call
//! this service, so nothing here depends on them).

pub mod model;
mod service;
mod store;

use platform::db::DatabaseDecl;
use platform::service::{Declaration, Mount};
use utoipa_axum::router::OpenApiRouter;

pub use model::{AuditEntry, AuditPage, Origin, Record};
pub use service::{AuditQuery, AuditService};

pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "audit",
    sqlite: sqlx::migrate!("src/audit/migrations/sqlite"),
    postgres: sqlx::migrate!("src/audit/migrations/postgres"),
};

pub static SERVICE: Declaration = Declaration {
    name: "audit",
    description: "The audit log of sensitive actions",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[],
    settings: &[],
    spec: || OpenApiRouter::<()>::new().into_openapi(),
};

/// The service has no routes of its own.
pub fn mount() -> Mount {
    Mount::new(&SERVICE, axum::Router::new())
}
