//! A connected byte stream for the async served modes (`listen -k`, `--echo`, `--exec`), the
//! async twin of [`Stream`]: TCP or Unix, read and written through `AsyncRead + AsyncWrite`.
//!
//! [`AsyncStream::plain`] is the socket whose bytes *are* the stream's, for splice and for
//! handing it to a child as its stdin/stdout ([`AsyncStream::into_std`]). A split stream's
//! halves can be used from separate futures of one task, and its socket stays reachable apart
//! from both ([`ReadHalf::socket`]: send-queue sizes, linger).
//!
//! A TLS session (tokio-rustls' `TlsStream<AsyncStream>`, over TCP or Unix) is meant to be one
//! more variant here, boxed, with one more variant in each half (tokio's `split` of it):
//! `plain()` and `ReadHalf::socket()` answer `None` for it, so `--echo` copies, `--exec`
//! relays through pipes, and `-k` judges a slow client by its own pending chunk only.

use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf, Ready};
use tokio::net::{TcpStream, UnixStream};

use super::stream::Stream;

/// A connected stream for async code.
#[derive(Debug)]
pub enum AsyncStream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix stream socket connection.
    Unix(UnixStream),
    /// A TLS session (`listen --tls`) over a TCP or Unix connection.
    Tls(Box<TlsSession>),
}

/// The server side of a TLS session over a plain [`AsyncStream`].
pub use super::tls::ServerSession as TlsSession;

/// The plain socket of a stream whose bytes are the socket's own: what splice and readiness
/// work on. It reads and writes by shared reference too.
#[derive(Debug, Clone, Copy)]
pub enum PlainSocket<'a> {
    /// A TCP connection.
    Tcp(&'a TcpStream),
    /// A Unix stream socket connection.
    Unix(&'a UnixStream),
}

impl AsyncStream {
    /// The plain socket, when the stream's bytes are the socket's (not a TLS session).
    pub fn plain(&self) -> Option<PlainSocket<'_>> {
        match self {
            AsyncStream::Tcp(stream) => Some(PlainSocket::Tcp(stream)),
            AsyncStream::Unix(stream) => Some(PlainSocket::Unix(stream)),
            AsyncStream::Tls(_) => None,
        }
    }

    /// The blocking stream, for handing the socket itself to a child (which expects ordinary
    /// blocking stdin and stdout). Only a plain socket ([`AsyncStream::plain`]) has one: for any
    /// other stream this fails with `Unsupported`.
    pub fn into_std(self) -> io::Result<Stream> {
        let stream = match self {
            AsyncStream::Tcp(stream) => Stream::Tcp(stream.into_std()?),
            AsyncStream::Unix(stream) => Stream::Unix(stream.into_std()?),
            AsyncStream::Tls(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "a TLS session has no plain socket",
                ));
            }
        };
        stream.set_nonblocking(false)?;
        Ok(stream)
    }

    /// A blocking stream made async again (set to non-blocking here). Needs a runtime.
    pub fn from_std(stream: Stream) -> io::Result<AsyncStream> {
        stream.set_nonblocking(true)?;
        match stream {
            Stream::Tcp(stream) => TcpStream::from_std(stream).map(AsyncStream::Tcp),
            Stream::Unix(stream) => UnixStream::from_std(stream).map(AsyncStream::Unix),
            Stream::Tls(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a blocking TLS session cannot be made async",
            )),
        }
    }

    /// Splits into a read half and a write half that can be used from separate futures.
    pub fn into_split(self) -> (ReadHalf, WriteHalf) {
        match self {
            AsyncStream::Tcp(stream) => {
                let stream = Arc::new(stream);
                (ReadHalf::Tcp(Arc::clone(&stream)), WriteHalf::Tcp(stream))
            }
            AsyncStream::Unix(stream) => {
                let stream = Arc::new(stream);
                (ReadHalf::Unix(Arc::clone(&stream)), WriteHalf::Unix(stream))
            }
            AsyncStream::Tls(session) => {
                let (reader, writer) = tokio::io::split(*session);
                (ReadHalf::Tls(reader), WriteHalf::Tls(writer))
            }
        }
    }
}

/// The read half of an [`AsyncStream`].
#[derive(Debug)]
pub enum ReadHalf {
    /// Of a TCP connection.
    Tcp(Arc<TcpStream>),
    /// Of a Unix stream socket connection.
    Unix(Arc<UnixStream>),
    /// Of a TLS session (the halves share the session behind tokio's lock).
    Tls(tokio::io::ReadHalf<TlsSession>),
}

/// The write half of an [`AsyncStream`]; shutting it down half-closes the stream (a TLS
/// session's: `close_notify`, then the FIN).
#[derive(Debug)]
pub enum WriteHalf {
    /// Of a TCP connection.
    Tcp(Arc<TcpStream>),
    /// Of a Unix stream socket connection.
    Unix(Arc<UnixStream>),
    /// Of a TLS session.
    Tls(tokio::io::WriteHalf<TlsSession>),
}

/// The socket under a split stream, held apart from its halves (which are busy reading and
/// writing): for send-queue sizes and socket options. It keeps the socket open.
#[derive(Debug, Clone)]
pub enum SocketHandle {
    /// A TCP connection.
    Tcp(Arc<TcpStream>),
    /// A Unix stream socket connection.
    Unix(Arc<UnixStream>),
}

impl ReadHalf {
    /// The socket underneath, when this half can reach it (a TLS half cannot).
    pub fn socket(&self) -> Option<SocketHandle> {
        match self {
            ReadHalf::Tcp(stream) => Some(SocketHandle::Tcp(Arc::clone(stream))),
            ReadHalf::Unix(stream) => Some(SocketHandle::Unix(Arc::clone(stream))),
            ReadHalf::Tls(_) => None,
        }
    }
}

impl AsFd for SocketHandle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            SocketHandle::Tcp(stream) => stream.as_fd(),
            SocketHandle::Unix(stream) => stream.as_fd(),
        }
    }
}

/// Reads from a shared tokio socket: wait for readiness, then a read that does not block (the
/// readiness is cleared when it would).
macro_rules! poll_read_shared {
    ($stream:expr, $cx:expr, $buf:expr) => {
        loop {
            std::task::ready!($stream.poll_read_ready($cx))?;
            match $stream.try_read($buf.initialize_unfilled()) {
                Ok(n) => {
                    $buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    };
}

/// Writes to a shared tokio socket, as [`poll_read_shared`] reads.
macro_rules! poll_write_shared {
    ($stream:expr, $cx:expr, $buf:expr) => {
        loop {
            std::task::ready!($stream.poll_write_ready($cx))?;
            match $stream.try_write($buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    };
}

impl AsyncRead for ReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ReadHalf::Tcp(stream) => poll_read_shared!(stream, cx, buf),
            ReadHalf::Unix(stream) => poll_read_shared!(stream, cx, buf),
            ReadHalf::Tls(half) => Pin::new(half).poll_read(cx, buf),
        }
    }
}

impl AsyncRead for PlainSocket<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match *self {
            PlainSocket::Tcp(stream) => poll_read_shared!(stream, cx, buf),
            PlainSocket::Unix(stream) => poll_read_shared!(stream, cx, buf),
        }
    }
}

impl AsyncWrite for PlainSocket<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match *self {
            PlainSocket::Tcp(stream) => poll_write_shared!(stream, cx, buf),
            PlainSocket::Unix(stream) => poll_write_shared!(stream, cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write side: the peer reads EOF.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

impl AsyncWrite for WriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WriteHalf::Tcp(stream) => poll_write_shared!(stream, cx, buf),
            WriteHalf::Unix(stream) => poll_write_shared!(stream, cx, buf),
            WriteHalf::Tls(half) => Pin::new(half).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Tls(half) => Pin::new(half).poll_flush(cx),
            WriteHalf::Tcp(_) | WriteHalf::Unix(_) => Poll::Ready(Ok(())),
        }
    }

    /// Shuts down the write side: the peer reads EOF.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shut = match self.get_mut() {
            WriteHalf::Tcp(stream) => socket2::SockRef::from(&**stream).shutdown(Shutdown::Write),
            WriteHalf::Unix(stream) => socket2::SockRef::from(&**stream).shutdown(Shutdown::Write),
            WriteHalf::Tls(half) => return Pin::new(half).poll_shutdown(cx),
        };
        Poll::Ready(shut)
    }
}

impl PlainSocket<'_> {
    /// Waits until the socket is ready for `interest` (see tokio's `TcpStream::ready`).
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        match self {
            PlainSocket::Tcp(stream) => stream.ready(interest).await,
            PlainSocket::Unix(stream) => stream.ready(interest).await,
        }
    }

    /// Runs `f` on the socket, clearing its readiness for `interest` when `f` would block.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        match self {
            PlainSocket::Tcp(stream) => stream.try_io(interest, f),
            PlainSocket::Unix(stream) => stream.try_io(interest, f),
        }
    }

    /// Shuts down the write side: the peer reads EOF.
    pub fn shutdown_write(&self) -> io::Result<()> {
        socket2::SockRef::from(self).shutdown(Shutdown::Write)
    }
}

impl AsFd for PlainSocket<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            PlainSocket::Tcp(stream) => stream.as_fd(),
            PlainSocket::Unix(stream) => stream.as_fd(),
        }
    }
}

impl From<TcpStream> for AsyncStream {
    fn from(stream: TcpStream) -> AsyncStream {
        AsyncStream::Tcp(stream)
    }
}

impl From<UnixStream> for AsyncStream {
    fn from(stream: UnixStream) -> AsyncStream {
        AsyncStream::Unix(stream)
    }
}

impl<'a> From<&'a TcpStream> for PlainSocket<'a> {
    fn from(stream: &'a TcpStream) -> PlainSocket<'a> {
        PlainSocket::Tcp(stream)
    }
}

/// Forwards the I/O traits to whichever variant a type holds.
macro_rules! forward_io {
    ($type:ident) => {
        impl AsyncRead for $type {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $type::Tcp(inner) => Pin::new(inner).poll_read(cx, buf),
                    $type::Unix(inner) => Pin::new(inner).poll_read(cx, buf),
                    $type::Tls(inner) => Pin::new(inner).poll_read(cx, buf),
                }
            }
        }
    };
    ($type:ident, write) => {
        impl AsyncWrite for $type {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                match self.get_mut() {
                    $type::Tcp(inner) => Pin::new(inner).poll_write(cx, buf),
                    $type::Unix(inner) => Pin::new(inner).poll_write(cx, buf),
                    $type::Tls(inner) => Pin::new(inner).poll_write(cx, buf),
                }
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $type::Tcp(inner) => Pin::new(inner).poll_flush(cx),
                    $type::Unix(inner) => Pin::new(inner).poll_flush(cx),
                    $type::Tls(inner) => Pin::new(inner).poll_flush(cx),
                }
            }

            /// Shuts down the write side: the peer reads EOF.
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $type::Tcp(inner) => Pin::new(inner).poll_shutdown(cx),
                    $type::Unix(inner) => Pin::new(inner).poll_shutdown(cx),
                    $type::Tls(inner) => Pin::new(inner).poll_shutdown(cx),
                }
            }
        }
    };
}

forward_io!(AsyncStream);
forward_io!(AsyncStream, write);

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn unix_streams_read_write_split_and_half_close() {
        let (a, b) = UnixStream::pair().expect("pair");
        let (mut a, b) = (AsyncStream::from(a), AsyncStream::from(b));
        assert!(a.plain().is_some());
        a.write_all(b"ping").await.expect("write");
        a.shutdown().await.expect("shutdown");
        let (mut reader, mut writer) = b.into_split();
        assert!(reader.socket().is_some());
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await.expect("read");
        assert_eq!(got, b"ping");
        writer.write_all(b"pong").await.expect("write back");
        drop(writer);
        let mut back = [0u8; 4];
        a.read_exact(&mut back).await.expect("read back");
        assert_eq!(&back, b"pong");
    }

    #[tokio::test]
    async fn a_tcp_stream_goes_to_std_and_back() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr"));
        let (client, accepted) = tokio::join!(client, listener.accept());
        let mut client = client.expect("connect");
        let server = AsyncStream::from(accepted.expect("accept").0);
        let std = server.into_std().expect("into_std");
        let mut server = AsyncStream::from_std(std).expect("from_std");
        server.write_all(b"x").await.expect("write");
        let mut byte = [0u8; 1];
        client.read_exact(&mut byte).await.expect("read");
        assert_eq!(&byte, b"x");
    }
}
