//! Stores answers in groups: concurrent questions' records go to the
//! database together, in one transaction, instead of one transaction each
//! queueing for SQLite's single writer (group commit).

use std::sync::{Arc, OnceLock};

use platform::ApiError;
use platform::db::Db;
use tokio::sync::{mpsc, oneshot};

use super::store::{self, Op, Record};

/// Records stored in one transaction, at most.
const BATCH: usize = 64;

type Reply = oneshot::Sender<Result<Option<i64>, String>>;

#[derive(Debug, Clone)]
pub struct Recorder {
    db: Db,
    queue: Arc<OnceLock<mpsc::Sender<(Op, Reply)>>>,
}

impl Recorder {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            queue: Arc::default(),
        }
    }

    /// Stores `record` with whatever else is waiting: the questions used
    /// after it when it counts, else 0.
    pub async fn record(&self, record: Record) -> Result<i64, ApiError> {
        Ok(self
            .apply(Op::Record(Box::new(record)))
            .await?
            .unwrap_or_default())
    }

    /// Takes a question from the allowance before anything is spent on it.
    pub async fn reserve(
        &self,
        user_id: &str,
        month: &str,
        limit: i64,
    ) -> Result<Option<i64>, ApiError> {
        self.apply(Op::Reserve {
            user_id: user_id.to_string(),
            month: month.to_string(),
            limit,
        })
        .await
    }

    /// Gives a reserved question back.
    pub async fn refund(&self, user_id: &str, month: &str) -> Result<(), ApiError> {
        self.apply(Op::Refund {
            user_id: user_id.to_string(),
            month: month.to_string(),
        })
        .await
        .map(drop)
    }

    async fn apply(&self, op: Op) -> Result<Option<i64>, ApiError> {
        // Started on first use, inside the runtime.
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(BATCH * 4);
            tokio::spawn(run(self.db.clone(), rx));
            tx
        });
        let (done, result) = oneshot::channel();
        let stopped = || ApiError::unavailable("the server is stopping");
        queue.send((op, done)).await.map_err(|_| stopped())?;
        result
            .await
            .map_err(|_| stopped())?
            .map_err(|err| ApiError::internal(anyhow::anyhow!("storing an answer: {err}")))
    }
}

/// Takes what is waiting (at least one), stores it together, replies to each.
async fn run(db: Db, mut rx: mpsc::Receiver<(Op, Reply)>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (records, replies): (Vec<Op>, Vec<Reply>) = batch.into_iter().unzip();
        match store::apply_all(&db, &records).await {
            Ok(used) => {
                for (reply, used) in replies.into_iter().zip(used) {
                    let _ = reply.send(Ok(used));
                }
            }
            // One bad record (its conversation deleted meanwhile, say) must
            // not fail the others: each is tried alone.
            Err(_) if records.len() > 1 => {
                for (record, reply) in records.into_iter().zip(replies) {
                    let alone = store::apply_all(&db, std::slice::from_ref(&record)).await;
                    let _ = reply.send(
                        alone
                            .map(|used| used.into_iter().next().flatten())
                            .map_err(|err| err.to_string()),
                    );
                }
            }
            Err(err) => {
                for reply in replies {
                    let _ = reply.send(Err(err.to_string()));
                }
            }
        }
    }
}
