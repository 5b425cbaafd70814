//! Helpers shared by the test modules. `live.rs` is the harness of the live
//! end-to-end tests; it runs `aws_proxy.py` and the moto setup scripts
//! (`moto_setup.py` and the ones of single features), which live beside it
//! and share `moto_common.py`.

#[cfg(feature = "live")]
pub mod fault_proxy;
#[cfg(feature = "live")]
pub mod live;
pub mod scenario;
#[cfg(feature = "live")]
pub mod toolbox_server;
