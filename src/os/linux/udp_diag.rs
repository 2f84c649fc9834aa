//! Connected UDP sockets, from the kernel's sock_diag netlink interface.
//!
//! netstat2 reports every UDP socket alike, without its state or peer. A connected UDP socket
//! must never look like a listening one, so we ask the kernel for the UDP sockets in the
//! ESTABLISHED state (what `connect()` puts a UDP socket in) and keep their peers by inode.
//! The kernel filters by state itself, so the answer is small even with many bound sockets.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_UDP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, StateFlags};

use super::sock_diag::{self, DumpRequest};

/// The peers of the connected UDP sockets of the given families, by socket inode.
pub fn connected_udp_peers(ipv4: bool, ipv6: bool) -> io::Result<HashMap<u64, SocketAddr>> {
    let mut peers = HashMap::new();
    for (wanted, family) in [(ipv4, AF_INET), (ipv6, AF_INET6)] {
        if wanted {
            dump_connected(family, &mut peers)?;
        }
    }
    Ok(peers)
}

/// One sock_diag dump of connected UDP sockets of `family`, into `peers`.
fn dump_connected(family: u8, peers: &mut HashMap<u64, SocketAddr>) -> io::Result<()> {
    let request = DumpRequest {
        family,
        protocol: IPPROTO_UDP,
        states: StateFlags::ESTABLISHED,
        extensions: ExtensionFlags::empty(),
    };
    sock_diag::dump(request, |response| {
        let id = &response.header.socket_id;
        let peer = SocketAddr::new(id.destination_address, id.destination_port);
        peers.insert(u64::from(response.header.inode), peer);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn a_connected_udp_socket_is_found_with_its_peer() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(server.local_addr().unwrap()).unwrap();
        let peers = connected_udp_peers(true, false).unwrap();
        assert!(
            peers
                .values()
                .any(|peer| *peer == server.local_addr().unwrap()),
            "{peers:?}"
        );
    }
}
