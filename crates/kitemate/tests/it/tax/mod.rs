//! Capital gains and corporate actions through HTTP and the command line:
//! the hand-worked cases, declarations, loaders, exports and harvesting.

mod actions;
pub mod cases;
mod exports;
