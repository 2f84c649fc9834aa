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
    /// The socket's owner's UID, where known.
    fn uid(&self) -> Option<u32>;

    /// Whether a holder's name or command line contains `needle`.
    fn has_process_matching(&self, needle: &str) -> bool {
        self.holders().iter().any(|process| {
            process.name.contains(needle) || process.cmd.is_some_and(|cmd| cmd.contains(needle))
        })
    }

    /// Whether `pid` holds the socket.
    fn has_pid(&self, pid: u32) -> bool {
        self.holders().iter().any(|process| process.pid == pid)
    }
}

/// The filters that need the owners (`--pid`, `--process`, `--user`), for either kind of row.
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnerFilter<'a> {
    /// `--pid`.
    pub pid: Option<u32>,
    /// `--process`: a substring of a holder's name or command line.
    pub process: Option<&'a str>,
    /// `--user`, as a UID.
    pub uid: Option<u32>,
}

impl OwnerFilter<'_> {
    /// Whether `row` passes every owner filter.
    pub fn keeps(&self, row: &impl Held) -> bool {
        self.pid.is_none_or(|pid| row.has_pid(pid))
            && self
                .process
                .is_none_or(|needle| row.has_process_matching(needle))
            && self.uid.is_none_or(|uid| row.uid() == Some(uid))
    }
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

    fn uid(&self) -> Option<u32> {
        self.uid
    }
}
