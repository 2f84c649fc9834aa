//! `--exec`/`--sh-exec` with `--hex`: the child gets pipes for its stdin and stdout, and sockx
//! relays between them and the connection, dumping each chunk on stderr (what the peer sent
//! as received, what the child wrote as sent).
//!
//! It ends as the direct mode does: the peer's EOF closes the child's stdin; when the child
//! exits, what it wrote is delivered, the write side is shut down, and what the peer still
//! sends is read and discarded for a while before the close (see [`exec`](super::exec)).

use std::io;
use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::watch;

use super::exec::{self, Program};
use super::server::{Peer, Slot};
use crate::error::Status;
use crate::net::async_stream::AsyncStream;
use crate::net::traffic::Traffic;
use crate::net::transform::{Flow, Transform};
use crate::output::notes;

/// Largest chunk moved (and dumped) at once.
const CHUNK: usize = 64 * 1024;

/// Serves one connection with the child behind pipes (any stream: a TLS session too).
pub async fn serve(
    program: Program,
    mut stream: AsyncStream,
    peer: Peer,
    mut slot: Slot,
    idle: Option<Duration>,
) -> anyhow::Result<Status> {
    let started = Instant::now();
    let spawned = program
        .start(&mut slot, &peer, || {
            program.spawn(Stdio::piped(), Stdio::piped(), &peer)
        })
        .await?;
    let Some(mut child) = spawned else {
        close(&mut stream).await;
        return Ok(Status::Negative);
    };
    let pid = child.id().unwrap_or_default();
    let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(anyhow::anyhow!("the child's pipes are missing"));
    };
    let traffic = Traffic::new();
    let (exited_tx, exited_rx) = watch::channel(false);
    let (reader, writer) = tokio::io::split(&mut stream);
    let waiting = async {
        let ended = exec::wait(&mut child, pid, idle).await;
        let _ = exited_tx.send(true);
        ended
    };
    let relaying = async {
        tokio::select! {
            delivered = to_peer(output, writer, exited_rx, &traffic) => delivered,
            () = to_child(reader, input, &traffic) => Ok(()),
        }
    };
    let (ended, delivered) = tokio::join!(waiting, relaying);
    let (status, idled) = ended?;
    exec::report(&program, &peer, pid, status, idled, started);
    if let Err(err) = delivered {
        notes::verbose(format_args!(
            "{peer}: cannot deliver the output: {}",
            crate::net::cause::describe(&err)
        ));
    }
    close(&mut stream).await;
    drop(slot);
    Ok(exec::outcome(status, idled))
}

/// The peer's bytes to the child's stdin; the peer's EOF (or a failure) closes it. Never
/// returns: after that it waits for the child's end, which ends the relay.
async fn to_child(mut reader: impl AsyncRead + Unpin, mut input: ChildStdin, traffic: &Traffic) {
    let mut dumper = Transform::new(Flow::Received, false, true);
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        traffic.received(n);
        dumper.observe(&buffer[..n]);
        if input.write_all(&buffer[..n]).await.is_err() {
            // The child closed its stdin: what the peer sends is discarded at the close.
            break;
        }
    }
    drop(input);
    std::future::pending().await
}

/// The child's stdout to the peer until the child has exited and everything it wrote is
/// delivered (a descendant that keeps the pipe open does not hold the connection).
async fn to_peer(
    mut output: ChildStdout,
    mut writer: impl AsyncWrite + Unpin,
    mut exited: watch::Receiver<bool>,
    traffic: &Traffic,
) -> io::Result<()> {
    let mut dumper = Transform::new(Flow::Sent, false, true);
    let mut buffer = vec![0u8; CHUNK];
    let mut child_done = false;
    loop {
        let n = if child_done {
            // What the child wrote before it exited is in the pipe: take it without waiting.
            match nix::unistd::read(output.as_fd(), &mut buffer) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => 0,
            }
        } else {
            tokio::select! {
                read = output.read(&mut buffer) => read?,
                _ = exited.wait_for(|done| *done) => {
                    child_done = true;
                    continue;
                }
            }
        };
        if n == 0 {
            if child_done {
                return Ok(());
            }
            // The child closed its stdout but still runs (and may read): its exit ends it.
            let _ = exited.wait_for(|done| *done).await;
            return Ok(());
        }
        dumper.observe(&buffer[..n]);
        writer.write_all(&buffer[..n]).await?;
        writer.flush().await?;
        traffic.sent(n);
    }
}

/// Shuts the write side down and discards what the peer still sends, as the direct mode.
async fn close(stream: &mut AsyncStream) {
    let _ = stream.shutdown().await;
    exec::discard_until_closed(stream).await;
}
