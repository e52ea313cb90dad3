//! The widgets service.

pub mod crud;
mod share;
