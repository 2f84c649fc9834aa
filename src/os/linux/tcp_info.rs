//! TCP internals of every TCP socket, from one sock_diag dump with `INET_DIAG_INFO`: what
//! `ss -ti` shows.
//!
//! netlink-packet-sock-diag hands `struct tcp_info` over as raw bytes (its parsed form,
//! behind the `rich_nlas` feature, rejects a kernel whose struct is shorter than the one it
//! was written for), so [`parse_tcp_info`] reads the few fields we show by offset, the way `ss`
//! copies the struct into a zeroed one: a field the kernel does not send reads as 0.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use netlink_packet_sock_diag::constants::{
    AF_INET, AF_INET6, IPPROTO_TCP, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_ESTABLISHED,
    TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_LAST_ACK, TCP_LISTEN, TCP_SYN_RECV, TCP_SYN_SENT,
    TCP_TIME_WAIT,
};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetResponse, InetResponseHeader, StateFlags, nlas::Nla,
};

use super::sock_diag::{self, DumpRequest};
use crate::net::SocketState;
use crate::net::socket::Proto;
use crate::os::socket_key::SocketKey;
use crate::os::sockets::SocketEntry;
use crate::os::tcp_info::TcpInfo;

/// The TCP internals of every TCP socket of the given families in one of `states` (all of
/// them when empty) that has them (a TIME_WAIT socket has none), by socket identity. The
/// kernel filters on the states, so asking for listeners only is cheap on a busy host.
pub fn tcp_info_by_socket(
    ipv4: bool,
    ipv6: bool,
    states: &[SocketState],
) -> io::Result<HashMap<SocketKey, TcpInfo>> {
    Ok(tcp_sockets_with_info(ipv4, ipv6, states)?.1)
}

/// The TCP sockets of the given families in one of `states` (all of them when empty), and the
/// internals of those that have them, from the same dump: one pass over the kernel's TCP
/// tables where a listing followed by a second dump for the internals would make two.
pub fn tcp_sockets_with_info(
    ipv4: bool,
    ipv6: bool,
    states: &[SocketState],
) -> io::Result<(Vec<SocketEntry>, HashMap<SocketKey, TcpInfo>)> {
    let states = if states.is_empty() {
        StateFlags::all()
    } else {
        states.iter().copied().map(state_flag).collect()
    };
    let mut sockets = Vec::new();
    let mut infos = HashMap::new();
    for (wanted, family) in [(ipv4, AF_INET), (ipv6, AF_INET6)] {
        if !wanted {
            continue;
        }
        let request = DumpRequest {
            family,
            protocol: IPPROTO_TCP,
            states,
            extensions: ExtensionFlags::INFO,
        };
        sock_diag::dump(request, |response| {
            let socket = socket_entry(&response.header);
            if let Some(info) = socket_info(response) {
                infos.insert(SocketKey::of(&socket), info);
            }
            sockets.push(socket);
        })?;
    }
    Ok((sockets, infos))
}

/// The socket a dump answer describes, as netstat2 reads it: no peer for a listener, no
/// owner UID for a socket without an inode (the kernel says 0 for those, which is not root).
fn socket_entry(header: &InetResponseHeader) -> SocketEntry {
    let id = &header.socket_id;
    let state = socket_state(header.state);
    let inode = u64::from(header.inode);
    SocketEntry {
        proto: Proto::Tcp,
        local: SocketAddr::new(id.source_address, id.source_port),
        remote: (state != SocketState::Listen)
            .then(|| SocketAddr::new(id.destination_address, id.destination_port)),
        state,
        uid: (inode != 0).then_some(header.uid),
        inode,
        pids: Vec::new(),
    }
}

/// The kernel's TCP state number as a state.
fn socket_state(state: u8) -> SocketState {
    match state {
        TCP_ESTABLISHED => SocketState::Established,
        TCP_SYN_SENT => SocketState::SynSent,
        TCP_SYN_RECV => SocketState::SynRecv,
        TCP_FIN_WAIT1 => SocketState::FinWait1,
        TCP_FIN_WAIT2 => SocketState::FinWait2,
        TCP_TIME_WAIT => SocketState::TimeWait,
        TCP_CLOSE => SocketState::Close,
        TCP_CLOSE_WAIT => SocketState::CloseWait,
        TCP_LAST_ACK => SocketState::LastAck,
        TCP_LISTEN => SocketState::Listen,
        TCP_CLOSING => SocketState::Closing,
        _ => SocketState::Unknown,
    }
}

/// The kernel's bit for `state` (none for the UDP-only and unnamed states).
fn state_flag(state: SocketState) -> StateFlags {
    match state {
        SocketState::Listen => StateFlags::LISTEN,
        SocketState::Established => StateFlags::ESTABLISHED,
        SocketState::SynSent => StateFlags::SYN_SENT,
        SocketState::SynRecv => StateFlags::SYN_RECV,
        SocketState::FinWait1 => StateFlags::FIN_WAIT1,
        SocketState::FinWait2 => StateFlags::FIN_WAIT2,
        SocketState::TimeWait => StateFlags::TIME_WAIT,
        SocketState::Close => StateFlags::CLOSE,
        SocketState::CloseWait => StateFlags::CLOSE_WAIT,
        SocketState::LastAck => StateFlags::LAST_ACK,
        SocketState::Closing => StateFlags::CLOSING,
        SocketState::Unconn | SocketState::Unknown => StateFlags::empty(),
    }
}

/// One socket's internals, when the kernel sent its `tcp_info`.
fn socket_info(response: &InetResponse) -> Option<TcpInfo> {
    let bytes = response.nlas.iter().find_map(|nla| match nla {
        Nla::TcpInfo(bytes) => Some(bytes),
        _ => None,
    })?;
    let raw = parse_tcp_info(bytes)?;
    let header = &response.header;
    // For a listener the kernel puts the accept queue's length in `idiag_rqueue` and its
    // limit (the listen() backlog) in `idiag_wqueue`, as `ss` shows them in Recv-Q and Send-Q.
    let info = TcpInfo {
        rtt_ms: f64::from(raw.rtt_us) / 1000.0,
        rttvar_ms: f64::from(raw.rttvar_us) / 1000.0,
        cwnd: raw.snd_cwnd,
        retrans: raw.total_retrans,
        bytes_acked: raw.bytes_acked,
        bytes_received: raw.bytes_received,
        send_q: header.send_queue,
        recv_q: header.recv_queue,
    };
    Some(info)
}

/// The fields of `struct tcp_info` we show, as the kernel sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RawTcpInfo {
    rtt_us: u32,
    rttvar_us: u32,
    snd_cwnd: u32,
    total_retrans: u32,
    bytes_acked: u64,
    bytes_received: u64,
}

/// Reads `struct tcp_info` (include/uapi/linux/tcp.h; host byte order). Offsets:
/// `tcpi_rtt` 68, `tcpi_rttvar` 72, `tcpi_snd_cwnd` 80, `tcpi_total_retrans` 100 (all u32,
/// in the struct since Linux 2.6), `tcpi_bytes_acked` 120 and `tcpi_bytes_received` 128 (u64,
/// since 4.1; 0 when the kernel sends a shorter struct). `None` if even the old fields are
/// missing.
fn parse_tcp_info(bytes: &[u8]) -> Option<RawTcpInfo> {
    let u32_at = |offset: usize| -> Option<u32> {
        let field = bytes.get(offset..offset + 4)?;
        Some(u32::from_ne_bytes(field.try_into().ok()?))
    };
    let u64_at = |offset: usize| -> u64 {
        bytes
            .get(offset..offset + 8)
            .and_then(|field| field.try_into().ok())
            .map_or(0, u64::from_ne_bytes)
    };
    Some(RawTcpInfo {
        rtt_us: u32_at(68)?,
        rttvar_us: u32_at(72)?,
        snd_cwnd: u32_at(80)?,
        total_retrans: u32_at(100)?,
        bytes_acked: u64_at(120),
        bytes_received: u64_at(128),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn fields_are_read_by_offset_and_missing_ones_are_zero() {
        let mut bytes = vec![0u8; 136];
        bytes[68..72].copy_from_slice(&46u32.to_ne_bytes());
        bytes[72..76].copy_from_slice(&23u32.to_ne_bytes());
        bytes[80..84].copy_from_slice(&10u32.to_ne_bytes());
        bytes[100..104].copy_from_slice(&3u32.to_ne_bytes());
        bytes[120..128].copy_from_slice(&5000u64.to_ne_bytes());
        bytes[128..136].copy_from_slice(&7000u64.to_ne_bytes());
        let full = RawTcpInfo {
            rtt_us: 46,
            rttvar_us: 23,
            snd_cwnd: 10,
            total_retrans: 3,
            bytes_acked: 5000,
            bytes_received: 7000,
        };
        assert_eq!(parse_tcp_info(&bytes), Some(full));
        let old = RawTcpInfo {
            bytes_acked: 0,
            bytes_received: 0,
            ..full
        };
        assert_eq!(parse_tcp_info(&bytes[..104]), Some(old));
        assert_eq!(parse_tcp_info(&bytes[..100]), None);
    }

    #[test]
    fn our_connection_has_its_queues_and_counters() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(&[7; 1000]).unwrap();
        let mut got = [0u8; 1000];
        server.read_exact(&mut got).unwrap();
        server.write_all(&[9; 300]).unwrap();

        let infos = tcp_info_by_socket(true, false, &[]).unwrap();
        let find = |local: SocketAddr| {
            infos
                .iter()
                .find(|(key, _)| key.local == local && key.remote.is_some())
                .map(|(_, info)| *info)
                .unwrap()
        };
        let sent = find(client.local_addr().unwrap());
        assert_eq!(sent.recv_q, 300, "{sent:?}");
        assert_eq!(sent.bytes_received, 300);
        let read = find(server.local_addr().unwrap());
        assert_eq!(read.recv_q, 0);
        assert_eq!(read.bytes_received, 1000);
        assert!(read.cwnd > 0 && read.rtt_ms > 0.0, "{read:?}");
        let listening = infos
            .iter()
            .find(|(key, _)| key.local == listener.local_addr().unwrap() && key.remote.is_none())
            .map(|(_, info)| *info)
            .unwrap();
        assert_eq!(listening.recv_q, 0);
        assert!(listening.send_q > 0, "the backlog limit: {listening:?}");

        let (sockets, with_info) =
            tcp_sockets_with_info(true, false, &[SocketState::Listen]).unwrap();
        let ours = sockets
            .iter()
            .find(|socket| socket.local == listener.local_addr().unwrap())
            .unwrap();
        assert_eq!(ours.state, SocketState::Listen);
        assert_eq!(ours.remote, None);
        assert_ne!(ours.inode, 0);
        assert!(ours.uid.is_some() && ours.pids.is_empty(), "{ours:?}");
        assert!(
            sockets
                .iter()
                .all(|socket| socket.state == SocketState::Listen)
        );
        assert_eq!(with_info.get(&SocketKey::of(ours)), Some(&listening));

        let listeners = tcp_info_by_socket(true, false, &[SocketState::Listen]).unwrap();
        assert!(listeners.keys().all(|key| key.remote.is_none()));
        assert!(
            listeners
                .keys()
                .any(|key| key.local == listener.local_addr().unwrap())
        );
    }
}
