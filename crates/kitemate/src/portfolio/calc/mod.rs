//! What is worked out from trades and prices: FIFO lots and realized gains,
//! corporate actions on the lots, capital-gains tax, XIRR. Pure functions; money in exact decimals.

pub mod actions;
pub mod fifo;
pub mod history;
pub mod positions;
pub mod returns;
pub mod sectors;
pub mod xirr;

#[cfg(test)]
mod console_check;
