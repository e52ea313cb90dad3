//! HTTP handlers of the portfolio service: each checks its request and asks
//! the service. Money is whole paise (integers); quantities and percentages
//! are decimal strings (fund units have three places).

pub mod actions;
pub mod history;
pub mod imports;
pub mod sync;
pub mod tax;
pub mod views;

const TAG: &str = "portfolio";
