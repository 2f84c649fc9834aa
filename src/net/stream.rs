//! A connected byte stream, whatever carries it: what the relay (and, in time, `-k`, `--echo`,
//! `--exec` and `--forward`) take instead of a `TcpStream`.
//!
//! Every stream reads, writes, shuts down its write side (or both, to end a session from
//! another thread), describes its peer for messages, and hands out its raw descriptor when it
//! has one, so that the relay can splice. A TLS session over TCP or Unix
//! ([`crate::net::relay::tls::TlsStream`]) answers `None` there and the relay takes its copy
//! path with large buffers; it keeps its session behind a lock that is never held across a
//! wait, so that one thread can read while another writes, as both directions of a relay do.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use super::endpoint::UnixAddr;
use super::relay::tls::TlsStream;

/// A connected stream socket.
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix stream socket connection.
    Unix(UnixStream),
    /// A TLS session over a TCP or Unix connection.
    Tls(Box<TlsStream>),
}

/// Who is at the other end, for messages: `127.0.0.1:8080`, `unix:/run/app.sock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerName {
    /// A TCP peer (IPv4-mapped addresses shown as IPv4).
    Inet(SocketAddr),
    /// A Unix peer, named by the socket's address (the listener's, for a client: a client's
    /// own end is usually unnamed).
    Unix(UnixAddr),
    /// A Unix peer whose socket has no name.
    UnnamedUnix,
}

impl fmt::Display for PeerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerName::Inet(addr) => addr.fmt(f),
            PeerName::Unix(addr) => addr.fmt(f),
            PeerName::UnnamedUnix => f.write_str("unix peer"),
        }
    }
}

impl Stream {
    /// The socket's descriptor, for splice and poll; `None` for a stream that must be read and
    /// written through its own code (TLS).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Stream::Tcp(stream) => Some(stream.as_fd()),
            Stream::Unix(stream) => Some(stream.as_fd()),
            Stream::Tls(_) => None,
        }
    }

    /// Shuts down the write side (`Shutdown::Write`: the peer reads EOF) or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(stream) => stream.shutdown(how),
            Stream::Unix(stream) => stream.shutdown(how),
            Stream::Tls(stream) => stream.shutdown(how),
        }
    }

    /// Makes reads and writes block or not (the flag lives on the open file, so it holds for
    /// every copy of the descriptor, a child's included).
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(stream) => stream.set_nonblocking(nonblocking),
            Stream::Unix(stream) => stream.set_nonblocking(nonblocking),
            // A TLS session runs its socket non-blocking and waits in poll itself.
            Stream::Tls(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a TLS stream keeps its own blocking mode",
            )),
        }
    }

    /// Another descriptor for the same socket (e.g. a child's stdin).
    pub fn try_clone_fd(&self) -> io::Result<std::os::fd::OwnedFd> {
        match self {
            Stream::Tcp(stream) => stream.as_fd().try_clone_to_owned(),
            Stream::Unix(stream) => stream.as_fd().try_clone_to_owned(),
            // The socket under a TLS session carries records, not the session's bytes.
            Stream::Tls(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a TLS stream has no descriptor of its own bytes",
            )),
        }
    }

    /// The other end, as messages name it.
    pub fn peer(&self) -> io::Result<PeerName> {
        match self {
            Stream::Tcp(stream) => {
                let addr = stream.peer_addr()?;
                Ok(PeerName::Inet(SocketAddr::new(
                    addr.ip().to_canonical(),
                    addr.port(),
                )))
            }
            Stream::Unix(stream) => Ok(unix_name(&stream.peer_addr()?)),
            Stream::Tls(stream) => stream.inner().peer(),
        }
    }

    /// The TCP connection, when it is one or carries one (for TCP-only tuning and reports).
    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Tcp(stream) => Some(stream),
            Stream::Unix(_) => None,
            Stream::Tls(stream) => stream.inner().tcp(),
        }
    }

    /// The TLS session, when it is one.
    pub fn tls(&self) -> Option<&TlsStream> {
        match self {
            Stream::Tls(stream) => Some(stream),
            Stream::Tcp(_) | Stream::Unix(_) => None,
        }
    }
}

/// A Unix socket address as a [`PeerName`].
pub fn unix_name(addr: &std::os::unix::net::SocketAddr) -> PeerName {
    if let Some(path) = addr.as_pathname() {
        return PeerName::Unix(UnixAddr::Path(path.to_path_buf()));
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = addr.as_abstract_name() {
            return PeerName::Unix(UnixAddr::Abstract(name.to_vec()));
        }
    }
    PeerName::UnnamedUnix
}

impl From<TcpStream> for Stream {
    fn from(stream: TcpStream) -> Stream {
        Stream::Tcp(stream)
    }
}

impl From<TlsStream> for Stream {
    fn from(stream: TlsStream) -> Stream {
        Stream::Tls(Box::new(stream))
    }
}

impl From<UnixStream> for Stream {
    fn from(stream: UnixStream) -> Stream {
        Stream::Unix(stream)
    }
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(stream) => (&*stream).read(buf),
            Stream::Unix(stream) => (&*stream).read(buf),
            Stream::Tls(stream) => (&**stream).read(buf),
        }
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(stream) => (&*stream).write(buf),
            Stream::Unix(stream) => (&*stream).write(buf),
            Stream::Tls(stream) => (&**stream).write(buf),
        }
    }

    /// One `writev(2)` for all of `bufs` on a plain stream (TLS's sealed records go out this
    /// way: the default would send only the first of them per call).
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(stream) => (&*stream).write_vectored(bufs),
            Stream::Unix(stream) => (&*stream).write_vectored(bufs),
            Stream::Tls(stream) => (&**stream).write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tls(stream) => (&**stream).flush(),
            Stream::Tcp(_) | Stream::Unix(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn tcp_streams_read_write_and_half_close() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = Stream::from(TcpStream::connect(addr).expect("connect"));
        let (server, _) = listener.accept().expect("accept");
        assert_eq!(client.peer().expect("peer"), PeerName::Inet(addr));
        assert!(client.fd().is_some());
        (&client).write_all(b"ping").expect("write");
        client.shutdown(Shutdown::Write).expect("shutdown");
        let mut got = Vec::new();
        (&server).read_to_end(&mut got).expect("read");
        assert_eq!(got, b"ping");
    }

    #[test]
    fn a_vectored_write_sends_every_buffer_at_once() {
        // TLS hands its sealed records over as one vectored write; sending only the first
        // record per call multiplied the system calls by the records in a relay buffer.
        let (a, b) = UnixStream::pair().expect("pair");
        let a = Stream::from(a);
        let bufs = [io::IoSlice::new(b"one "), io::IoSlice::new(b"two")];
        assert_eq!((&a).write_vectored(&bufs).expect("writev"), 7);
        let mut got = [0u8; 7];
        (&b).read_exact(&mut got).expect("read");
        assert_eq!(&got, b"one two");
    }

    #[test]
    fn unix_pairs_are_streams_with_unnamed_peers() {
        let (a, b) = UnixStream::pair().expect("pair");
        let a = Stream::from(a);
        assert_eq!(a.peer().expect("peer"), PeerName::UnnamedUnix);
        assert!(a.tcp().is_none());
        (&a).write_all(b"x").expect("write");
        let mut byte = [0u8; 1];
        (&b).read_exact(&mut byte).expect("read");
        assert_eq!(&byte, b"x");
    }
}
