//! What a service declares about itself, next to its code, and what it hands
//! the app once built: the app iterates one list of these instead of naming
//! each service's databases, buckets, tag and routes itself.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::db::{Backend, DatabaseDecl, Db};
use crate::objects::BucketDecl;
use crate::ratelimit::RateLimiter;

/// A service's fixed facts, as a `static` in its module (`SERVICE`).
#[derive(Debug)]
pub struct Declaration {
    /// Its OpenAPI tag, and the name it goes by in logs and docs.
    pub name: &'static str,
    /// The tag's description in the API docs.
    pub description: &'static str,
    /// Databases it owns; no other service touches their tables.
    pub databases: &'static [&'static DatabaseDecl],
    /// Object-store buckets it owns.
    pub buckets: &'static [&'static BucketDecl],
    /// Pub/sub topics it publishes (subscribers declare themselves with
    /// `PubSub::subscribe`, beside their handler).
    pub topics: &'static [&'static str],
    /// Its sections of `kitemate.toml` (and so of `KITEMATE_{SECTION}__*`).
    pub settings: &'static [&'static str],
    /// Its routes as the API spec shows them: no state or I/O needed.
    pub spec: fn() -> utoipa::openapi::OpenApi,
}

/// A built service, as the app mounts it.
pub struct Mount {
    pub declaration: &'static Declaration,
    /// Its routes, state attached, limits layered on as it wants them.
    pub routes: axum::Router,
    /// Its own rate limiters, whose idle clients the app sweeps.
    pub limiters: Vec<RateLimiter>,
}

impl Mount {
    pub fn new(declaration: &'static Declaration, routes: impl Into<axum::Router>) -> Self {
        Self {
            declaration,
            routes: routes.into(),
            limiters: Vec::new(),
        }
    }

    #[must_use]
    pub fn with_limiter(mut self, limiter: RateLimiter) -> Self {
        self.limiters.push(limiter);
        self
    }
}

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount")
            .field("service", &self.declaration.name)
            .finish_non_exhaustive()
    }
}

/// Every database the services declare, handles made but not opened.
#[derive(Debug, Clone)]
pub struct Databases {
    by_name: HashMap<&'static str, Db>,
    /// In declaration order, for opening and closing; shared, not copied,
    /// with whatever needs them all (readiness, pruning).
    all: Arc<[Db]>,
}

impl Databases {
    /// Handles for every database in `services`; a name declared twice is an error.
    pub fn lazy(backend: &Backend, services: &[&'static Declaration]) -> anyhow::Result<Self> {
        let mut by_name = HashMap::new();
        let mut all = Vec::new();
        for service in services {
            for decl in service.databases {
                anyhow::ensure!(
                    !by_name.contains_key(decl.name),
                    "database `{}` is declared twice (again by service `{}`)",
                    decl.name,
                    service.name
                );
                let db = backend.lazy(decl)?;
                by_name.insert(decl.name, db.clone());
                all.push(db);
            }
        }
        Ok(Self {
            by_name,
            all: all.into(),
        })
    }

    /// The database `decl` names; an error when no service declared it.
    pub fn get(&self, decl: &DatabaseDecl) -> anyhow::Result<Db> {
        self.by_name.get(decl.name).cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "database `{}` is used but no service declares it",
                decl.name
            )
        })
    }

    pub fn all(&self) -> &[Db] {
        &self.all
    }

    /// Every database, shared.
    pub fn shared(&self) -> Arc<[Db]> {
        Arc::clone(&self.all)
    }
}

/// Every bucket in `services`, for the object store.
pub fn buckets(services: &[&'static Declaration]) -> Vec<&'static BucketDecl> {
    services
        .iter()
        .flat_map(|service| service.buckets.iter().copied())
        .collect()
}

/// Checks that the built services are the declared ones, in the same order,
/// so the served routes and the published spec cannot drift apart.
pub fn check_mounts(declared: &[&'static Declaration], mounts: &[Mount]) -> anyhow::Result<()> {
    let declared: Vec<&str> = declared.iter().map(|d| d.name).collect();
    let built: Vec<&str> = mounts.iter().map(|m| m.declaration.name).collect();
    anyhow::ensure!(
        declared == built,
        "services built {built:?} differ from those declared {declared:?}"
    );
    Ok(())
}

/// Checks that the topics the built services publish (`published`, from
/// `PubSub::topics`) are the ones they declare, so a declaration cannot
/// go stale.
pub fn check_topics<'a>(
    declared: &[&'static Declaration],
    published: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<()> {
    let declared: BTreeSet<&str> = declared
        .iter()
        .flat_map(|d| d.topics.iter().copied())
        .collect();
    let published: BTreeSet<&str> = published.into_iter().collect();
    anyhow::ensure!(
        declared == published,
        "topics published {published:?} differ from those the services declare {declared:?}"
    );
    Ok(())
}
