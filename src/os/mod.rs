//! Platform code, behind `cfg`.

pub mod holders;
#[cfg(unix)]
pub mod interrupt;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod processes;
#[cfg(unix)]
pub mod rlimit;
pub mod sockets;
#[cfg(target_os = "linux")]
pub mod splice;
#[cfg(unix)]
pub mod unix_sockets;
