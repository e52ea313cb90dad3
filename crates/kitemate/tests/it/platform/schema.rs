//! Both backends end their migrations with the same tables and columns.

use kitemate::App;
use platform::clock::Clock;

use crate::support::{Kind, TestResult, test_config};

#[tokio::test]
async fn sqlite_and_postgres_have_the_same_schema() -> TestResult {
    let Some(pg) = Kind::postgres() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let sqlite = App::build(test_config(&Kind::Sqlite, dir.path()), Clock::system()).await?;
    let postgres = App::build(test_config(&pg, dir.path()), Clock::system()).await?;
    assert_eq!(sqlite.databases().len(), postgres.databases().len());
    for (a, b) in sqlite.databases().iter().zip(postgres.databases()) {
        assert_eq!(a.name(), b.name());
        let left = a.schema().await?;
        let right = b.schema().await?;
        assert!(!left.is_empty());
        assert_eq!(left, right, "schema of the {} database differs", a.name());
    }
    sqlite.close().await;
    postgres.close().await;
    postgres.backend.drop_all().await
}
