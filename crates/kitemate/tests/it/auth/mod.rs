//! The auth service: accounts, sessions, who may read what, Zerodha.

mod accounts;
mod authz;
mod leaving;
mod zerodha;
