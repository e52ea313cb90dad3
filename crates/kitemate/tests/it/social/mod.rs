//! The social service.

mod discover;
mod forks;
mod profiles;
