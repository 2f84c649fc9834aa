//! A datagram socket, UDP or Unix: what `-u` reads and writes in `listen` and `connect`. The
//! modes are written once over this type; only binding, and who may be answered, differ.

use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use super::endpoint::UnixAddr;

/// The largest UDP payload (and so the receive buffer for UDP).
const MAX_UDP: usize = 65_535;

/// The receive buffer for Unix datagrams: Linux lets a datagram be as large as the sender's
/// send buffer (212,992 bytes by default), and a shorter buffer would cut it silently.
const MAX_UNIX: usize = 256 * 1024;

/// A bound datagram socket.
#[derive(Debug)]
pub enum DatagramSocket {
    /// UDP.
    Udp(UdpSocket),
    /// A Unix datagram socket.
    Unix(UnixDatagram),
}

/// Where a datagram came from, or goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DatagramPeer {
    /// A UDP address.
    Ip(SocketAddr),
    /// A Unix socket bound to a path or an abstract name.
    Unix(UnixAddr),
    /// A Unix socket that never bound an address: what it sends arrives, but nothing can be
    /// sent back to it.
    Unbound,
}

impl DatagramPeer {
    /// Whether a datagram can be sent to this peer.
    pub fn can_be_answered(&self) -> bool {
        !matches!(self, DatagramPeer::Unbound)
    }

    fn from_unix(addr: &std::os::unix::net::SocketAddr) -> DatagramPeer {
        if let Some(path) = addr.as_pathname() {
            return DatagramPeer::Unix(UnixAddr::Path(path.to_path_buf()));
        }
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            if let Some(name) = addr.as_abstract_name() {
                return DatagramPeer::Unix(UnixAddr::Abstract(name.to_vec()));
            }
        }
        DatagramPeer::Unbound
    }
}

impl fmt::Display for DatagramPeer {
    /// `127.0.0.1:9000`, `unix:/tmp/d.sock`, `unix:@name`, `an unbound unix socket`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatagramPeer::Ip(addr) => addr.fmt(f),
            DatagramPeer::Unix(addr) => addr.fmt(f),
            DatagramPeer::Unbound => f.write_str("an unbound unix socket"),
        }
    }
}

impl DatagramSocket {
    /// Receives one datagram and its sender (a datagram longer than the buffer is cut).
    pub fn recv_from(&self, buffer: &mut [u8]) -> io::Result<(usize, DatagramPeer)> {
        match self {
            DatagramSocket::Udp(socket) => socket
                .recv_from(buffer)
                .map(|(n, from)| (n, DatagramPeer::Ip(from))),
            DatagramSocket::Unix(socket) => socket
                .recv_from(buffer)
                .map(|(n, from)| (n, DatagramPeer::from_unix(&from))),
        }
    }

    /// Sends one datagram to `to`.
    pub fn send_to(&self, data: &[u8], to: &DatagramPeer) -> io::Result<usize> {
        match (self, to) {
            (DatagramSocket::Udp(socket), DatagramPeer::Ip(addr)) => socket.send_to(data, addr),
            (DatagramSocket::Unix(socket), DatagramPeer::Unix(addr)) => {
                socket.send_to_addr(data, &addr.to_socket_addr()?)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{to} cannot be sent to"),
            )),
        }
    }

    /// Sends one datagram to the connected peer.
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        match self {
            DatagramSocket::Udp(socket) => socket.send(data),
            DatagramSocket::Unix(socket) => socket.send(data),
        }
    }

    /// Receives one datagram from the connected peer.
    pub fn recv(&self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            DatagramSocket::Udp(socket) => socket.recv(buffer),
            DatagramSocket::Unix(socket) => socket.recv(buffer),
        }
    }

    /// A receive that waits at most `timeout` (`None`: for ever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            DatagramSocket::Udp(socket) => socket.set_read_timeout(timeout),
            DatagramSocket::Unix(socket) => socket.set_read_timeout(timeout),
        }
    }

    /// Shuts the receiving side down: a receive that waits returns at once (Ctrl-C).
    pub fn shutdown_read(&self) -> io::Result<()> {
        socket2::SockRef::from(self).shutdown(std::net::Shutdown::Read)
    }

    /// The socket's own address.
    pub fn local_addr(&self) -> io::Result<DatagramPeer> {
        match self {
            DatagramSocket::Udp(socket) => socket.local_addr().map(DatagramPeer::Ip),
            DatagramSocket::Unix(socket) => socket
                .local_addr()
                .map(|addr| DatagramPeer::from_unix(&addr)),
        }
    }

    /// A buffer size that holds any datagram this socket can receive.
    pub fn max_datagram(&self) -> usize {
        match self {
            DatagramSocket::Udp(_) => MAX_UDP,
            DatagramSocket::Unix(_) => MAX_UNIX,
        }
    }

    /// `udp` or `unix-dgram`, as the ready line and `-v` name the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            DatagramSocket::Udp(_) => "udp",
            DatagramSocket::Unix(_) => "unix-dgram",
        }
    }
}

impl AsFd for DatagramSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            DatagramSocket::Udp(socket) => socket.as_fd(),
            DatagramSocket::Unix(socket) => socket.as_fd(),
        }
    }
}

/// A client's Unix datagram socket, connected to `peer` and bound to an address of its own so
/// that replies can come back: an abstract name on Linux (nothing to remove afterwards), a
/// socket file in the temporary directory elsewhere (removed when the [`ClientName`] drops).
pub fn unix_client(peer: &UnixAddr) -> io::Result<(DatagramSocket, ClientName)> {
    let addr = client_address();
    let socket = UnixDatagram::bind_addr(&addr.to_socket_addr()?)?;
    // Bound: a socket file at that address is ours from here on, whatever fails next.
    let name = ClientName(addr);
    socket.connect_addr(&peer.to_socket_addr()?)?;
    Ok((DatagramSocket::Unix(socket), name))
}

/// An address no other socket has: the process id, a counter and the clock.
fn client_address() -> UnixAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let unique = format!(
        "sockx-{}-{}-{nanos:x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    #[cfg(target_os = "linux")]
    return UnixAddr::Abstract(unique.into_bytes());
    #[cfg(not(target_os = "linux"))]
    return UnixAddr::Path(std::env::temp_dir().join(format!("{unique}.sock")));
}

/// The address a [`unix_client`] bound; its socket file, if any, is removed when this drops.
#[derive(Debug)]
pub struct ClientName(UnixAddr);

impl Drop for ClientName {
    fn drop(&mut self) {
        if let Some(path) = self.0.file() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_datagrams_keep_their_boundaries_and_their_sender() {
        let dir = std::env::temp_dir().join(format!("sockx-dgram-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let server_path = dir.join("server.sock");
        let _ = std::fs::remove_file(&server_path);
        let server = DatagramSocket::Unix(UnixDatagram::bind(&server_path).unwrap());
        let (client, _name) = unix_client(&UnixAddr::Path(server_path.clone())).unwrap();
        client.send(b"one").unwrap();
        client.send(b"two!").unwrap();
        let mut buffer = vec![0u8; server.max_datagram()];
        let (n, from) = server.recv_from(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"one");
        assert_eq!(from, client.local_addr().unwrap());
        assert!(matches!(from, DatagramPeer::Unix(_)));
        let (n, _) = server.recv_from(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"two!");
        server.send_to(b"back", &from).unwrap();
        assert_eq!(client.recv(&mut buffer).unwrap(), 4);
        assert_eq!(&buffer[..4], b"back");

        let anonymous = UnixDatagram::unbound().unwrap();
        anonymous.send_to(b"x", &server_path).unwrap();
        let (_, from) = server.recv_from(&mut buffer).unwrap();
        assert_eq!(from, DatagramPeer::Unbound);
        assert!(!from.can_be_answered());
        assert!(server.send_to(b"no", &from).is_err());
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
