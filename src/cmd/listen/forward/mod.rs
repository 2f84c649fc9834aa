//! `--forward TARGET`: every admitted connection gets its own connection to TARGET and the two
//! are relayed both ways by the engine in `net::forward` (half-close passed on, a reset
//! passed on, spliced between plain sockets). Stdin is not read, stdout not written.
//!
//! One connection without `-k` (exit 0 when it ended normally, 1 when the target could not
//! be reached or a side failed), every connection with `-k` until Ctrl-C (exit 130). `-v`
//! prints `CLIENT -> TARGET` per connection and its summary at its end; an unreachable
//! target closes the client at once, and `-v` says why. The next connection is accepted once
//! the previous one has its socket to the target, so that out of descriptors at most one
//! accepted client waits for one (the accept loop pauses meanwhile, with one warning).

mod target;
mod udp;

use std::sync::Arc;
use std::time::Duration;

use super::ListenConfig;
use super::server::{self, Ending, Gate, Peer, Slot};
use crate::cli::{ListenArgs, TlsArgs};
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::Endpoint;
use crate::net::async_stream::AsyncStream;
use crate::net::cause::describe;
use crate::net::endpoint::Transport;
use crate::net::forward::{self, End, Failure, Side};
use crate::net::listener::Listener;
use crate::net::relay::{RelayEnd, tune};
use crate::net::tls::{Policy, TlsClient};
use crate::net::traffic::Traffic;
use crate::output::notes;

pub use target::Target;
pub use udp::run as run_udp;

/// What every forwarded connection shares, validated before binding.
#[derive(Debug)]
pub struct Plan {
    /// Where connections go.
    pub target: Target,
    /// `--forward-tls`: the client side of TLS to the target.
    pub tls: Option<TlsClient>,
    /// `-w`.
    pub idle: Option<Duration>,
    /// `--hex`: dump both directions.
    pub hex: bool,
    /// `-k`.
    pub keep_open: bool,
    /// `-v`.
    pub verbose: bool,
}

/// A plan is equal only to itself (a mode compares by identity: there is one plan a run).
impl PartialEq for Plan {
    fn eq(&self, other: &Plan) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Plan {}

impl Plan {
    /// The plan for `--forward TARGET` with `args`; exit 2 for flags that cannot go with it.
    pub fn new(target: &str, args: &ListenArgs, context: &Context) -> anyhow::Result<Plan> {
        let transport = Transport {
            datagram: args.udp,
            unix: false,
        };
        let endpoint = Endpoint::from_words(&[target.to_string()], transport)
            .map_err(|err| Error::usage(format!("--forward: {err}")))?;
        if let Endpoint::UnixDgram(addr) = &endpoint {
            return Err(Error::usage(format!(
                "--forward {addr}: UDP is forwarded to HOST:PORT only"
            ))
            .into());
        }
        if args.udp && args.forward_tls {
            return Err(Error::usage("-u cannot go with --forward-tls")
                .with_hint("there is no DTLS; drop one of them")
                .into());
        }
        let target = Target::from_endpoint(&endpoint, context.family)?;
        let tls = if args.forward_tls {
            let flags = TlsArgs {
                tls: true,
                sni: args.forward_sni.clone(),
                ca: args.forward_ca.clone(),
                insecure: args.forward_insecure,
                pin: args.forward_pin.clone(),
                ..TlsArgs::default()
            };
            let client = TlsClient::from_args(&flags, Policy::Enforce).map_err(Error::from)?;
            // A name that cannot be verified is said now, not at the first connection.
            client
                .server_name_for(target.tls_name())
                .map_err(Error::from)?;
            Some(client)
        } else {
            None
        };
        Ok(Plan {
            target,
            tls,
            idle: args.idle_timeout,
            hex: args.hex,
            keep_open: args.keep_open,
            verbose: context.verbose(),
        })
    }
}

/// Serves `--forward` on a bound stream listener (TCP or Unix).
pub fn run_stream(
    listener: Listener,
    plan: &Arc<Plan>,
    config: &ListenConfig,
    context: &Context,
) -> anyhow::Result<Status> {
    // `-v` names the client once, in the `CLIENT -> TARGET` line.
    let gate = Gate::new(config, context)
        .one_start_at_a_time()
        .without_arrival_line();
    let plan = Arc::clone(plan);
    let keep_open = plan.keep_open;
    server::runtime()?.block_on(server::serve_connections(
        listener,
        gate,
        keep_open,
        server::REPORTING_GRACE,
        std::future::pending(),
        move |stream, peer, slot| serve(stream, peer, slot, Arc::clone(&plan)),
    ))
}

async fn serve(
    stream: AsyncStream,
    peer: Peer,
    mut slot: Slot,
    plan: Arc<Plan>,
) -> anyhow::Result<Status> {
    if let AsyncStream::Tcp(tcp) = &stream {
        let _ = tcp.set_nodelay(true);
        tune::tune(tcp);
    }
    let client = peer.to_string();
    serve_side(Side::Stream(stream), &client, &mut slot, &plan).await
}

/// Forwards one admitted client: connects to the target, relays, reports.
async fn serve_side(
    client: Side,
    name: &str,
    slot: &mut Slot,
    plan: &Plan,
) -> anyhow::Result<Status> {
    let reached = tokio::select! {
        reached = reach(plan, slot) => reached,
        _ = server::interrupted() => {
            if plan.verbose {
                notes::verbose(format_args!("{name} -> {}: interrupted", plan.target));
            }
            return Ok(Status::Interrupted);
        }
    };
    let reached = match reached {
        Ok(reached) => reached,
        Err(error) => {
            // The client is closed at once (dropped on return).
            if plan.keep_open {
                if plan.verbose {
                    notes::verbose(format_args!("{name}: {}", error.message));
                }
                return Ok(Status::Success);
            }
            return Err(error.into());
        }
    };
    if plan.verbose {
        notes::verbose(format_args!("{name} -> {}", reached.addr));
        if let Some(facts) = &reached.tls {
            let now = std::time::SystemTime::now();
            notes::verbose(format_args!(
                "{name} -> {}: {}",
                reached.addr,
                facts.session_line()
            ));
            notes::verbose(format_args!(
                "{name} -> {}: {}",
                reached.addr,
                facts.certificate_line(now)
            ));
        }
    }
    let traffic = Traffic::new();
    let ending = tokio::select! {
        done = forward::forward(client, reached.side, &traffic, plan.hex) => match done {
            Ok(()) => Ending::Closed,
            Err(failure) => Ending::Other(failed(&failure)),
        },
        () = traffic.idle(plan.idle) => Ending::Idle,
        interrupted = server::interrupted() => interrupted,
    };
    if plan.verbose {
        report(name, &reached.addr, &ending, &traffic);
    }
    Ok(match ending {
        Ending::Interrupted => Status::Interrupted,
        Ending::Other(why) if !plan.keep_open => {
            return Err(Error::failure(format!("{name} -> {}: {why}", reached.addr)).into());
        }
        _ => Status::Success,
    })
}

/// Connects to the target, waiting out a shortage of descriptors (the client is kept, never
/// dropped for it); tells the slot once the socket exists.
async fn reach(plan: &Plan, slot: &mut Slot) -> Result<target::Reached, Error> {
    loop {
        match plan
            .target
            .connect(plan.tls.as_ref(), || slot.started())
            .await
        {
            Ok(reached) => {
                slot.started();
                return Ok(reached);
            }
            Err(unreachable) if unreachable.shortage => {
                slot.wait_for_resources(&unreachable.error.message).await;
            }
            Err(unreachable) => return Err(unreachable.error),
        }
    }
}

/// `target: connection reset by peer (client reset)`: which side failed, and how.
fn failed(failure: &Failure) -> String {
    let (failed, other) = match failure.end {
        End::Client => ("client", "target"),
        End::Target => ("target", "client"),
    };
    format!("{failed}: {}, {other} reset", describe(&failure.error))
}

/// `CLIENT -> TARGET closed: sent …, received … in … (…/s)`.
fn report(client: &str, target: &str, ending: &Ending, traffic: &Traffic) {
    let (why, end) = match ending {
        Ending::Closed => ("closed", RelayEnd::PeerClosed),
        Ending::Idle => ("idle timeout", RelayEnd::IdleTimeout),
        Ending::Interrupted => ("interrupted", RelayEnd::Stopped),
        Ending::Other(why) => (why.as_str(), RelayEnd::PeerClosed),
    };
    notes::verbose(format_args!(
        "{client} -> {target} {why}: {}",
        traffic.stats(end)
    ));
}
