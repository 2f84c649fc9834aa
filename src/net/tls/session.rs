//! A client's TLS session on `listen --tls`, as the served modes read and write it: the
//! tokio-rustls stream, with the end of the client's direction as the contract has it. Its
//! `close_notify` is EOF; so is a FIN without one (many clients, ncat among them, half-close
//! the TCP connection that way), said with `-v` rather than failing the connection.
//! Shutting down the write side sends `close_notify`, then the FIN.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::net::async_stream::{AsyncStream, PlainSocket};
use crate::output::notes;

/// The server side of one TLS session over a plain stream.
#[derive(Debug)]
pub struct ServerSession {
    inner: tokio_rustls::server::TlsStream<AsyncStream>,
    /// The client, for the `-v` line.
    peer: String,
    /// Its direction ended with a FIN but no `close_notify`.
    truncated: bool,
}

impl ServerSession {
    /// The finished session `inner` with the client `peer`.
    pub fn new(inner: tokio_rustls::server::TlsStream<AsyncStream>, peer: String) -> ServerSession {
        ServerSession {
            inner,
            peer,
            truncated: false,
        }
    }

    /// The plain socket under the session (for a reset: `SO_LINGER` is the socket's).
    pub fn plain(&self) -> Option<PlainSocket<'_>> {
        self.inner.get_ref().0.plain()
    }
}

impl AsyncRead for ServerSession {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.truncated {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::UnexpectedEof => {
                this.truncated = true;
                notes::verbose(format_args!(
                    "tls: {} closed its side without close_notify (a truncation would look the same)",
                    this.peer
                ));
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl AsyncWrite for ServerSession {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    /// `close_notify`, then the FIN.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
