//! The default listen mode: accept one connection (TCP or Unix) and relay it to stdin/stdout.

use std::fmt;
use std::io;

use super::ListenConfig;
use crate::cmd::Context;
use crate::cmd::failure::relay_failure;
use crate::error::{Error, Status};
use crate::net::cause::describe;
use crate::net::listener::Listener;
use crate::net::peer::Peer;

use crate::net::relay::tls::{TlsDataError, TlsStream};
use crate::net::relay::{Input, Relay, RelayConfig, RelayEnd, RelayError};
use crate::net::stream::Stream;
use crate::net::tls::TlsServer;
use crate::os::interrupt::Interrupt;
use crate::output::notes;

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
        if let Some(ip) = peer.ip()
            && !config.access.permits(ip)
        {
            if context.verbose() {
                notes::verbose(format_args!("refused connection from {peer} (not allowed)"));
            }
            continue;
        }
        if context.verbose() {
            match &peer {
                Peer::Inet { remote, local } => {
                    notes::verbose(format_args!("connection from {remote} to {local}"));
                }
                Peer::Unix { local, .. } => {
                    notes::verbose(format_args!("connection from {peer} on {local}"))
                }
            }
        }
        // With --tls, the first client whose handshake succeeds is the one served.
        match secure(stream, &peer, config, context)? {
            Some(stream) => break (stream, peer),
            None => continue,
        }
    };
    // One connection only: stop listening so that later clients are refused at once.
    drop(listener);
    relay(stream, &peer, config, context, interrupt, Input::stdin())
}

/// With `--tls`: the client's handshake (on the blocking socket, bounded as in the served
/// modes), then its session as the stream to relay; `None` when it failed (said with `-v`).
fn secure(
    stream: Stream,
    peer: &Peer,
    config: &ListenConfig,
    context: &Context,
) -> anyhow::Result<Option<Stream>> {
    let Some(tls) = &config.tls else {
        return Ok(Some(stream));
    };
    match tls.accept_blocking(&stream, config.handshake_limit()) {
        Ok((conn, session)) => {
            if context.verbose() {
                session.report(peer);
            }
            Ok(Some(Stream::from(TlsStream::new(conn, stream)?)))
        }
        Err(failure) => {
            failure.report(peer);
            Ok(None)
        }
    }
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
    let tls = config.tls.as_ref();
    let config = RelayConfig {
        no_shutdown: false,
        idle_timeout: config.idle_timeout,
        crlf: config.crlf,
        hex: config.hex,
        recv_only: config.recv_only,
    };
    let relay = Relay::new(stream, config);
    let stopper = relay.stopper();
    let stream = relay.stream();
    interrupt.on_interrupt(move || stopper.stop());
    let stats = relay
        .run_stdio(input)
        .map_err(|err| relay_error(err, peer, tls))?;
    if stats.end == RelayEnd::PeerClosed
        && stream.tls().is_some_and(|tls| tls.closed_without_notify())
    {
        notes::verbose(format_args!(
            "tls: {peer} closed its side without close_notify (a truncation would look the same)"
        ));
    }
    if context.verbose() {
        let why = match stats.end {
            RelayEnd::PeerClosed => "closed",
            RelayEnd::IdleTimeout => "idle timeout",
            RelayEnd::Stopped => "interrupted",
        };
        notes::verbose(format_args!("{peer} {why}: {stats}"));
    }
    Ok(if stats.end == RelayEnd::Stopped {
        Status::Interrupted
    } else {
        Status::Success
    })
}

/// The session's failure: over TLS, an error of the client's (its alert, a bad record) in
/// the words of a failed handshake, `connection with PEER lost: TLS: REASON`.
fn relay_error(err: RelayError, peer: &dyn fmt::Display, tls: Option<&TlsServer>) -> anyhow::Error {
    if let (RelayError::Peer(io_err), Some(tls)) = (&err, tls)
        && let Some(data) = TlsDataError::of(io_err)
    {
        let reason = tls.describe_client_error(&data.error);
        return Error::failure(format!("connection with {peer} lost: TLS: {reason}")).into();
    }
    relay_failure(err, peer)
}
