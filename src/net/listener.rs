//! A bound, listening stream socket (TCP or Unix) whose accept yields the connection and its
//! [`Peer`]: blocking for the one-shot mode, async for the served modes. A Unix listener owns
//! the socket file it created and removes it when dropped.

use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use super::async_stream::AsyncStream;
use super::endpoint::UnixAddr;
use super::peer::Peer;
use super::stream::Stream;
use crate::os::interrupt::{Interrupt, RemoveAtExit};
use crate::os::peer_cred::PeerCred;

/// The socket file a listener created: removed when dropped, and when Ctrl-C ends the run.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    _at_exit: RemoveAtExit,
}

impl SocketFile {
    /// Takes charge of the file at `path` (which this process has just created).
    pub fn new(path: &Path) -> SocketFile {
        SocketFile {
            path: path.to_path_buf(),
            _at_exit: Interrupt::handler().remove_at_exit(path),
        }
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A listening stream socket, as bound (blocking).
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(std::net::TcpListener),
    /// A Unix stream socket.
    Unix(BoundUnix<std::os::unix::net::UnixListener>),
}

/// A listening Unix stream socket of either kind, with its address and its file.
#[derive(Debug)]
pub struct BoundUnix<L> {
    /// The socket.
    pub socket: L,
    /// Where it listens.
    pub addr: UnixAddr,
    /// The file to remove at the end (none for an abstract name).
    pub file: Option<SocketFile>,
}

/// A listening stream socket for async code.
#[derive(Debug)]
pub enum AsyncListener {
    /// TCP.
    Tcp(tokio::net::TcpListener),
    /// A Unix stream socket.
    Unix(BoundUnix<tokio::net::UnixListener>),
}

impl Listener {
    /// Where it listens, as the ready line says it: `[::]:8080`, `unix:/run/app.sock`.
    pub fn name(&self) -> io::Result<String> {
        match self {
            Listener::Tcp(listener) => Ok(listener.local_addr()?.to_string()),
            Listener::Unix(unix) => Ok(unix.addr.to_string()),
        }
    }

    /// The ready line's kind: `tcp` or `unix`.
    pub fn kind(&self) -> &'static str {
        match self {
            Listener::Tcp(_) => "tcp",
            Listener::Unix(_) => "unix",
        }
    }

    /// Waits for the next connection.
    pub fn accept(&self) -> io::Result<(Stream, Peer)> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, remote) = listener.accept()?;
                let local = stream.local_addr().or_else(|_| listener.local_addr())?;
                Ok((Stream::Tcp(stream), Peer::inet(remote, local)))
            }
            Listener::Unix(unix) => {
                let (stream, _) = unix.socket.accept()?;
                let peer = Peer::Unix {
                    cred: PeerCred::of(&stream),
                    local: unix.addr.clone(),
                };
                Ok((Stream::Unix(stream), peer))
            }
        }
    }

    /// The same socket for async code (made non-blocking). Needs a runtime.
    pub fn into_async(self) -> io::Result<AsyncListener> {
        match self {
            Listener::Tcp(listener) => {
                listener.set_nonblocking(true)?;
                Ok(AsyncListener::Tcp(tokio::net::TcpListener::from_std(
                    listener,
                )?))
            }
            Listener::Unix(unix) => {
                unix.socket.set_nonblocking(true)?;
                Ok(AsyncListener::Unix(BoundUnix {
                    socket: tokio::net::UnixListener::from_std(unix.socket)?,
                    addr: unix.addr,
                    file: unix.file,
                }))
            }
        }
    }
}

impl AsyncListener {
    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<(AsyncStream, Peer)> {
        match self {
            AsyncListener::Tcp(listener) => {
                let (stream, remote) = listener.accept().await?;
                let local = stream.local_addr().or_else(|_| listener.local_addr())?;
                Ok((AsyncStream::Tcp(stream), Peer::inet(remote, local)))
            }
            AsyncListener::Unix(unix) => {
                let (stream, _) = unix.socket.accept().await?;
                let peer = Peer::Unix {
                    cred: PeerCred::of(&stream),
                    local: unix.addr.clone(),
                };
                Ok((AsyncStream::Unix(stream), peer))
            }
        }
    }
}

impl AsFd for AsyncListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            AsyncListener::Tcp(listener) => listener.as_fd(),
            AsyncListener::Unix(unix) => unix.socket.as_fd(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_unix_listener_names_its_peer_and_removes_its_file() {
        let dir = std::env::temp_dir().join(format!("sockx-listener-{}", std::process::id()));
        let _ = fs::create_dir(&dir);
        let path = dir.join("a.sock");
        let addr = UnixAddr::Path(path.clone());
        let socket = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let listener = Listener::Unix(BoundUnix {
            socket,
            addr,
            file: Some(SocketFile::new(&path)),
        });
        assert_eq!(listener.kind(), "unix");
        let listener = listener.into_async().expect("async");
        let _client = tokio::net::UnixStream::connect(&path)
            .await
            .expect("connect");
        let (_stream, peer) = listener.accept().await.expect("accept");
        match peer {
            Peer::Unix {
                cred: Some(cred), ..
            } => assert_eq!(cred.pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(listener);
        assert!(!path.exists(), "the socket file is still there");
        let _ = fs::remove_dir(&dir);
    }
}
