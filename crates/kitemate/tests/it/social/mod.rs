//! The social service.

mod profiles;
