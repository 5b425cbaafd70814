//! The reverse questions: who can reach an object (every principal the
//! snapshot knows, judged as `check` judges one), what a principal can
//! reach, and what changed between two states. Each answer is made of the
//! same judgements `check` gives, one per principal and operation.

pub mod can_access;
pub mod chains;
pub mod diff;
pub mod graph;
mod halves;
pub mod rows;
pub mod who_can;

pub use rows::{RowKind, RowSource, rows};
pub use who_can::{Row, WhoCanRequest, check_request, detail, who_can};
