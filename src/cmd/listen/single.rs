//! The default listen mode: accept one connection and relay it to stdin/stdout.

use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};

use super::AccessList;
use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::cmd::failure::relay_failure;
use crate::error::Status;
use crate::net::cause::describe;
use crate::net::relay::{Input, Relay, RelayConfig, RelayEnd};
use crate::net::stream::Stream;
use crate::os::interrupt::Interrupt;

/// Accepts the first permitted peer, relays until it closes its side, and exits.
pub fn run(
    listener: TcpListener,
    args: &ListenArgs,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    let access = AccessList::new(&args.allow, &args.deny);
    let (stream, peer) = loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // A peer that gave up between SYN and accept: wait for the next one.
            Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(err) => {
                return Err(crate::error::Error::failure(format!(
                    "cannot accept a connection: {}",
                    describe(&err)
                ))
                .into());
            }
        };
        // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; show them as IPv4.
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        if access.permits(peer.ip()) {
            break (stream, peer);
        }
        if context.verbose() {
            note(&format!("refused connection from {peer} (not allowed)"));
        }
    };
    // One connection only: stop listening so that later clients are refused at once.
    drop(listener);
    if context.verbose() {
        let local = stream.local_addr().map_or_else(
            |_| "?".to_string(),
            |a| SocketAddr::new(a.ip().to_canonical(), a.port()).to_string(),
        );
        note(&format!("connection from {peer} to {local}"));
    }
    relay(
        stream.into(),
        &peer,
        args,
        context,
        interrupt,
        Input::stdin(),
    )
}

/// Relays one accepted connection with `peer` to stdin/stdout until the session ends.
pub fn relay(
    stream: Stream,
    peer: &dyn fmt::Display,
    args: &ListenArgs,
    context: &Context,
    interrupt: &Interrupt,
    input: Input,
) -> anyhow::Result<Status> {
    let config = RelayConfig {
        no_shutdown: false,
        idle_timeout: args.idle_timeout,
        crlf: args.crlf,
        hex: args.hex,
        recv_only: args.recv_only,
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
