//! Socket tuning for a relay session.
//!
//! On a connection that never leaves this host (loopback, or our own address) there is no
//! network to share and nothing is ever lost, so congestion control has nothing to do; but
//! a pacing algorithm such as BBR (the default on some systems) still arms a pacing timer
//! for every burst it sends. Measured on a 4 GiB loopback transfer, BBR's pacing costs the
//! sender ~40% of its CPU time. Such connections switch to Reno, which never paces and is
//! always permitted to unprivileged users.

use std::net::IpAddr;
use std::os::fd::AsFd;

use socket2::SockRef;

/// The congestion control used on host-local connections.
const LOCAL_CONGESTION_CONTROL: &[u8] = b"reno";

/// Tunes `stream` (a TCP socket, blocking or not) for relaying (best effort: a refused
/// option only costs speed).
pub fn tune(stream: &impl AsFd) {
    let socket = SockRef::from(stream);
    if is_host_local(&socket) {
        let _ = socket.set_tcp_congestion(LOCAL_CONGESTION_CONTROL);
    }
}

/// True when both ends of `socket` are on this host (false for anything but TCP/IP).
fn is_host_local(socket: &SockRef<'_>) -> bool {
    let ends = (
        socket.local_addr().ok().and_then(|addr| addr.as_socket()),
        socket.peer_addr().ok().and_then(|addr| addr.as_socket()),
    );
    match ends {
        (Some(local), Some(peer)) => {
            let peer = canonical(peer.ip());
            peer.is_loopback() || peer == canonical(local.ip())
        }
        _ => false,
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn loopback_connections_use_reno() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        assert!(is_host_local(&SockRef::from(&client)) && is_host_local(&SockRef::from(&server)));
        tune(&client);
        let name = SockRef::from(&client)
            .tcp_congestion()
            .expect("TCP_CONGESTION");
        assert_eq!(
            name.split(|&b| b == 0).next(),
            Some(LOCAL_CONGESTION_CONTROL)
        );
    }

    #[test]
    fn mapped_addresses_are_canonical() {
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().expect("ip");
        assert!(canonical(mapped).is_loopback());
        let plain: IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(canonical(plain), plain);
    }
}
