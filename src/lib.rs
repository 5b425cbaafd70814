//! kms-s3-doctor: finds which link of the S3 / SSE-KMS permission chain
//! breaks, and who must change what.
//!
//! The core is pure: [`snapshot`] holds what was read, [`chain`] judges it
//! with [`policy`], [`fixes`] completes the changes it proposes, [`report`]
//! renders the [`diagnosis`]. [`pipeline`] runs those stages in order, with
//! the files around them. Only `live` (feature `live`) talks to AWS.

pub mod access_tests;
pub mod chain;
pub mod diagnosis;
pub mod event;
pub mod explain;
pub mod fixes;
#[cfg(feature = "live")]
pub mod live;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod reverse;
pub mod snapshot;
#[doc(hidden)]
pub mod synthetic;
pub mod whatif;
