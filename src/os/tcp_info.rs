//! TCP internals per socket (`sockx ports -i`), as `ss -ti` shows them. Linux reads them from
//! sock_diag; elsewhere there are none.

use std::collections::HashMap;
use std::io;

use serde::Serialize;

use crate::net::SocketState;
use crate::os::socket_key::SocketKey;
use crate::os::sockets::{self, SocketEntry, SocketQuery};

/// A TCP socket's internals. The JSON fields are the contract's `tcp_info` object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TcpInfo {
    /// Smoothed round-trip time, in milliseconds.
    pub rtt_ms: f64,
    /// Its variation, in milliseconds.
    pub rttvar_ms: f64,
    /// The congestion window, in segments.
    pub cwnd: u32,
    /// Segments retransmitted over the connection's life.
    pub retrans: u32,
    /// Bytes the peer acknowledged.
    pub bytes_acked: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Bytes not yet acknowledged by the peer; for a listener, the accept backlog's limit.
    pub send_q: u32,
    /// Bytes not yet read by the process; for a listener, the connections waiting in the
    /// accept queue.
    pub recv_q: u32,
}

/// The internals of every TCP socket of the given families in one of `states` (every state
/// when empty) that has them.
#[cfg(target_os = "linux")]
pub fn tcp_info_by_socket(
    ipv4: bool,
    ipv6: bool,
    states: &[SocketState],
) -> io::Result<HashMap<SocketKey, TcpInfo>> {
    crate::os::linux::tcp_info::tcp_info_by_socket(ipv4, ipv6, states)
}

/// The internals of every TCP socket: none known on this platform.
#[cfg(not(target_os = "linux"))]
pub fn tcp_info_by_socket(
    _ipv4: bool,
    _ipv6: bool,
    _states: &[SocketState],
) -> io::Result<HashMap<SocketKey, TcpInfo>> {
    Ok(HashMap::new())
}

/// The sockets `query` asks for (without owners) and the internals of the TCP ones that have
/// them. The TCP sockets are only those in one of `states` (every state when empty): on Linux
/// they come from the same sock_diag dump as their internals, one pass over the kernel's TCP
/// tables instead of a listing and a second dump.
#[cfg(target_os = "linux")]
pub fn list_with_tcp_info(
    query: SocketQuery,
    states: &[SocketState],
) -> io::Result<(Vec<SocketEntry>, HashMap<SocketKey, TcpInfo>)> {
    let (mut listed, infos) = if query.tcp {
        crate::os::linux::tcp_info::tcp_sockets_with_info(query.ipv4, query.ipv6, states)?
    } else {
        (Vec::new(), HashMap::new())
    };
    if query.udp {
        listed.extend(sockets::list_sockets(SocketQuery {
            tcp: false,
            ..query
        })?);
    }
    Ok((listed, infos))
}

/// The sockets `query` asks for, and no internals: none known on this platform.
#[cfg(not(target_os = "linux"))]
pub fn list_with_tcp_info(
    query: SocketQuery,
    _states: &[SocketState],
) -> io::Result<(Vec<SocketEntry>, HashMap<SocketKey, TcpInfo>)> {
    Ok((sockets::list_sockets(query)?, HashMap::new()))
}
