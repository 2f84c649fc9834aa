//! Unix-domain sockets, from the kernel's sock_diag netlink interface (what `ss -x` reads).
//!
//! One dump asks for every AF_UNIX socket with its name (`UNIX_DIAG_NAME`), the file it is
//! bound to (`UNIX_DIAG_VFS`), its peer's inode (`UNIX_DIAG_PEER`) and its owner
//! (`UNIX_DIAG_UID`, Linux 5.3+). The request and the answers are framed with
//! netlink-packet-core and the constants come from netlink-packet-sock-diag, but the unix
//! parts are read here: that crate's `UnixRequest` can only ask for LISTEN and ESTABLISHED
//! sockets (a bound datagram socket is in TCP_CLOSE), and its name parser rejects a whole
//! message when a path is not UTF-8, which one odd socket anywhere would turn into a failed
//! listing.

use std::io;

use netlink_packet_core::{
    NETLINK_HEADER_LEN, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer,
};
use netlink_packet_sock_diag::constants::{
    AF_UNIX, SOCK_DGRAM, SOCK_DIAG_BY_FAMILY, SOCK_SEQPACKET, SOCK_STREAM, TCP_CLOSE,
    TCP_ESTABLISHED, TCP_LISTEN, UDIAG_SHOW_NAME, UDIAG_SHOW_PEER, UDIAG_SHOW_VFS, UNIX_DIAG_NAME,
    UNIX_DIAG_PEER, UNIX_DIAG_VFS,
};
use netlink_packet_sock_diag::unix::{UNIX_REQUEST_LEN, UnixRequestBuffer};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::{Socket, SocketAddr as NetlinkAddr};

use crate::net::SocketState;
use crate::os::unix_sockets::{UnixKind, UnixName, UnixSocket};

/// `UNIX_DIAG_UID` and its show flag (Linux 5.3), which the crate does not name.
const UNIX_DIAG_UID: u16 = 7;
const UDIAG_SHOW_UID: u32 = 0x40;

/// The kernel's state filter is a mask of `1 << state`: every state, or only those of
/// listeners and unconnected sockets (connected ones are most of a host's Unix sockets, so
/// the kernel leaving them out keeps the default listing small).
const EVERY_STATE: u32 = u32::MAX;
const UNCONNECTED_STATES: u32 = (1 << TCP_LISTEN) | (1 << TCP_CLOSE);

/// The Unix-domain sockets of this network namespace: all of them, or with
/// `unconnected_only` only listening and unconnected ones.
pub fn unix_sockets(unconnected_only: bool) -> io::Result<Vec<UnixSocket>> {
    let states = if unconnected_only {
        UNCONNECTED_STATES
    } else {
        EVERY_STATE
    };
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&NetlinkAddr::new(0, 0))?;
    socket.send(&request(states), 0)?;

    let mut sockets = Vec::new();
    let mut received = vec![0u8; 64 * 1024];
    loop {
        let size = socket.recv(&mut &mut received[..], 0)?;
        if size == 0 {
            return Ok(sockets);
        }
        let mut rest = &received[..size];
        while !rest.is_empty() {
            let message = NetlinkBuffer::new_checked(rest)
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
            let length = message.length() as usize;
            match message.message_type() {
                NLMSG_DONE => return Ok(sockets),
                NLMSG_ERROR => {
                    let code = message.payload().get(..4).map_or(0, |bytes| {
                        i32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
                    });
                    if code != 0 {
                        return Err(io::Error::from_raw_os_error(-code));
                    }
                }
                SOCK_DIAG_BY_FAMILY => {
                    if let Some(found) = parse_socket(message.payload()) {
                        sockets.push(found);
                    }
                }
                _ => {}
            }
            // Messages are aligned to 4 bytes.
            let step = length.div_ceil(4) * 4;
            if step == 0 || step > rest.len() {
                break;
            }
            rest = &rest[step..];
        }
    }
}

/// The dump request: sockets in `states`, with name, file, peer and owner.
fn request(states: u32) -> Vec<u8> {
    let length = NETLINK_HEADER_LEN + UNIX_REQUEST_LEN;
    let mut buffer = vec![0u8; length];
    let mut header = NetlinkBuffer::new(&mut buffer[..]);
    header.set_length(length as u32);
    header.set_message_type(SOCK_DIAG_BY_FAMILY);
    header.set_flags(NLM_F_REQUEST | NLM_F_DUMP);
    let mut body = UnixRequestBuffer::new(&mut buffer[NETLINK_HEADER_LEN..]);
    body.set_family(AF_UNIX);
    body.set_protocol(0);
    body.set_state_flags(states);
    body.set_show_flags(UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_UID);
    buffer
}

/// One `struct unix_diag_msg` and its attributes; `None` for a message too short to be one.
fn parse_socket(payload: &[u8]) -> Option<UnixSocket> {
    // family u8, type u8, state u8, pad u8, inode u32, cookie [u32; 2], then attributes.
    let header = payload.get(..16)?;
    let kind = match header[1] {
        SOCK_STREAM => UnixKind::Stream,
        SOCK_DGRAM => UnixKind::Dgram,
        SOCK_SEQPACKET => UnixKind::SeqPacket,
        _ => return None,
    };
    let connection_oriented = kind != UnixKind::Dgram;
    let state = match header[2] {
        TCP_LISTEN => SocketState::Listen,
        TCP_ESTABLISHED => SocketState::Established,
        // An unconnected socket: bound datagram, or a stream socket not yet connected.
        TCP_CLOSE if !connection_oriented => SocketState::Unconn,
        TCP_CLOSE => SocketState::Close,
        _ => SocketState::Unknown,
    };
    let inode = u64::from(u32::from_ne_bytes(header[4..8].try_into().ok()?));
    let mut found = UnixSocket {
        kind,
        state,
        inode,
        name: None,
        file: None,
        peer: None,
        uid: None,
        pids: Vec::new(),
    };
    let mut attributes = &payload[16..];
    while attributes.len() >= 4 {
        let length = usize::from(u16::from_ne_bytes([attributes[0], attributes[1]]));
        let kind = u16::from_ne_bytes([attributes[2], attributes[3]]) & 0x3fff;
        if length < 4 || length > attributes.len() {
            break;
        }
        let value = &attributes[4..length];
        match kind {
            UNIX_DIAG_NAME => found.name = UnixName::from_sun_path(value),
            UNIX_DIAG_VFS if value.len() >= 8 => {
                let ino = u32::from_ne_bytes(value[0..4].try_into().ok()?);
                let dev = u32::from_ne_bytes(value[4..8].try_into().ok()?);
                found.file = Some((dev, u64::from(ino)));
            }
            UNIX_DIAG_PEER if value.len() >= 4 => {
                let peer = u32::from_ne_bytes(value[0..4].try_into().ok()?);
                found.peer = (peer != 0).then_some(u64::from(peer));
            }
            UNIX_DIAG_UID if value.len() >= 4 => {
                found.uid = Some(u32::from_ne_bytes(value[0..4].try_into().ok()?));
            }
            _ => {}
        }
        attributes = attributes.get(length.div_ceil(4) * 4..).unwrap_or_default();
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

    #[test]
    fn finds_our_listener_its_connection_and_a_datagram_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let client = UnixStream::connect(&path).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let dgram_path = dir.path().join("d.sock");
        let _dgram = UnixDatagram::bind(&dgram_path).unwrap();
        let _ = client;

        let sockets = unix_sockets(false).unwrap();
        let unconnected = unix_sockets(true).unwrap();
        assert!(
            unconnected
                .iter()
                .all(|s| s.state != SocketState::Established)
        );
        assert!(
            unconnected
                .iter()
                .any(|s| s.name == Some(UnixName::Path(path.clone().into_os_string())))
        );
        let named = |p: &std::path::Path| {
            sockets
                .iter()
                .filter(|s| s.name == Some(UnixName::Path(p.as_os_str().to_owned())))
                .collect::<Vec<_>>()
        };
        let at_path = named(&path);
        let listening = at_path
            .iter()
            .find(|s| s.state == SocketState::Listen)
            .unwrap();
        assert_eq!(listening.kind, UnixKind::Stream);
        assert!(listening.file.is_some());
        assert_eq!(listening.uid, Some(rustix::process::getuid().as_raw()));
        // The accepted end carries the listener's name; the client's end points at it.
        let accepted = at_path
            .iter()
            .find(|s| s.state == SocketState::Established)
            .unwrap();
        let peer = sockets
            .iter()
            .find(|s| Some(s.inode) == accepted.peer)
            .unwrap();
        assert_eq!(peer.peer, Some(accepted.inode));
        assert_eq!(peer.name, None);
        let dgram = named(&dgram_path);
        assert_eq!(dgram.len(), 1);
        assert_eq!(dgram[0].kind, UnixKind::Dgram);
        assert_eq!(dgram[0].state, SocketState::Unconn);
    }

    #[test]
    fn short_or_odd_messages_are_skipped() {
        assert!(parse_socket(&[1, 2, 3]).is_none());
        let mut message = vec![AF_UNIX, 99, TCP_LISTEN, 0, 1, 0, 0, 0];
        message.extend([0; 8]);
        assert!(parse_socket(&message).is_none());
        message[1] = SOCK_SEQPACKET;
        // An attribute whose length runs past the end is ignored, not read.
        message.extend([200, 0, 0, 0, b'x']);
        let socket = parse_socket(&message).unwrap();
        assert_eq!(socket.kind, UnixKind::SeqPacket);
        assert_eq!(socket.name, None);
    }
}
