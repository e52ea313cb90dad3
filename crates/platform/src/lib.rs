//! The platform layer: Encore's primitives (typed APIs with one error shape,
//! a database per service, configuration, secrets, middleware, metrics,
//! OpenAPI docs) on real libraries. It knows nothing about investing.

pub mod archive;
pub mod cache;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod cron;
pub mod crypto;
pub mod db;
pub mod docs;
pub mod error;
pub mod inflight;
pub mod json;
pub mod kv;
pub mod mac;
pub mod metrics;
pub mod middleware;
pub mod objects;
pub mod observe;
pub mod pace;
pub mod pubsub;
pub mod query;
pub mod ratelimit;
pub mod secrets;
pub mod server;
pub mod service;
pub mod telemetry;
pub mod throttle;

pub use error::{ApiError, ApiResult, ErrCode, ErrorBody};
pub use json::ApiJson;
pub use query::ApiQuery;
