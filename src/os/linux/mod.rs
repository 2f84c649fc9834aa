//! Linux: socket owners from `/proc/PID/fd`; connected UDP sockets, TCP internals and
//! Unix-domain sockets from sock_diag.

pub mod proc_fd;
pub mod sock_diag;
pub mod tcp_info;
pub mod udp_diag;
pub mod unix_diag;
