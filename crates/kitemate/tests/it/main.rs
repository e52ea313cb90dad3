//! End-to-end tests through HTTP against the real app, one test binary, a
//! folder per service. Each test runs on SQLite and on PostgreSQL
//! (`KITEMATE_TEST_DATABASE_URL`; CI requires it).

mod support;

mod auth;
mod chat;
mod jobs;
mod market;
mod mcp;
mod platform;
mod portfolio;
mod social;
mod subscriptions;
mod tax;
mod web;
mod widgets;
