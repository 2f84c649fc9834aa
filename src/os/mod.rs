//! Platform code, behind `cfg`.

#[cfg(target_os = "linux")]
pub mod holders;
#[cfg(unix)]
pub mod interrupt;
#[cfg(target_os = "linux")]
pub mod splice;
