//! The social service.

mod avatars;
mod discover;
mod embeds;
mod forks;
mod moderation;
mod no_amounts;
mod profiles;
