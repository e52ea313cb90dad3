//! The administrators' view of the platform: pub/sub topics, subscriptions,
//! backlogs and dead letters; cron jobs and their runs; signups per day.
//! Every endpoint requires an administrator.

mod audit_api;
mod signups;

pub use signups::DATABASE;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use platform::cron::{AlreadyRunning, Cron, JobInfo, RunInfo};
use platform::pubsub::{DeadLetter, PubSub, SubscriptionStats};
use platform::service::{Declaration, Mount};
use platform::{ApiError, ApiJson, ErrorBody};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::{AuditService, Origin, Record};
use crate::auth::{Admin, AuthService};

/// An administrator's action, for the audit log.
fn admin_record(
    admin: &crate::auth::AuthData,
    action: &'static str,
    detail: serde_json::Value,
    info: &platform::observe::RequestInfo,
) -> Record {
    Record {
        user_id: None,
        actor: format!("admin:{}", admin.user.id),
        action,
        detail,
        origin: Origin::from(info),
        key: None,
    }
}

const TAG: &str = "admin";

#[derive(Debug, Clone)]
pub struct AdminState {
    pub auth: AuthService,
    /// The admin service's database (signup counts).
    pub db: platform::db::Db,
    pub clock: platform::clock::Clock,
    pub pubsub: PubSub,
    pub cron: Cron,
    pub audit: AuditService,
}

impl FromRef<AdminState> for AuthService {
    fn from_ref(state: &AdminState) -> Self {
        state.auth.clone()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopicInfo {
    pub name: &'static str,
    /// The service database whose outbox the topic publishes through.
    pub database: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PubSubOverview {
    /// `embedded` (delivered in this process) or `nats` (NATS JetStream).
    pub transport: &'static str,
    pub topics: Vec<TopicInfo>,
    pub subscriptions: Vec<SubscriptionStats>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterList {
    pub dead_letters: Vec<DeadLetter>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Redelivered {
    /// Dead letters put back in line.
    pub redelivered: u64,
}

fn no_subscription(name: &str) -> ApiError {
    ApiError::not_found(format!("no subscription named {name}"))
}

/// Topics and subscriptions with their counts, backlog and dead letters.
#[utoipa::path(get, path = "/admin/pubsub", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pub/sub overview", body = PubSubOverview),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not an administrator (`permission_denied`)", body = ErrorBody),
    ))]
pub async fn get_pubsub(
    State(state): State<AdminState>,
    _admin: Admin,
) -> Result<ApiJson<PubSubOverview>, ApiError> {
    let topics = state
        .pubsub
        .topics()
        .into_iter()
        .map(|(name, database)| TopicInfo { name, database })
        .collect();
    let subscriptions = state.pubsub.stats().await?;
    Ok(ApiJson(PubSubOverview {
        transport: state.pubsub.transport(),
        topics,
        subscriptions,
    }))
}

/// The messages of a subscription that ran out of retries (oldest first, at most 100).
#[utoipa::path(get, path = "/admin/pubsub/{subscription}/dead-letters", tag = TAG,
    security(("bearer" = [])),
    params(("subscription" = String, Path, description = "Subscription name")),
    responses(
        (status = 200, description = "Dead letters", body = DeadLetterList),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    ))]
pub async fn list_dead_letters(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(subscription): Path<String>,
) -> Result<ApiJson<DeadLetterList>, ApiError> {
    let dead_letters = state
        .pubsub
        .dead_letters(&subscription, 100)
        .await?
        .ok_or_else(|| no_subscription(&subscription))?;
    Ok(ApiJson(DeadLetterList { dead_letters }))
}

/// Give every dead letter of a subscription a fresh set of attempts.
#[utoipa::path(post, path = "/admin/pubsub/{subscription}/dead-letters/redeliver", tag = TAG,
    security(("bearer" = [])),
    params(("subscription" = String, Path, description = "Subscription name")),
    responses(
        (status = 200, description = "How many were put back in line", body = Redelivered),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    ))]
pub async fn redeliver_dead_letters(
    State(state): State<AdminState>,
    Admin(admin): Admin,
    info: platform::observe::RequestInfo,
    Path(subscription): Path<String>,
) -> Result<ApiJson<Redelivered>, ApiError> {
    let redelivered = state
        .pubsub
        .redeliver(&subscription)
        .await?
        .ok_or_else(|| no_subscription(&subscription))?;
    tracing::info!(
        admin = admin.user.id,
        subscription,
        redelivered,
        "dead letters redelivered"
    );
    let detail = serde_json::json!({ "subscription": subscription, "redelivered": redelivered });
    state
        .audit
        .record(admin_record(
            &admin,
            "admin.dead_letters_redelivered",
            detail,
            &info,
        ))
        .await;
    Ok(ApiJson(Redelivered { redelivered }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub runs: Vec<RunInfo>,
}

fn no_job(name: &str) -> ApiError {
    ApiError::not_found(format!("no cron job named {name}"))
}

/// Every cron job with its schedule, time zone and next run.
#[utoipa::path(get, path = "/admin/cron", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cron jobs", body = JobList),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not an administrator (`permission_denied`)", body = ErrorBody),
    ))]
pub async fn list_jobs(
    State(state): State<AdminState>,
    _admin: Admin,
) -> Result<ApiJson<JobList>, ApiError> {
    Ok(ApiJson(JobList {
        jobs: state.cron.jobs_with_last_runs().await?,
    }))
}

/// Run a job now. Answers at once with the run, which goes on in the background.
#[utoipa::path(post, path = "/admin/cron/{name}/run", tag = TAG,
    security(("bearer" = [])),
    params(("name" = String, Path, description = "Job name")),
    responses(
        (status = 202, description = "The run, started", body = RunInfo),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "A run of the job is going (`aborted`)", body = ErrorBody),
    ))]
pub async fn run_job(
    State(state): State<AdminState>,
    Admin(admin): Admin,
    info: platform::observe::RequestInfo,
    Path(name): Path<String>,
) -> Result<(StatusCode, ApiJson<RunInfo>), ApiError> {
    let (run, _) = state
        .cron
        .run_now(&name)
        .await
        .map_err(|err| match err.downcast_ref::<AlreadyRunning>() {
            Some(running) => ApiError::new(platform::ErrCode::Aborted, running.to_string()),
            None => ApiError::internal(err),
        })?
        .ok_or_else(|| no_job(&name))?;
    tracing::info!(
        admin = admin.user.id,
        job = name,
        run = run.id,
        "cron job run by hand"
    );
    let detail = serde_json::json!({ "job": name, "run": run.id });
    state
        .audit
        .record(admin_record(&admin, "admin.job_run", detail, &info))
        .await;
    Ok((StatusCode::ACCEPTED, ApiJson(run)))
}

/// The newest runs of a job (at most 50), newest first.
#[utoipa::path(get, path = "/admin/cron/{name}/runs", tag = TAG,
    security(("bearer" = [])),
    params(("name" = String, Path, description = "Job name")),
    responses(
        (status = 200, description = "Runs", body = RunList),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
    ))]
pub async fn list_runs(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(name): Path<String>,
) -> Result<ApiJson<RunList>, ApiError> {
    let runs = state
        .cron
        .runs(&name, 50)
        .await?
        .ok_or_else(|| no_job(&name))?;
    Ok(ApiJson(RunList { runs }))
}

/// The admin service: administrators' views of the platform.
pub static SERVICE: Declaration = Declaration {
    name: TAG,
    description: "Administrators only: pub/sub, cron and signups",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[],
    settings: &[],
    spec: || router_spec().into_openapi(),
};

/// The service as the app mounts it, subscribed to new signups.
pub fn mount(state: AdminState) -> anyhow::Result<Mount> {
    signups::subscribe(&state.pubsub, &state.db)?;
    Ok(Mount::new(&SERVICE, router(state)))
}

pub fn router(state: AdminState) -> OpenApiRouter {
    router_spec().with_state(state)
}

/// The routes before they get their state, which is all the spec needs.
pub fn router_spec() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(get_pubsub))
        .routes(routes!(list_dead_letters))
        .routes(routes!(redeliver_dead_letters))
        .routes(routes!(list_jobs))
        .routes(routes!(run_job))
        .routes(routes!(list_runs))
        .routes(routes!(signups::get_signups))
        .routes(routes!(audit_api::get_audit))
}
