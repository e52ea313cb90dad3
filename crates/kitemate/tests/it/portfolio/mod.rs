//! The portfolio service: imports, figures, syncs and paged trades.

mod import_limits;
pub mod imports;
mod returns;
mod sync;
mod trade_pages;
