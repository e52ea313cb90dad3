//! Cron as Encore has it, plus time zones: a job is a name, a title, a
//! schedule and a function. Across replicas one runs each tick: the run row's
//! unique (job, tick) is the lease. Every run is recorded, and any job can be
//! run by hand.

mod schedule;
mod store;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

pub use schedule::{Schedule, ScheduleError, time_zone};

use crate::clock::Clock;
use crate::db::Db;

type BoxFut = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type JobFn = dyn Fn(Progress) -> BoxFut + Send + Sync;

/// How far a run has come: the step it is on and its count of work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct RunProgress {
    pub step: String,
    pub done: u64,
    pub total: u64,
}

/// Handed to a job that reports its progress: `/admin/cron` shows the
/// last report (stored with the run's heartbeat), `kitemate cron run`
/// draws it as a bar.
#[derive(Debug, Clone)]
pub struct Progress {
    tx: Arc<watch::Sender<Option<RunProgress>>>,
}

impl Progress {
    /// A report no run keeps: for driving a job's work outside cron.
    pub fn detached() -> Self {
        Self::new()
    }

    fn new() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(None)),
        }
    }

    /// The run is at `done` of `total` in `step`.
    pub fn set(&self, step: &str, done: u64, total: u64) {
        self.tx.send_replace(Some(RunProgress {
            step: step.to_string(),
            done,
            total,
        }));
    }

    /// Follows the reports.
    pub fn watch(&self) -> watch::Receiver<Option<RunProgress>> {
        self.tx.subscribe()
    }

    fn current(&self) -> Option<String> {
        self.tx
            .borrow()
            .as_ref()
            .and_then(|p| serde_json::to_string(p).ok())
    }
}

struct Job {
    name: &'static str,
    title: &'static str,
    schedule: Schedule,
    tz: Tz,
    run: Box<JobFn>,
}

/// A job as `kitemate cron list` and `GET /admin/cron` show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    pub name: &'static str,
    pub title: &'static str,
    /// `every 1h` or `cron 0 18 * * 1-5`.
    pub schedule: String,
    /// IANA name, such as `Asia/Kolkata`.
    pub time_zone: String,
    pub next_run: Option<DateTime<Utc>>,
    /// The next run in the job's time zone, as RFC 3339 with its offset.
    pub next_run_local: Option<String>,
    /// The newest run, going or done (see [`Cron::jobs_with_last_runs`]).
    pub last_run: Option<RunInfo>,
}

/// One run of a job.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunInfo {
    pub id: String,
    pub job: String,
    /// The tick it ran for; the request time for runs started by hand.
    pub tick_at: DateTime<Utc>,
    pub manual: bool,
    /// The replica that ran it.
    pub runner: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// running, succeeded, failed or abandoned.
    pub outcome: String,
    pub error: Option<String>,
    /// The job's last report of how far it had come (as of its last heartbeat).
    pub progress: Option<RunProgress>,
}

fn ms_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl From<store::RunRow> for RunInfo {
    fn from(row: store::RunRow) -> Self {
        Self {
            id: row.id,
            job: row.job,
            tick_at: ms_to_time(row.tick_at),
            manual: row.manual,
            runner: row.runner,
            started_at: ms_to_time(row.started_at),
            finished_at: row.finished_at.map(ms_to_time),
            outcome: row.outcome,
            error: row.error,
            progress: row
                .progress
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
        }
    }
}

/// The scheduler of one app: its jobs and the database their runs go in.
#[derive(Clone)]
pub struct Cron {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: Clock,
    /// This process, as recorded on the runs it makes.
    runner: String,
    jobs: RwLock<Vec<Arc<Job>>>,
    /// Schedules set by the operator, replacing the declared ones.
    overrides: std::sync::Mutex<HashMap<String, Schedule>>,
    stop: watch::Sender<bool>,
    /// The progress of the runs going in this process, by run id.
    live: std::sync::Mutex<HashMap<String, Progress>>,
    heartbeat: Duration,
    stale_after: Duration,
}

impl std::fmt::Debug for Cron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cron")
            .field("runner", &self.inner.runner)
            .field("jobs", &self.jobs().len())
            .finish()
    }
}

impl Cron {
    /// Runs are recorded in `db`. A run beats every 5 s; one silent for 20 s
    /// counts as abandoned, so a dead replica holds up at most one tick.
    pub fn new(db: Db, clock: Clock) -> Self {
        Self::with_timing(db, clock, Duration::from_secs(5), Duration::from_secs(20))
    }

    pub fn with_timing(db: Db, clock: Clock, heartbeat: Duration, stale_after: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                clock,
                runner: format!("{}-{}", hostname(), uuid::Uuid::now_v7().simple()),
                jobs: RwLock::default(),
                overrides: std::sync::Mutex::default(),
                stop: watch::Sender::new(false),
                live: std::sync::Mutex::default(),
                heartbeat,
                stale_after,
            }),
        }
    }

    fn list(&self) -> Vec<Arc<Job>> {
        self.inner
            .jobs
            .read()
            .map(|jobs| jobs.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn find(&self, name: &str) -> Option<Arc<Job>> {
        self.list().into_iter().find(|j| j.name == name)
    }

    /// Declares a job. Names are unique; the schedule and time zone were
    /// checked when they were parsed.
    pub fn add<F, Fut>(
        &self,
        name: &'static str,
        title: &'static str,
        schedule: Schedule,
        tz: Tz,
        run: F,
    ) -> anyhow::Result<()>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.add_reporting(name, title, schedule, tz, move |_| run())
    }

    /// [`Cron::add`] for a job that reports its progress.
    pub fn add_reporting<F, Fut>(
        &self,
        name: &'static str,
        title: &'static str,
        schedule: Schedule,
        tz: Tz,
        run: F,
    ) -> anyhow::Result<()>
    where
        F: Fn(Progress) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        anyhow::ensure!(
            self.find(name).is_none(),
            "cron job {name} is declared twice"
        );
        let schedule = self
            .inner
            .overrides
            .lock()
            .map_err(|_| anyhow::anyhow!("cron overrides poisoned"))?
            .remove(name)
            .unwrap_or(schedule);
        let job = Arc::new(Job {
            name,
            title,
            schedule,
            tz,
            run: Box::new(move |progress| -> BoxFut { Box::pin(run(progress)) }),
        });
        self.inner
            .jobs
            .write()
            .map_err(|_| anyhow::anyhow!("cron registry poisoned"))?
            .push(job);
        Ok(())
    }

    /// Replaces the declared schedules of the named jobs; call before the
    /// jobs are added, then [`Cron::check_overrides`] once they are.
    pub fn override_schedules(&self, schedules: HashMap<String, Schedule>) {
        if let Ok(mut overrides) = self.inner.overrides.lock() {
            *overrides = schedules;
        }
    }

    /// Fails naming any overridden job that was never declared.
    pub fn check_overrides(&self) -> anyhow::Result<()> {
        let overrides = self
            .inner
            .overrides
            .lock()
            .map_err(|_| anyhow::anyhow!("cron overrides poisoned"))?;
        let mut unknown: Vec<&str> = overrides.keys().map(String::as_str).collect();
        unknown.sort_unstable();
        match unknown.first() {
            None => Ok(()),
            Some(name) => anyhow::bail!("no cron job is called {name}"),
        }
    }

    /// Every job with its next run, sorted by name.
    pub fn jobs(&self) -> Vec<JobInfo> {
        let now = self.inner.clock.now();
        let mut jobs: Vec<JobInfo> = self
            .list()
            .iter()
            .map(|job| {
                let next = job.schedule.next_after(now, job.tz);
                JobInfo {
                    name: job.name,
                    title: job.title,
                    schedule: job.schedule.describe(),
                    time_zone: job.tz.name().to_string(),
                    next_run: next,
                    next_run_local: next.map(|t| t.with_timezone(&job.tz).to_rfc3339()),
                    last_run: None,
                }
            })
            .collect();
        jobs.sort_by_key(|j| j.name);
        jobs
    }

    /// [`Cron::jobs`], each with its newest run.
    pub async fn jobs_with_last_runs(&self) -> Result<Vec<JobInfo>, sqlx::Error> {
        let mut jobs = self.jobs();
        for job in &mut jobs {
            job.last_run = store::runs(&self.inner.db, job.name, 1)
                .await?
                .into_iter()
                .next()
                .map(RunInfo::from);
        }
        Ok(jobs)
    }

    /// Starts one scheduler loop per job.
    pub fn start(&self) {
        for job in self.list() {
            let cron = self.clone();
            tokio::spawn(async move { cron.schedule_loop(job).await });
        }
    }

    pub fn stop(&self) {
        self.inner.stop.send_replace(true);
    }

    async fn schedule_loop(&self, job: Arc<Job>) {
        let mut stop = self.inner.stop.subscribe();
        while !*stop.borrow() {
            let now = self.inner.clock.now();
            let Some(next) = job.schedule.next_after(now, job.tz) else {
                tracing::warn!(
                    job = job.name,
                    "the schedule has no next run; asking again in a minute"
                );
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(60)) => continue,
                    _ = stop.changed() => return,
                }
            };
            let wait = (next - now).to_std().unwrap_or_default();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
            if let Err(err) = self.tick(&job, next).await {
                tracing::error!(job = job.name, error = %err, "cron tick failed");
            }
        }
    }

    /// Is a run of `job` alive? Runs whose heartbeat went stale are marked
    /// abandoned first, so a dead replica's run does not hold the job.
    async fn still_running(&self, job: &str, now: i64) -> Result<bool, sqlx::Error> {
        let stale_ms = i64::try_from(self.inner.stale_after.as_millis()).unwrap_or(i64::MAX);
        let alive_since = now.saturating_sub(stale_ms);
        store::abandon_stale(&self.inner.db, job, alive_since, now).await?;
        store::running(&self.inner.db, job, alive_since).await
    }

    /// Takes the tick unless another replica has it or the last run is still going.
    async fn tick(&self, job: &Arc<Job>, tick_at: DateTime<Utc>) -> anyhow::Result<()> {
        let db = &self.inner.db;
        let now = self.inner.clock.now().timestamp_millis();
        if self.still_running(job.name, now).await? {
            tracing::info!(
                job = job.name,
                "the previous run is still going; skipping this tick"
            );
            return Ok(());
        }
        let id = uuid::Uuid::now_v7().to_string();
        let run = store::NewRun {
            id: &id,
            job: job.name,
            tick_at: tick_at.timestamp_millis(),
            manual: false,
            runner: &self.inner.runner,
            now,
        };
        if store::start(db, &run).await? {
            let cron = self.clone();
            let job = Arc::clone(job);
            tokio::spawn(async move { cron.execute(job, id).await });
        }
        Ok(())
    }

    /// Runs `job` now, by hand; returns its run record (still running) at
    /// once, or `None` when there is no such job.
    pub async fn run_now(
        &self,
        name: &str,
    ) -> anyhow::Result<Option<(RunInfo, tokio::task::JoinHandle<()>)>> {
        let Some(job) = self.find(name) else {
            return Ok(None);
        };
        let now = self.inner.clock.now().timestamp_millis();
        if self.still_running(job.name, now).await? {
            return Err(AlreadyRunning(job.name).into());
        }
        let id = uuid::Uuid::now_v7().to_string();
        let run = store::NewRun {
            id: &id,
            job: job.name,
            tick_at: now,
            manual: true,
            runner: &self.inner.runner,
            now,
        };
        anyhow::ensure!(
            store::start(&self.inner.db, &run).await?,
            "could not record the run"
        );
        let info = store::run(&self.inner.db, &id)
            .await?
            .map(RunInfo::from)
            .ok_or_else(|| anyhow::anyhow!("the run vanished"))?;
        // Registered before the run starts, so the caller can follow it from its first report.
        if let Ok(mut live) = self.inner.live.lock() {
            live.insert(id.clone(), Progress::new());
        }
        let cron = self.clone();
        let handle = tokio::spawn(async move { cron.execute(job, id).await });
        Ok(Some((info, handle)))
    }

    /// The progress of a run going in this process (for `kitemate cron run`).
    pub fn progress(&self, run_id: &str) -> Option<Progress> {
        self.inner.live.lock().ok()?.get(run_id).cloned()
    }

    async fn execute(&self, job: Arc<Job>, id: String) {
        let db = self.inner.db.clone();
        let progress = self.progress(&id).unwrap_or_else(Progress::new);
        if let Ok(mut live) = self.inner.live.lock() {
            live.insert(id.clone(), progress.clone());
        }
        let beat = {
            let (db, id, clock, every, progress) = (
                db.clone(),
                id.clone(),
                self.inner.clock.clone(),
                self.inner.heartbeat,
                progress.clone(),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let now = clock.now().timestamp_millis();
                    if let Err(err) =
                        store::heartbeat(&db, &id, now, progress.current().as_deref()).await
                    {
                        tracing::warn!(error = %err, "cron heartbeat failed");
                    }
                }
            })
        };
        tracing::info!(job = job.name, run = id, "cron run started");
        // A panicking job is a failed run, not a dead scheduler.
        let result = match tokio::spawn((job.run)(progress.clone())).await {
            Ok(result) => result,
            Err(err) => Err(anyhow::anyhow!("the job panicked: {err}")),
        };
        beat.abort();
        let error = result.err().map(|err| format!("{err:#}"));
        match &error {
            None => tracing::info!(job = job.name, run = id, "cron run succeeded"),
            Some(error) => tracing::error!(job = job.name, run = id, error, "cron run failed"),
        }
        let now = self.inner.clock.now().timestamp_millis();
        let reached = progress.current();
        if let Err(err) = store::finish(&db, &id, now, error.as_deref(), reached.as_deref()).await {
            tracing::error!(job = job.name, error = %err, "cannot record the end of a cron run");
        }
        if let Ok(mut live) = self.inner.live.lock() {
            live.remove(&id);
        }
    }

    /// The newest runs of a job, newest first; `None` when there is no such job.
    pub async fn runs(&self, name: &str, limit: i64) -> Result<Option<Vec<RunInfo>>, sqlx::Error> {
        if self.find(name).is_none() {
            return Ok(None);
        }
        let rows = store::runs(&self.inner.db, name, limit).await?;
        Ok(Some(rows.into_iter().map(RunInfo::from).collect()))
    }

    /// Deletes the records of finished runs that started before `before`.
    pub async fn prune_runs(&self, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        store::prune(&self.inner.db, before.timestamp_millis()).await
    }

    /// One run by id.
    pub async fn run(&self, id: &str) -> Result<Option<RunInfo>, sqlx::Error> {
        Ok(store::run(&self.inner.db, id).await?.map(RunInfo::from))
    }
}

/// A job cannot be started by hand while a run of it is going.
#[derive(Debug, thiserror::Error)]
#[error("{0} is running already; wait for that run to finish")]
pub struct AlreadyRunning(pub &'static str);

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "kitemate".into())
}
