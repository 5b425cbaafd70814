//! The command line: one module per command, the argument groups they
//! share, the exit codes, all of it parsed by clap, which the library never
//! sees.

pub mod args;
pub mod exit;
