//! Connected UDP sockets, from the kernel's sock_diag netlink interface.
//!
//! netstat2 reports every UDP socket alike, without its state or peer. A connected UDP socket
//! must never look like a listening one, so we ask the kernel for the UDP sockets in the
//! ESTABLISHED state (what `connect()` puts a UDP socket in) and keep their peers by inode.
//! The kernel filters by state itself, so the answer is small even with many bound sockets.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_UDP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::{Socket, SocketAddr as NetlinkAddr};

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
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&NetlinkAddr::new(0, 0))?;

    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let socket_id = if family == AF_INET {
        SocketId::new_v4()
    } else {
        SocketId::new_v6()
    };
    let mut request = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_UDP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::ESTABLISHED,
            socket_id,
        })
        .into(),
    );
    request.finalize();
    let mut buffer = vec![0; request.buffer_len()];
    request.serialize(&mut buffer);
    socket.send(&buffer, 0)?;

    let mut received = vec![0u8; 32 * 1024];
    loop {
        let size = socket.recv(&mut &mut received[..], 0)?;
        let mut offset = 0;
        while offset < size {
            let message =
                NetlinkMessage::<SockDiagMessage>::deserialize(&received[offset..size])
                    .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
            let length = message.header.length as usize;
            match message.payload {
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                    let id = &response.header.socket_id;
                    let peer = SocketAddr::new(id.destination_address, id.destination_port);
                    peers.insert(u64::from(response.header.inode), peer);
                }
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(err) => {
                    return Err(err.to_io());
                }
                _ => {}
            }
            if length == 0 {
                break;
            }
            offset += length;
        }
        if size == 0 {
            return Ok(());
        }
    }
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
