//! The social service.

mod discover;
mod embeds;
mod forks;
mod moderation;
mod profiles;
