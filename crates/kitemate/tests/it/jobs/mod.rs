//! The jobs service: the daily refresh and the morning sweep of ended Kite
//! sessions, run against the fake Kite and the fake market.

mod housekeeping;
mod refresh;
