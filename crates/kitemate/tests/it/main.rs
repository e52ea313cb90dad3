//! End-to-end tests through HTTP against the real app, one test binary.
//! Each test runs on SQLite and, when `KITEMATE_TEST_DATABASE_URL` is set, on PostgreSQL.

mod harness;

mod api_layer;
mod auth;
mod authz;
mod chat;
mod chat_eval;
mod chat_limits;
mod chat_llm;
mod chat_stream;
mod cli;
mod cron;
mod fake_llm;
mod guards;
mod import_limits;
mod log_secrets;
mod objects;
mod openapi;
mod ops;
mod portfolio;
mod pubsub;
mod replicas;
mod schema;
mod shared;
mod sync;
mod trade_pages;
mod zerodha;
