//! The default listen mode: accept one connection (TCP or Unix) and relay it to stdin/stdout.

use std::fmt;
use std::io::{self, Write};

use super::ListenConfig;
use crate::cmd::Context;
use crate::cmd::failure::relay_failure;
use crate::error::Status;
use crate::net::cause::describe;
use crate::net::listener::Listener;
use crate::net::peer::Peer;
use crate::net::relay::{Input, Relay, RelayConfig, RelayEnd};
use crate::net::stream::Stream;
use crate::os::interrupt::Interrupt;

/// Accepts the first permitted peer (TCP or Unix), relays until it closes its side, and
/// exits. The listener (and a Unix socket file with it) is gone once the peer is accepted.
pub fn run(
    listener: Listener,
    config: &ListenConfig,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    let (stream, peer) = loop {
        let (stream, mut peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // A peer that gave up between SYN and accept: wait for the next one.
            Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(err) => {
                return Err(crate::error::Error::failure(format!(
                    "cannot accept a connection on {}: {}",
                    listener.name().unwrap_or_default(),
                    describe(&err)
                ))
                .into());
            }
        };
        if context.verbose() {
            peer.name_process();
        }
        match peer.ip() {
            Some(ip) if !config.access.permits(ip) => {
                if context.verbose() {
                    note(&format!("refused connection from {peer} (not allowed)"));
                }
            }
            _ => break (stream, peer),
        }
    };
    // One connection only: stop listening so that later clients are refused at once.
    drop(listener);
    if context.verbose() {
        match &peer {
            Peer::Inet { remote, local } => note(&format!("connection from {remote} to {local}")),
            Peer::Unix { local, .. } => note(&format!("connection from {peer} on {local}")),
        }
    }
    relay(stream, &peer, config, context, interrupt, Input::stdin())
}

/// Relays one accepted connection with `peer` to stdin/stdout until the session ends.
fn relay(
    stream: Stream,
    peer: &dyn fmt::Display,
    config: &ListenConfig,
    context: &Context,
    interrupt: &Interrupt,
    input: Input,
) -> anyhow::Result<Status> {
    let config = RelayConfig {
        no_shutdown: false,
        idle_timeout: config.idle_timeout,
        crlf: config.crlf,
        hex: config.hex,
        recv_only: config.recv_only,
    };
    let relay = Relay::new(stream, config);
    let stopper = relay.stopper();
    interrupt.on_interrupt(move || stopper.stop());
    let stats = relay
        .run_stdio(input)
        .map_err(|err| relay_failure(err, peer))?;
    if context.verbose() {
        let why = match stats.end {
            RelayEnd::PeerClosed => "closed",
            RelayEnd::IdleTimeout => "idle timeout",
            RelayEnd::Stopped => "interrupted",
        };
        note(&format!("{peer} {why}: {stats}"));
    }
    Ok(if stats.end == RelayEnd::Stopped {
        Status::Interrupted
    } else {
        Status::Success
    })
}

/// One `-v` line on stderr.
fn note(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}
