//! What tells one socket from another across two listings: its inode plus its addresses (a
//! TIME_WAIT socket has no inode; an inode number may be reused once its socket is gone).

use std::net::SocketAddr;

use crate::net::socket::Proto;
use crate::os::sockets::SocketEntry;

/// A socket's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketKey {
    /// TCP or UDP.
    pub proto: Proto,
    /// The local address and port.
    pub local: SocketAddr,
    /// The peer, for connected sockets.
    pub remote: Option<SocketAddr>,
    /// The inode; 0 when it has none.
    pub inode: u64,
}

impl SocketKey {
    /// The identity of `socket`.
    pub fn of(socket: &SocketEntry) -> SocketKey {
        SocketKey {
            proto: socket.proto,
            local: socket.local,
            remote: socket.remote,
            inode: socket.inode,
        }
    }
}
