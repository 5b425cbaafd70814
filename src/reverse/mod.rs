//! The reverse questions: who can reach a bucket, what a principal can
//! reach, what changed between two states, and the pictures of the paths.

pub mod can_access;
pub mod graph;
