//! `--echo`: every byte goes back to its sender. On Linux the bytes never enter user space:
//! they are spliced socket → pipe → socket, so thousands of clients cost a pipe each (kernel
//! memory) rather than a user-space buffer each. Where no pipe can be had (out of
//! descriptors) and with `--hex` (which must see the bytes), they are copied through a
//! buffer instead: a connection, once accepted, is always served.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::ListenConfig;
use super::server::{self, Ending, Gate, Peer, Slot};
use crate::cmd::Context;
use crate::error::Status;
use crate::net::async_stream::{AsyncStream, PlainSocket};
use crate::net::listener::Listener;
use crate::net::traffic::Traffic;
use crate::net::transform::{Flow, Transform};

/// Serves `--echo` on a bound listener (TCP or Unix): one connection, or every connection
/// with `-k`. Stdin is not read and nothing goes to stdout.
pub fn run(listener: Listener, config: &ListenConfig, context: &Context) -> anyhow::Result<Status> {
    let gate = Gate::new(config, context);
    let idle = config.idle_timeout;
    let verbose = context.verbose();
    let hex = config.hex;
    server::runtime()?.block_on(server::serve_connections(
        listener,
        gate,
        config.keep_open,
        server::REPORTING_GRACE,
        std::future::pending(),
        move |stream, peer, slot| serve(stream, peer, slot, idle, verbose, hex),
    ))
}

async fn serve(
    mut stream: AsyncStream,
    peer: Peer,
    slot: Slot,
    idle: Option<std::time::Duration>,
    verbose: bool,
    hex: bool,
) -> anyhow::Result<Status> {
    let traffic = Traffic::new();
    let echoing = async {
        match stream.plain() {
            Some(socket) if !hex => echo(socket, &traffic).await,
            // `--hex` must see the bytes; a TLS session has no socket of its own to splice.
            _ => echo_copying(&mut stream, &traffic, hex.then(Dumpers::default)).await,
        }
    };
    let ending = tokio::select! {
        result = echoing => match result {
            Ok(()) => Ending::Closed,
            Err(err) => Ending::error(&err),
        },
        () = traffic.idle(idle) => Ending::Idle,
        interrupted = server::interrupted() => interrupted,
    };
    // A connection that failed while Ctrl-C was being handled (a call cut short by the
    // signal) ended because of the Ctrl-C, and says so.
    let ending = match ending {
        Ending::Other(_) if server::was_interrupted() => Ending::Interrupted,
        ending => ending,
    };
    drop(stream);
    drop(slot);
    if verbose {
        ending.report(&peer, &traffic);
    }
    Ok(if ending == Ending::Interrupted {
        Status::Interrupted
    } else {
        Status::Success
    })
}

/// Echoes until the peer has closed its side and everything it sent is back, then closes
/// ours. Errors are the connection's (reset, broken pipe).
#[cfg(target_os = "linux")]
pub async fn echo(stream: PlainSocket<'_>, traffic: &Traffic) -> io::Result<()> {
    use nix::fcntl::{OFlag, SpliceFFlags, splice};
    use std::os::fd::AsFd;
    use tokio::io::Interest;

    // As much as the kernel will move in one call; the pipe's capacity is the real bound.
    const CHUNK: usize = 1 << 20;
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    let (pipe_out, pipe_in) = match nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC) {
        Ok(pipe) => pipe,
        // Out of descriptors (or pipe memory): the connection is served all the same.
        Err(_) => return echo_copying(&mut { stream }, traffic, None).await,
    };
    let mut in_pipe = 0usize;
    let mut peer_done = false;
    // The pipe can fill before `in_pipe` reaches its nominal size (a splice takes whole pages);
    // then reading waits for the next write to make room instead of spinning.
    let mut pipe_full = false;
    loop {
        let want_read = !peer_done && !pipe_full;
        let want_write = in_pipe > 0;
        let interest = match (want_read, want_write) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (true, false) => Interest::READABLE,
            (false, true) => Interest::WRITABLE,
            (false, false) => break,
        };
        let ready = stream.ready(interest).await?;
        if want_read && (ready.is_readable() || ready.is_read_closed()) {
            let moved = if in_pipe == 0 {
                // Nothing in the pipe, so "would block" can only mean the socket is empty:
                // let tokio clear its readiness.
                stream.try_io(Interest::READABLE, || {
                    Ok(splice(stream.as_fd(), None, &pipe_in, None, CHUNK, flags)?)
                })
            } else {
                splice(stream.as_fd(), None, &pipe_in, None, CHUNK, flags).map_err(io::Error::from)
            };
            match moved {
                Ok(0) => peer_done = true,
                Ok(n) => {
                    in_pipe += n;
                    traffic.received(n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => pipe_full = in_pipe > 0,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        if in_pipe > 0 && ready.is_writable() {
            let moved = stream.try_io(Interest::WRITABLE, || {
                Ok(splice(
                    &pipe_out,
                    None,
                    stream.as_fd(),
                    None,
                    in_pipe,
                    flags,
                )?)
            });
            match moved {
                Ok(n) => {
                    in_pipe -= n;
                    pipe_full = false;
                    traffic.sent(n);
                }
                Err(err) if is_retry(&err) => {}
                Err(err) => return Err(err),
            }
        }
    }
    stream.shutdown_write()
}

/// Where splice does not exist, echoing is copying.
#[cfg(not(target_os = "linux"))]
pub async fn echo(stream: PlainSocket<'_>, traffic: &Traffic) -> io::Result<()> {
    echo_copying(&mut { stream }, traffic, None).await
}

/// `--hex`: what arrives and what goes back, each direction with its offsets.
pub struct Dumpers {
    /// From the peer.
    pub received: Transform,
    /// To the peer.
    pub sent: Transform,
}

impl Default for Dumpers {
    /// Both directions dumped, at offset 0.
    fn default() -> Dumpers {
        Dumpers {
            received: Transform::new(Flow::Received, false, true),
            sent: Transform::new(Flow::Sent, false, true),
        }
    }
}

/// Echoes through a user-space buffer (dumping each chunk both ways with `--hex`), with the
/// same ending as [`echo`].
pub async fn echo_copying(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    traffic: &Traffic,
    mut hex: Option<Dumpers>,
) -> io::Result<()> {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buffer).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if is_retry(&err) => continue,
            Err(err) => return Err(err),
        };
        traffic.received(n);
        if let Some(dumpers) = hex.as_mut() {
            dumpers.received.observe(&buffer[..n]);
        }
        let mut written = 0;
        while written < n {
            match stream.write(&buffer[written..n]).await {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(m) => written += m,
                Err(err) if is_retry(&err) => {}
                Err(err) => return Err(err),
            }
        }
        if let Some(dumpers) = hex.as_mut() {
            dumpers.sent.observe(&buffer[..n]);
        }
        traffic.sent(n);
    }
    stream.shutdown().await
}

/// Not an error of the connection: try the call again (nothing to move yet, or a signal cut
/// it short).
fn is_retry(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo_server() -> (
        std::net::SocketAddr,
        tokio::task::JoinHandle<io::Result<u64>>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            let traffic = Traffic::new();
            echo(PlainSocket::from(&stream), &traffic).await?;
            Ok(traffic.stats(crate::net::relay::RelayEnd::PeerClosed).sent)
        });
        (addr, task)
    }

    #[tokio::test]
    async fn every_byte_comes_back_then_eof() {
        let (addr, server) = echo_server().await;
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = client.into_split();
        // More than a pipe and both socket buffers hold, so back-pressure is exercised.
        let data: Vec<u8> = (0..8 * 1024 * 1024u32)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let expected = data.clone();
        let sender = tokio::spawn(async move {
            writer.write_all(&data).await.unwrap();
            writer.shutdown().await.unwrap();
        });
        let mut back = Vec::new();
        reader.read_to_end(&mut back).await.unwrap();
        sender.await.unwrap();
        assert!(back == expected, "echoed bytes differ");
        assert_eq!(server.await.unwrap().unwrap(), expected.len() as u64);
    }

    #[tokio::test]
    async fn a_client_that_says_nothing_gets_eof() {
        let (addr, server) = echo_server().await;
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client.shutdown().await.unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).await.unwrap();
        assert!(back.is_empty());
        assert_eq!(server.await.unwrap().unwrap(), 0);
    }
}
