//! KiteMate: a portfolio companion for Zerodha investors. One folder per
//! service; `app` wires them together; `main.rs` is the `kitemate` command.

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod config;
pub mod hello;
pub mod jobs;
pub mod kite_turns;
pub mod market;
pub mod mcp;
pub mod objects;
pub mod ops;
pub mod portfolio;
pub mod social;
mod spec_rules;
pub mod subscriptions;
pub mod web;
pub mod widgets;

pub use app::App;
pub use config::Config;
