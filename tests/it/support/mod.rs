//! Helpers shared by the test modules. `live.rs` is the harness of the live
//! end-to-end tests; it runs `aws_proxy.py` and `moto_setup.py`, which live
//! beside it.

#[cfg(feature = "live")]
pub mod live;
pub mod scenario;
