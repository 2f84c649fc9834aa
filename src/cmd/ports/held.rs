//! What `--kill` and `--by` need from a row, whether it is a TCP/UDP socket or a Unix one.

use std::net::IpAddr;

use super::rows::ProcessRow;
use crate::net::SocketState;

/// A socket row and the processes holding it.
pub trait Held {
    /// The processes holding the socket.
    fn holders(&self) -> &[ProcessRow<'_>];
    /// The socket's owner's name, where known.
    fn user(&self) -> Option<&str>;
    /// The socket as `--kill` names it: `tcp 127.0.0.1:8080`, `unix /run/app.sock`.
    fn label(&self) -> String;
    /// Its state.
    fn state(&self) -> SocketState;
    /// The remote address, for `--by remote`.
    fn remote_addr(&self) -> Option<IpAddr>;
    /// The local port, for `--by port`.
    fn local_port(&self) -> Option<u16>;
}

impl Held for super::rows::PortRow<'_> {
    fn holders(&self) -> &[ProcessRow<'_>] {
        &self.processes
    }

    fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    fn label(&self) -> String {
        format!(
            "{} {}",
            self.proto,
            std::net::SocketAddr::new(self.local_addr, self.local_port)
        )
    }

    fn state(&self) -> SocketState {
        self.state
    }

    fn remote_addr(&self) -> Option<IpAddr> {
        self.remote_addr
    }

    fn local_port(&self) -> Option<u16> {
        Some(self.local_port)
    }
}
