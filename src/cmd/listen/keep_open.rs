//! `-k/--keep-open`: accept connections until Ctrl-C and serve them all at once. Every
//! client's data goes to stdout (each received chunk whole); stdin goes to every client.
//!
//! Stdin's end half-closes every client's write side, and a client that connects afterwards
//! has its write side closed at once; reading from clients goes on. A client whose stdin queue
//! stays full (it does not read) is disconnected, see [`hub`](super::hub). With `--hex`, stdin is
//! dumped once as it is read and each client's data as it arrives.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::hub::{self, Feed, Hub};
use super::server::{self, Ending, Gate, Peer, Slot};
use super::traffic::Traffic;
use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::Status;
use crate::net::relay::{Flow, HexDumper};

/// Largest chunk read from a client at once (and so the largest piece written to stdout).
const READ_CHUNK: usize = 64 * 1024;

/// Serves `-k` on a bound TCP listener until Ctrl-C (exit 130) or stdout closes (a quiet
/// end).
pub fn run(listener: TcpListener, args: &ListenArgs, context: &Context) -> anyhow::Result<Status> {
    let gate = Gate::new(args, context);
    let idle = args.idle_timeout;
    let verbose = context.verbose();
    let hex = args.hex;
    let runtime = server::runtime()?;
    let status = runtime.block_on(async move {
        let hub = Hub::new();
        hub::pump_stdin(Arc::clone(&hub), args.crlf, args.hex);
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
            stdout_closed,
            move |stream, peer, slot| {
                let client = Client {
                    peer,
                    hub: Arc::clone(&hub),
                    stdout: stdout.clone(),
                    idle,
                    verbose,
                    hex,
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

struct Client {
    peer: Peer,
    hub: Arc<Hub>,
    stdout: mpsc::Sender<Vec<u8>>,
    idle: Option<Duration>,
    verbose: bool,
    hex: bool,
}

impl Client {
    async fn serve(self, stream: TcpStream, slot: Slot) -> anyhow::Result<Status> {
        let traffic = Traffic::new();
        let (reader, mut writer) = stream.into_split();
        let mut feed = self.hub.subscribe();
        // Each client's received bytes are dumped with their own offsets; stdin is dumped once,
        // as it is read.
        let mut dumper = self.hex.then(|| HexDumper::new(Flow::Received));
        let receive = async {
            loop {
                reader.readable().await?;
                let mut chunk = vec![0u8; READ_CHUNK];
                match reader.try_read(&mut chunk) {
                    Ok(0) => return Ok::<_, std::io::Error>(None),
                    Ok(n) => {
                        chunk.truncate(n);
                        traffic.received(n);
                        if let Some(dumper) = dumper.as_mut() {
                            let _ = dumper.dump(&chunk);
                        }
                        if self.stdout.send(chunk).await.is_err() {
                            return Ok(Some("stdout closed"));
                        }
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(err) => return Err(err),
                }
            }
        };
        let send = async {
            loop {
                match feed.next().await {
                    Feed::Data(chunk) => {
                        writer.write_all(&chunk).await?;
                        traffic.sent(chunk.len());
                    }
                    Feed::End => {
                        writer.shutdown().await?;
                        // Keep reading from the client until it is done too.
                        return std::future::pending().await;
                    }
                    Feed::TooSlow => return Ok::<_, std::io::Error>("too slow to take stdin"),
                }
            }
        };
        let ending = tokio::select! {
            received = receive => match received {
                Ok(None) => Ending::Closed,
                Ok(Some(why)) => Ending::Other(why.to_string()),
                Err(err) => Ending::error(&err),
            },
            sent = send => match sent {
                Ok(why) => Ending::Other(why.to_string()),
                Err(err) => Ending::error(&err),
            },
            () = traffic.idle(self.idle) => Ending::Idle,
            interrupted = server::interrupted() => interrupted,
        };
        drop(feed);
        drop(slot);
        if self.verbose {
            ending.report(&self.peer, &traffic);
        }
        Ok(Status::Success)
    }
}
