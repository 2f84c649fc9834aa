//! Platform code, behind `cfg`.

#[cfg(unix)]
pub mod interrupt;
#[cfg(target_os = "linux")]
pub mod splice;
