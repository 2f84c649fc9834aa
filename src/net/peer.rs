//! Who is at the other end of an accepted connection, for `-v` lines, access rules and the
//! `--exec` child's environment: the two addresses of an IP connection, or the credentials
//! (SO_PEERCRED) of a Unix socket's peer.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use super::endpoint::UnixAddr;
use crate::os::peer_cred::PeerCred;

/// The ends of an accepted connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// An IP connection (IPv4-mapped addresses shown as plain IPv4).
    Inet {
        /// The client.
        remote: SocketAddr,
        /// Our end.
        local: SocketAddr,
    },
    /// A Unix stream socket connection.
    Unix {
        /// The peer process, as the kernel recorded it at connect time; `None` when it does
        /// not say. Its name is there after [`Peer::name_process`].
        cred: Option<PeerCred>,
        /// The address we listen on.
        local: UnixAddr,
    },
}

impl Peer {
    /// An IP peer, both addresses made canonical.
    pub fn inet(remote: SocketAddr, local: SocketAddr) -> Peer {
        Peer::Inet {
            remote: canonical(remote),
            local: canonical(local),
        }
    }

    /// Adds the Unix peer's process name (read from /proc), for the lines that show it.
    pub fn name_process(&mut self) {
        if let Peer::Unix { cred, .. } = self {
            *cred = cred.take().map(PeerCred::with_name);
        }
    }

    /// The client's IP address, for access rules; `None` for a Unix peer.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Peer::Inet { remote, .. } => Some(remote.ip()),
            Peer::Unix { .. } => None,
        }
    }
}

impl fmt::Display for Peer {
    /// `127.0.0.1:40000`; `pid 812 (socat), uid 1000` (or `unix peer` when the kernel does not
    /// say who it is).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Inet { remote, .. } => remote.fmt(f),
            Peer::Unix {
                cred: Some(cred), ..
            } => cred.fmt(f),
            Peer::Unix { cred: None, .. } => f.write_str("unix peer"),
        }
    }
}

/// `[::ffff:127.0.0.1]:5` → `127.0.0.1:5`: what a dual-stack listener sees of an IPv4 client.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_addresses_are_shown_as_ipv4() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:8080".parse().unwrap();
        assert_eq!(canonical(mapped).to_string(), "127.0.0.1:8080");
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert_eq!(canonical(v6), v6);
    }

    #[test]
    fn unix_peers_are_named_by_their_process() {
        let peer = Peer::Unix {
            cred: Some(PeerCred {
                pid: Some(812),
                uid: 1000,
                name: Some("socat".into()),
            }),
            local: UnixAddr::Path("/tmp/app.sock".into()),
        };
        assert_eq!(peer.to_string(), "pid 812 (socat), uid 1000");
        assert_eq!(peer.ip(), None);
        let peer = Peer::inet(
            "[::ffff:127.0.0.1]:1000".parse().unwrap(),
            "[::ffff:127.0.0.1]:80".parse().unwrap(),
        );
        assert_eq!(peer.to_string(), "127.0.0.1:1000");
        assert_eq!(peer.ip(), Some("127.0.0.1".parse().unwrap()));
    }
}
