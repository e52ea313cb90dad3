//! The portfolio service: holdings, trades and daily history from Kite and
//! from Console exports, and what is worked out from them.

pub mod calc;
pub mod import;
