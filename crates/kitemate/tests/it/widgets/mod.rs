//! The widgets service.

pub mod crud;
mod dashboards;
mod share;
