//! The platform seen from outside: the API layer, the command, cron,
//! pub/sub, objects, replicas and the guards every route must keep.

mod api_layer;
mod cli;
mod cron;
pub mod guards;
mod log_secrets;
mod objects;
mod openapi;
mod ops;
mod pubsub;
mod replicas;
mod schema;
mod shared;
