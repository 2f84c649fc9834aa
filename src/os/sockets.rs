//! The socket table: every TCP and UDP socket of this host (network namespace, on Linux), with
//! its owner UID and, once [`attach_owners`] ran, the processes that hold it.
//!
//! The sockets come from netstat2. On Linux they come without owners (netstat2's own owner
//! lookup reads every descriptor of every process, always); [`attach_owners`] runs our
//! targeted `/proc` scan for just the sockets that need one. Elsewhere netstat2 attaches them.

use std::io;
use std::net::SocketAddr;

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo, SocketInfo, TcpState};

use crate::net::SocketState;
use crate::net::socket::Proto;

/// Which sockets to list.
#[derive(Debug, Clone, Copy)]
pub struct SocketQuery {
    /// TCP sockets.
    pub tcp: bool,
    /// UDP sockets.
    pub udp: bool,
    /// IPv4 sockets.
    pub ipv4: bool,
    /// IPv6 sockets.
    pub ipv6: bool,
}

/// One socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketEntry {
    /// TCP or UDP.
    pub proto: Proto,
    /// The local address and port.
    pub local: SocketAddr,
    /// The peer, for connected sockets.
    pub remote: Option<SocketAddr>,
    /// The TCP state; `Unconn` or `Established` for UDP.
    pub state: SocketState,
    /// The UID that owns the socket, where the platform tells.
    pub uid: Option<u32>,
    /// The socket's inode (Linux); 0 when it has none (e.g. TIME_WAIT) or on other platforms.
    pub inode: u64,
    /// The processes holding the socket, ascending; empty until found or when unknown.
    pub pids: Vec<u32>,
}

impl SocketEntry {
    /// Whether the socket waits for peers: a TCP listener or an unconnected UDP socket.
    pub fn is_listening(&self) -> bool {
        self.state.is_listening()
    }

    /// Whether other hosts can reach it: bound to anything but loopback (the wildcard
    /// addresses count).
    pub fn is_exposed(&self) -> bool {
        !self.local.ip().to_canonical().is_loopback()
    }
}

/// What the owner lookup could not do.
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnerLookup {
    /// Processes whose descriptors could not be read for lack of privileges.
    pub denied_processes: usize,
}

/// Lists the sockets `query` asks for, without owners on Linux.
pub fn list_sockets(query: SocketQuery) -> io::Result<Vec<SocketEntry>> {
    let mut families = AddressFamilyFlags::empty();
    if query.ipv4 {
        families |= AddressFamilyFlags::IPV4;
    }
    if query.ipv6 {
        families |= AddressFamilyFlags::IPV6;
    }
    let mut protocols = ProtocolFlags::empty();
    if query.tcp {
        protocols |= ProtocolFlags::TCP;
    }
    if query.udp {
        protocols |= ProtocolFlags::UDP;
    }
    if families.is_empty() || protocols.is_empty() {
        return Ok(Vec::new());
    }
    platform::list(families, protocols, query)
}

/// Finds the processes holding `sockets` (all of them, or only `only_pid`'s).
pub fn attach_owners(sockets: &mut [SocketEntry], only_pid: Option<u32>) -> OwnerLookup {
    platform::attach_owners(sockets, only_pid)
}

/// Every process holding one of `sockets`, each once, in ascending order.
pub fn owner_pids(sockets: &[SocketEntry]) -> Vec<u32> {
    let mut pids: Vec<u32> = sockets
        .iter()
        .flat_map(|socket| socket.pids.iter().copied())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

fn tcp_state(state: TcpState) -> SocketState {
    match state {
        TcpState::Listen => SocketState::Listen,
        TcpState::Established => SocketState::Established,
        TcpState::SynSent => SocketState::SynSent,
        TcpState::SynReceived => SocketState::SynRecv,
        TcpState::FinWait1 => SocketState::FinWait1,
        TcpState::FinWait2 => SocketState::FinWait2,
        TcpState::TimeWait => SocketState::TimeWait,
        TcpState::Closed => SocketState::Close,
        TcpState::CloseWait => SocketState::CloseWait,
        TcpState::LastAck => SocketState::LastAck,
        TcpState::Closing => SocketState::Closing,
        TcpState::DeleteTcb | TcpState::Unknown => SocketState::Unknown,
    }
}

/// Converts netstat2's entry; UDP sockets come out unconnected (Linux corrects that).
fn entry(info: SocketInfo, uid: Option<u32>, inode: u64) -> SocketEntry {
    match info.protocol_socket_info {
        ProtocolSocketInfo::Tcp(tcp) => {
            let state = tcp_state(tcp.state);
            let remote = (state != SocketState::Listen)
                .then(|| SocketAddr::new(tcp.remote_addr, tcp.remote_port));
            SocketEntry {
                proto: Proto::Tcp,
                local: SocketAddr::new(tcp.local_addr, tcp.local_port),
                remote,
                state,
                uid,
                inode,
                pids: info.associated_pids,
            }
        }
        ProtocolSocketInfo::Udp(udp) => SocketEntry {
            proto: Proto::Udp,
            local: SocketAddr::new(udp.local_addr, udp.local_port),
            remote: None,
            state: SocketState::Unconn,
            uid,
            inode,
            pids: info.associated_pids,
        },
    }
}

fn netstat_error(err: netstat2::error::Error) -> io::Error {
    match err {
        netstat2::error::Error::OsError(err) => err,
        other => io::Error::other(other.to_string()),
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use super::*;
    use crate::os::linux::{proc_fd, udp_diag};

    pub fn list(
        families: AddressFamilyFlags,
        protocols: ProtocolFlags,
        query: SocketQuery,
    ) -> io::Result<Vec<SocketEntry>> {
        let infos = netstat2::iterate_sockets_info_without_pids(families, protocols)
            .map_err(netstat_error)?;
        let mut sockets = Vec::new();
        for info in infos {
            let info = info.map_err(netstat_error)?;
            let (uid, inode) = (info.uid, u64::from(info.inode));
            // A socket with no inode (TIME_WAIT, an orphan closing down) belongs to nobody:
            // the kernel reports uid 0 for it, which would show it as root's.
            let uid = (inode != 0).then_some(uid);
            sockets.push(entry(info, uid, inode));
        }
        if query.udp {
            let peers = udp_diag::connected_udp_peers(query.ipv4, query.ipv6)?;
            if !peers.is_empty() {
                for socket in sockets.iter_mut().filter(|s| s.proto == Proto::Udp) {
                    if let Some(peer) = peers.get(&socket.inode) {
                        socket.state = SocketState::Established;
                        socket.remote = Some(*peer);
                    }
                }
            }
        }
        Ok(sockets)
    }

    pub fn attach_owners(sockets: &mut [SocketEntry], only_pid: Option<u32>) -> OwnerLookup {
        let wanted: Vec<u64> = sockets.iter().map(|socket| socket.inode).collect();
        let scan = proc_fd::owners_by_inode(&wanted, only_pid);
        for socket in sockets.iter_mut() {
            if let Some(pids) = scan.owners.get(&socket.inode) {
                socket.pids.clone_from(pids);
            }
        }
        OwnerLookup {
            denied_processes: scan.denied,
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::*;

    pub fn list(
        families: AddressFamilyFlags,
        protocols: ProtocolFlags,
        _query: SocketQuery,
    ) -> io::Result<Vec<SocketEntry>> {
        let infos = netstat2::iterate_sockets_info(families, protocols).map_err(netstat_error)?;
        let mut sockets = Vec::new();
        for info in infos {
            sockets.push(entry(info.map_err(netstat_error)?, None, 0));
        }
        Ok(sockets)
    }

    pub fn attach_owners(sockets: &mut [SocketEntry], only_pid: Option<u32>) -> OwnerLookup {
        if let Some(pid) = only_pid {
            for socket in sockets.iter_mut() {
                socket.pids.retain(|&owner| owner == pid);
            }
        }
        OwnerLookup::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};

    const ALL: SocketQuery = SocketQuery {
        tcp: true,
        udp: true,
        ipv4: true,
        ipv6: true,
    };

    #[test]
    fn our_sockets_are_listed_with_their_state_and_owner() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let bound = UdpSocket::bind("127.0.0.1:0").unwrap();
        let connected = UdpSocket::bind("127.0.0.1:0").unwrap();
        connected.connect(bound.local_addr().unwrap()).unwrap();
        let mut sockets = list_sockets(ALL).unwrap();
        let find = |sockets: &[SocketEntry], proto, addr| {
            sockets
                .iter()
                .find(|s| s.proto == proto && s.local == addr)
                .cloned()
                .unwrap()
        };
        let tcp = find(&sockets, Proto::Tcp, listener.local_addr().unwrap());
        assert_eq!(tcp.state, SocketState::Listen);
        assert_eq!(tcp.remote, None);
        assert!(!tcp.is_exposed());
        let udp = find(&sockets, Proto::Udp, bound.local_addr().unwrap());
        assert_eq!(udp.state, SocketState::Unconn);
        let peer = find(&sockets, Proto::Udp, connected.local_addr().unwrap());
        assert_eq!(peer.state, SocketState::Established);
        assert_eq!(peer.remote, Some(bound.local_addr().unwrap()));
        assert!(!peer.is_listening());

        sockets.retain(|s| s.local == listener.local_addr().unwrap());
        attach_owners(&mut sockets, None);
        assert_eq!(sockets[0].pids, vec![std::process::id()]);
        let mut twice = sockets[0].clone();
        twice.pids = vec![7, std::process::id(), 7];
        assert_eq!(
            owner_pids(&[sockets[0].clone(), twice]),
            vec![7, std::process::id()]
        );
    }

    #[test]
    fn an_empty_query_lists_nothing() {
        let query = SocketQuery { tcp: false, ..ALL };
        let sockets = list_sockets(SocketQuery {
            udp: false,
            ..query
        })
        .unwrap();
        assert!(sockets.is_empty());
    }
}
