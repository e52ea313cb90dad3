//! Tests of the Kite client against the fake server, and of the ticker
//! decoder against every packet fixture. One test binary.

mod client;
mod secrets;
mod ticker;
