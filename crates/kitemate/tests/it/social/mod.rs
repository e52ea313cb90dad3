//! The social service.

mod discover;
mod forks;
mod moderation;
mod profiles;
