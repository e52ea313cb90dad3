//! The chat service: answers, the evaluation set, limits, a model, streaming.

pub mod answers;
mod eval;
mod limits;
pub mod llm;
mod stream;
