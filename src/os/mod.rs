//! Platform code, behind `cfg`.

pub mod direction;
pub mod holders;
#[cfg(unix)]
pub mod interrupt;
#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
pub mod peer_cred;
#[cfg(unix)]
pub mod poll;
pub mod processes;
pub mod program;
#[cfg(unix)]
pub mod rlimit;
#[cfg(unix)]
pub mod send_queue;
pub mod socket_key;
pub mod sockets;
#[cfg(target_os = "linux")]
pub mod splice;
#[cfg(unix)]
pub mod stdio;
pub mod stdout_gone;
pub mod tcp_info;
#[cfg(unix)]
pub mod unix_sockets;
