//! Platform code, behind `cfg`.

#[cfg(unix)]
pub mod rlimit;
