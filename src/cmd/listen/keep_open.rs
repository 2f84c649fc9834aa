//! `-k/--keep-open`: accept connections until Ctrl-C and serve them all at once. Every
//! client's data goes to stdout (each received chunk whole); stdin goes to every client.
//!
//! Each client's session follows the end-of-session rule of the one-shot relay: the client's
//! FIN ends its direction, stdin's end half-closes the client's write side (a client that
//! connects afterwards has its write side closed at once), and the session ends when both have
//! ended, or at the client's FIN when stdin is a terminal or `--recv-only`. A client that has
//! stdin pending and takes none of it for 5 s is reset, see [`stall`](super::stall). With
//! `--hex`, stdin is dumped once as it is read and each client's data as it arrives.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::ListenConfig;
use super::hub::{self, Feed, Hub};
use super::server::{self, Ending, Gate, Peer, Slot};
use super::stall::{SLOW_CLIENT_GRACE, SendProgress};
use crate::cmd::Context;
use crate::error::Status;
use crate::net::async_stream::AsyncStream;
use crate::net::listener::Listener;
use crate::net::traffic::Traffic;
use crate::net::transform::{Flow, Transform};

/// Largest chunk read from a client at once (and so the largest piece written to stdout).
const READ_CHUNK: usize = 64 * 1024;

/// Serves `-k` on a bound listener (TCP or Unix) until Ctrl-C (exit 130) or stdout closes (a
/// quiet end).
pub fn run(listener: Listener, config: &ListenConfig, context: &Context) -> anyhow::Result<Status> {
    let gate = Gate::new(config, context);
    let idle = config.idle_timeout;
    let verbose = context.verbose();
    let hex = config.hex;
    let recv_only = config.recv_only;
    let ends_with_client = recv_only || std::io::stdin().is_terminal();
    let runtime = server::runtime()?;
    let status = runtime.block_on(async move {
        let hub = Hub::new();
        if !recv_only {
            hub::pump_stdin(Arc::clone(&hub), config.crlf, config.hex);
        }
        let (stdout, writer) = hub::stdout_writer();
        let stdout_closed = async move {
            match writer.await {
                Ok(Ok(())) => Ok(Status::Success),
                Ok(Err(err)) => Err(anyhow::Error::new(err).context("cannot write to stdout")),
                Err(join) => Err(anyhow::anyhow!("the stdout writer failed: {join}")),
            }
        };
        server::serve_connections(
            listener,
            gate,
            true,
            server::REPORTING_GRACE,
            stdout_closed,
            move |stream, peer, slot| {
                let client = Client {
                    peer,
                    hub: Arc::clone(&hub),
                    stdout: stdout.clone(),
                    idle,
                    verbose,
                    hex,
                    recv_only,
                    ends_with_client,
                };
                client.serve(stream, slot)
            },
        )
        .await
    });
    // The stdin thread may be blocked in read(): do not wait for it.
    runtime.shutdown_background();
    status
}

/// Why a client that takes no stdin is disconnected, for its `-v` line.
const TOO_SLOW: &str = "too slow to take stdin";

struct Client {
    peer: Peer,
    hub: Arc<Hub>,
    stdout: mpsc::Sender<Vec<u8>>,
    idle: Option<Duration>,
    verbose: bool,
    hex: bool,
    recv_only: bool,
    /// The session ends at the client's FIN, without waiting for stdin's end.
    ends_with_client: bool,
}

impl Client {
    /// Relays one client until its session ends: the client's FIN ends its direction, stdin's
    /// end (half-closing the client) ends ours, and the session ends when both have ended, or
    /// with the client's FIN alone when stdin is a terminal or unread (`--recv-only`).
    async fn serve(self, stream: AsyncStream, slot: Slot) -> anyhow::Result<Status> {
        let traffic = Traffic::new();
        let progress = SendProgress::default();
        let (mut reader, mut writer) = stream.into_split();
        // The socket, apart from the halves, for the send-queue check and the reset of a
        // stalled client (a TLS half cannot reach it: only sockx's own pending chunk counts).
        let socket = reader.socket();
        let mut feed = self.hub.subscribe();
        // Each client's received bytes are dumped with their own offsets; stdin is dumped once,
        // as it is read.
        let mut dumper = Transform::new(Flow::Received, false, self.hex);
        let receive = async {
            loop {
                let mut chunk = vec![0u8; READ_CHUNK];
                let n = reader.read(&mut chunk).await?;
                if n == 0 {
                    return Ok::<_, std::io::Error>(None);
                }
                chunk.truncate(n);
                traffic.received(n);
                dumper.observe(&chunk);
                if self.stdout.send(chunk).await.is_err() {
                    return Ok(Some("stdout closed"));
                }
            }
        };
        let send = async {
            if self.recv_only {
                // Stdin is never read; the write side stays open until the session ends.
                return std::future::pending().await;
            }
            loop {
                match feed.next().await {
                    Feed::Data(chunk) => {
                        progress.set_writing(true);
                        let mut rest = &chunk[..];
                        while !rest.is_empty() {
                            let n = writer.write(rest).await?;
                            if n == 0 {
                                return Err(std::io::ErrorKind::WriteZero.into());
                            }
                            rest = &rest[n..];
                            progress.wrote(n);
                            traffic.sent(n);
                        }
                        progress.set_writing(false);
                    }
                    Feed::End => {
                        writer.shutdown().await?;
                        return Ok::<_, std::io::Error>(None);
                    }
                    Feed::TooSlow => return Ok(Some(TOO_SLOW)),
                }
            }
        };
        // The futures borrow the feed and the socket: they are gone when the block ends.
        let ending = {
            let stalled = progress.stalled(socket.as_ref().map(AsFd::as_fd), SLOW_CLIENT_GRACE);
            let idle = traffic.idle(self.idle);
            let interrupted = server::interrupted();
            tokio::pin!(receive, send, stalled, idle, interrupted);
            let (mut received_all, mut sent_all) = (false, false);
            loop {
                tokio::select! {
                    received = &mut receive, if !received_all => match received {
                        Ok(None) => {
                            received_all = true;
                            if sent_all || self.ends_with_client {
                                break Ending::Closed;
                            }
                        }
                        Ok(Some(why)) => break Ending::Other(why.to_string()),
                        Err(err) => break Ending::error(&err),
                    },
                    sent = &mut send, if !sent_all => match sent {
                        Ok(None) => {
                            sent_all = true;
                            if received_all {
                                break Ending::Closed;
                            }
                        }
                        Ok(Some(why)) => break Ending::Other(why.to_string()),
                        Err(err) => break Ending::error(&err),
                    },
                    () = &mut stalled => break Ending::Other(TOO_SLOW.to_string()),
                    () = &mut idle => break Ending::Idle,
                    interrupted = &mut interrupted => break interrupted,
                }
            }
        };
        if ending == Ending::Other(TOO_SLOW.to_string()) {
            // It reads nothing: a reset, rather than a close that waits on it forever.
            if let Some(socket) = &socket {
                let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
            }
        }
        drop(feed);
        drop(slot);
        if self.verbose {
            ending.report(&self.peer, &traffic);
        }
        Ok(Status::Success)
    }
}
