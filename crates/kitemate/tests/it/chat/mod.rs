//! The chat service: answers, the evaluation set, limits, a model, streaming.

pub mod answers;
pub mod eval;
mod general;
mod limits;
pub mod llm;
mod stream;
