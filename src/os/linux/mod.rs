//! Linux: socket owners from `/proc/PID/fd`, connected UDP sockets from sock_diag.

pub mod proc_fd;
pub mod udp_diag;
