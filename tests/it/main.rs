//! The integration tests, as one test binary: one module per area, so the
//! crate (AWS SDK included) is linked into one executable, not one per file.
//! Run one area with `cargo test --test it corpus::` (the module's path is
//! the prefix of every test name in it).

// A test reports failure by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod access_tests;
mod assumptions;
#[cfg(feature = "live")]
mod authorization_details;
mod can_access;
mod chains;
mod cli;
mod corpus;
mod diff;
mod differential;
mod docs;
mod event_access_tests;
mod event_identities;
mod event_properties;
mod events;
mod explain_cli;
mod explain_replication;
mod fixes;
mod gaad;
mod gate_properties;
mod golden;
mod guards;
mod hostile_input;
mod hostile_output;
mod incidents_doc;
mod judge_properties;
mod lazy_directory;
#[cfg(feature = "live")]
mod live_access_tests;
#[cfg(feature = "live")]
mod live_can_access;
#[cfg(feature = "live")]
mod live_debug;
#[cfg(feature = "live")]
mod live_directory_buckets;
#[cfg(feature = "live")]
mod live_e2e;
#[cfg(feature = "live")]
mod live_gaad;
#[cfg(feature = "live")]
mod live_gates;
#[cfg(feature = "live")]
mod live_messages;
#[cfg(feature = "live")]
mod live_rates;
#[cfg(feature = "live")]
mod live_replication;
#[cfg(feature = "live")]
mod live_services;
#[cfg(feature = "live")]
mod live_sweep;
#[cfg(feature = "live")]
mod live_throttling;
#[cfg(feature = "live")]
mod live_who_can;
#[cfg(feature = "live")]
mod permissions;
mod plan_fixes;
mod plans_cli;
mod policy_properties;
mod replication;
mod s3_hop_properties;
mod service_context;
mod service_properties;
mod snapshot_merge;
mod verdicts;
mod who_can;
mod who_can_properties;
mod world_properties;
mod worlds;
