//! How the other services take part in a user's export and deletion:
//! each implements [`AccountData`] and subscribes to `user-deleted` with
//! [`forget_deleted_users`]. Auth runs the parts (`account.rs`) without
//! depending on the services that depend on it.

use std::future::Future;

use futures_util::future::BoxFuture;
use platform::ApiError;
use platform::archive::ArchiveWriter;
use platform::db::{Db, Tx};
use platform::pubsub::{PubSub, SubscriptionConfig};

use super::events::{USER_DELETED, UserDeleted};

/// A service's part in a user's export and deletion.
pub trait AccountPart: Send + Sync + std::fmt::Debug + 'static {
    /// Writes what this service holds about `user_id` into `archive`, in
    /// files under a folder named for the service, a page at a time.
    fn export(
        &self,
        user_id: &str,
        archive: &mut ArchiveWriter,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Runs before the account is deleted (a subscription is cancelled at
    /// its provider); an error stops the deletion and is what the user sees.
    fn before_deletion(&self, user_id: &str) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = user_id;
        async { Ok(()) }
    }
}

/// [`AccountPart`] as auth keeps the parts: one list of any services.
pub trait AccountData: Send + Sync + std::fmt::Debug {
    fn export<'a>(
        &'a self,
        user_id: &'a str,
        archive: &'a mut ArchiveWriter,
    ) -> BoxFuture<'a, anyhow::Result<()>>;

    fn before_deletion<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<(), ApiError>>;
}

impl<T: AccountPart> AccountData for T {
    fn export<'a>(
        &'a self,
        user_id: &'a str,
        archive: &'a mut ArchiveWriter,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(AccountPart::export(self, user_id, archive))
    }

    fn before_deletion<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(AccountPart::before_deletion(self, user_id))
    }
}

/// Subscribes `name` to `user-deleted`, exactly once, on `db` (the
/// subscriber's own database): `forget` deletes in the transaction it is
/// given what the service keeps about the user, and hands it back.
pub fn forget_deleted_users<F, Fut>(
    pubsub: &PubSub,
    name: &'static str,
    db: &Db,
    forget: F,
) -> anyhow::Result<()>
where
    F: Fn(UserDeleted, Tx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Tx>> + Send + 'static,
{
    pubsub.subscribe_exactly_once(
        &USER_DELETED,
        name,
        db,
        SubscriptionConfig::default(),
        move |msg, tx| forget(msg.event, tx),
    )
}
