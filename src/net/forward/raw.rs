//! A plain socket of a forwarded connection, borrowed: its readiness, its descriptor (for
//! splice), and `AsyncRead`/`AsyncWrite` through `&self`, so that both directions of a
//! connection can use one socket at once (one reads it while the other writes it).

use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf, Ready};
use tokio::net::{TcpStream, UnixStream};

/// A TCP or Unix stream socket registered with tokio.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    /// TCP.
    Tcp(&'a TcpStream),
    /// A Unix stream socket.
    Unix(&'a UnixStream),
}

impl<'a> Raw<'a> {
    /// The socket's descriptor.
    pub fn fd(self) -> BorrowedFd<'a> {
        match self {
            Raw::Tcp(stream) => stream.as_fd(),
            Raw::Unix(stream) => stream.as_fd(),
        }
    }

    /// Waits until the socket is ready for `interest`.
    pub async fn ready(self, interest: Interest) -> io::Result<Ready> {
        match self {
            Raw::Tcp(stream) => stream.ready(interest).await,
            Raw::Unix(stream) => stream.ready(interest).await,
        }
    }

    /// Runs `call` on the socket; a `WouldBlock` from it clears tokio's readiness for
    /// `interest`, so that the next [`Raw::ready`] waits for the kernel again.
    pub fn try_io<T>(
        self,
        interest: Interest,
        call: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<T> {
        match self {
            Raw::Tcp(stream) => stream.try_io(interest, call),
            Raw::Unix(stream) => stream.try_io(interest, call),
        }
    }

    /// Shuts down the write side (the peer reads EOF) or both.
    pub fn shutdown(self, how: Shutdown) -> io::Result<()> {
        socket2::SockRef::from(&self.fd()).shutdown(how)
    }

    fn poll_read_ready(self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Raw::Tcp(stream) => stream.poll_read_ready(cx),
            Raw::Unix(stream) => stream.poll_read_ready(cx),
        }
    }

    fn poll_write_ready(self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Raw::Tcp(stream) => stream.poll_write_ready(cx),
            Raw::Unix(stream) => stream.poll_write_ready(cx),
        }
    }

    fn try_read(self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Raw::Tcp(stream) => stream.try_read(buf),
            Raw::Unix(stream) => stream.try_read(buf),
        }
    }

    fn try_write(self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Raw::Tcp(stream) => stream.try_write(buf),
            Raw::Unix(stream) => stream.try_write(buf),
        }
    }
}

impl AsyncRead for Raw<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let raw = *self;
        loop {
            ready!(raw.poll_read_ready(cx))?;
            match raw.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(err) if is_retry(&err) => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for Raw<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let raw = *self;
        loop {
            ready!(raw.poll_write_ready(cx))?;
            match raw.try_write(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(err) if is_retry(&err) => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

/// Not the connection's error: nothing to move yet, or a signal cut the call short.
pub fn is_retry(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
