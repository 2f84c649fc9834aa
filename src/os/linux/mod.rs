//! Linux: socket owners from `/proc/PID/fd`, connected UDP and Unix-domain sockets from sock_diag.

pub mod proc_fd;
pub mod udp_diag;
pub mod unix_diag;
