//! What is laid over a snapshot before judging: partial snapshots
//! (`--overlay`) and Terraform plans (`--plan`), and their provenance (which
//! of them wrote each document last, so the report can name it). Kept apart
//! from `snapshot`, which holds only what was read.

pub mod overlay;
pub mod plan;
pub mod terraform;
