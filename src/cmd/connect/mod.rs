//! `sockx connect`: connect to a peer (TCP, or UDP with `-u`) and relay stdin/stdout.

mod udp;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::ConnectArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::cause::describe;
use crate::net::dial::{DialFailure, DialOptions, Dialed, Source, dial};
use crate::net::duration::deadline_after;
use crate::net::endpoint::Transport;
use crate::net::proxy::{ProxyError, ProxyKind, ProxySpec, TunnelTarget, open_tunnel};
use crate::net::relay::{Input, Relay, RelayConfig, RelayEnd};
use crate::net::socket::SocketOptions;
use crate::net::{Endpoint, Family, Host, HostPort, format_duration, resolve};
use crate::os::interrupt::Interrupt;

/// `connect`'s arguments, validated.
#[derive(Debug)]
pub struct ConnectConfig {
    /// The peer as the user named it.
    pub peer: HostPort,
    /// The unescaped `--send` pieces, when given: sent instead of stdin (TCP: in order, as
    /// one stream; UDP: one datagram each).
    pub send: Option<Vec<Vec<u8>>>,
    /// Connect timeout per attempt.
    pub timeout: Duration,
    /// `--retry`.
    pub retry: Option<Duration>,
    /// `--idle-timeout`.
    pub idle_timeout: Option<Duration>,
    /// Local address/port.
    pub source: Source,
    /// The relay's options.
    pub relay: RelayConfig,
    /// Socket options.
    pub socket: SocketOptions,
    /// `-4` / `-6`.
    pub family: Family,
    /// `--proxy`.
    pub proxy: Option<ProxySpec>,
}

impl ConnectConfig {
    /// Checks the arguments and resolves the source address (no network traffic).
    pub fn new(args: &ConnectArgs, context: &Context) -> anyhow::Result<ConnectConfig> {
        let transport = Transport {
            datagram: args.udp,
            unix: false,
        };
        let peer = match Endpoint::from_words(&args.peer, transport).map_err(Error::usage)? {
            Endpoint::Tcp(peer) | Endpoint::Udp(peer) => peer,
            unix @ (Endpoint::Unix(_) | Endpoint::UnixDgram(_)) => {
                return Err(
                    Error::usage(format!("{unix}: Unix sockets are not supported yet")).into(),
                );
            }
        };
        let send = if args.recv_only {
            // Nothing is sent (over UDP: no datagram; over TCP the relay never reads stdin).
            Some(Vec::new())
        } else if args.send.is_empty() {
            None
        } else {
            let pieces = args
                .send
                .iter()
                .map(|piece| crate::net::escape::unescape(piece).map_err(Error::usage))
                .collect::<Result<Vec<_>, _>>()?;
            Some(pieces)
        };
        if args.timeout.is_zero() {
            return Err(Error::usage("--timeout must be longer than 0").into());
        }
        let source_addrs = match &args.source {
            Some(host) => resolve(host, 0, context.family)?
                .into_iter()
                .map(|addr| addr.ip())
                .collect(),
            None => Vec::new(),
        };
        Ok(ConnectConfig {
            peer,
            send,
            timeout: args.timeout,
            retry: args.retry,
            idle_timeout: args.idle_timeout,
            source: Source {
                addrs: source_addrs,
                port: args.source_port.unwrap_or(0),
            },
            relay: RelayConfig {
                no_shutdown: args.no_shutdown,
                idle_timeout: args.idle_timeout,
                crlf: args.crlf,
                hex: args.hex,
                recv_only: args.recv_only,
            },
            socket: SocketOptions {
                nodelay: args.nodelay,
                broadcast: args.broadcast,
                ..SocketOptions::default()
            },
            family: context.family,
            proxy: args.proxy.clone(),
        })
    }
}

/// Runs `sockx connect`.
pub fn run(args: ConnectArgs, context: &Context) -> anyhow::Result<Status> {
    // Before any thread starts, so that every thread leaves SIGINT to the handler.
    let interrupt = Interrupt::install()?;
    let config = ConnectConfig::new(&args, context)?;
    if args.udp {
        return udp::run(&config, context, &interrupt);
    }
    let dialed = connect_with_retry(&config, context)?;
    let peer = dialed.addr;
    if context.verbose() {
        let local = dialed
            .stream
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        note(&format!(
            "connected to {peer} from {local} in {}",
            format_elapsed(dialed.elapsed)
        ));
    }
    let relay = Relay::new(dialed.stream.into(), config.relay);
    let stopper = relay.stopper();
    interrupt.on_interrupt(move || stopper.stop());
    let input = match &config.send {
        Some(pieces) => Input::Bytes(pieces.concat()),
        None => Input::stdin(),
    };
    let stats = relay
        .run_stdio(input)
        .map_err(|err| err.into_report(peer))?;
    if context.verbose() {
        let why = match stats.end {
            RelayEnd::PeerClosed => "closed by peer",
            RelayEnd::IdleTimeout => "idle timeout",
            RelayEnd::Stopped => "interrupted",
        };
        note(&format!("{peer} {why}: {stats}"));
    }
    Ok(match stats.end {
        RelayEnd::Stopped => Status::Interrupted,
        RelayEnd::PeerClosed | RelayEnd::IdleTimeout => Status::Success,
    })
}

/// Resolves and connects; with `--retry`, tries again after refusals and timeouts (and
/// failed lookups, for a name that is not registered yet) until the retry time has passed.
fn connect_with_retry(config: &ConnectConfig, context: &Context) -> anyhow::Result<Dialed> {
    let deadline = config
        .retry
        .map(|retry| deadline_after(Instant::now(), retry));
    let mut backoff = Duration::from_millis(100);
    let mut announced = false;
    loop {
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let (err, retryable) = match try_once(config, context, remaining, &mut announced) {
            Ok(dialed) => return Ok(dialed),
            Err(failed) => failed,
        };
        let now = Instant::now();
        match deadline {
            Some(deadline) if retryable && now < deadline => {
                if context.verbose() {
                    note(&format!(
                        "{}; retrying for {} more",
                        err.message,
                        format_duration(deadline - now)
                    ));
                }
                thread::sleep(backoff.min(deadline - now));
                backoff = (backoff * 3 / 2).min(Duration::from_secs(1));
            }
            Some(_) if retryable => {
                let retry = config.retry.unwrap_or_default();
                let message = format!("{} (gave up after {})", err.message, format_duration(retry));
                return Err(Error::failure(message).into());
            }
            _ => return Err(err.into()),
        }
    }
}

/// One round: resolve, then try every address. On failure, the error and whether a retry
/// could help.
fn try_once(
    config: &ConnectConfig,
    context: &Context,
    remaining: Option<Duration>,
    announced: &mut bool,
) -> Result<Dialed, (Error, bool)> {
    if let Some(proxy) = &config.proxy {
        return try_once_via_proxy(proxy, config, context, remaining, announced);
    }
    let addrs =
        resolve(&config.peer.host, config.peer.port, config.family).map_err(|err| (err, true))?;
    if context.verbose() && !*announced {
        *announced = true;
        let list: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
        note(&format!("{} resolves to {}", config.peer, list.join(", ")));
    }
    dial(&addrs, &dial_options(config, remaining))
        .map_err(|failure| (dial_error(&config.peer, &failure), failure.is_retryable()))
}

fn dial_options(config: &ConnectConfig, remaining: Option<Duration>) -> DialOptions {
    DialOptions {
        // While retrying, no attempt outlives the retry time by much.
        timeout: remaining.map_or(config.timeout, |r| {
            config.timeout.min(r.max(Duration::from_millis(100)))
        }),
        socket: config.socket,
        source: config.source.clone(),
    }
}

/// One round through `--proxy`: connect to the proxy, then ask it for the peer. A name is
/// handed to the proxy where the scheme says so (socks5h, socks4a, http); otherwise it is
/// resolved here and each address is asked for in turn, as a direct connect would try them.
fn try_once_via_proxy(
    proxy: &ProxySpec,
    config: &ConnectConfig,
    context: &Context,
    remaining: Option<Duration>,
    announced: &mut bool,
) -> Result<Dialed, (Error, bool)> {
    let peer = &config.peer;
    let targets: Vec<TunnelTarget> = match &peer.host {
        Host::Name(name) if proxy.kind.resolves_names() => {
            vec![TunnelTarget::Name(name.clone(), peer.port)]
        }
        host => {
            let family = if proxy.kind == ProxyKind::Socks4 {
                Family::V4
            } else {
                config.family
            };
            let addrs = resolve(host, peer.port, family).map_err(|err| (err, true))?;
            addrs.into_iter().map(TunnelTarget::Addr).collect()
        }
    };
    let proxy_endpoint = HostPort {
        host: proxy.host.clone(),
        port: proxy.port,
    };
    let proxy_addrs = resolve(&proxy.host, proxy.port, config.family).map_err(|err| (err, true))?;
    let options = dial_options(config, remaining);
    let mut last = None;
    for target in &targets {
        let dialed = dial(&proxy_addrs, &options).map_err(|failure| {
            let err = dial_error(&proxy_endpoint, &failure);
            (
                Error::failure(format!("proxy {}", err.message)),
                failure.is_retryable(),
            )
        })?;
        if context.verbose() && !*announced {
            *announced = true;
            note(&format!(
                "connected to proxy {} in {}; asking for {target}",
                dialed.addr,
                format_elapsed(dialed.elapsed)
            ));
        }
        let started = Instant::now();
        match open_tunnel(dialed.stream, proxy, target, options.timeout) {
            Ok(stream) => {
                if context.verbose() {
                    note(&format!(
                        "tunnel to {target} through {proxy} open in {}",
                        format_elapsed(started.elapsed())
                    ));
                }
                return Ok(Dialed {
                    stream,
                    addr: dialed.addr,
                    elapsed: dialed.elapsed + started.elapsed(),
                });
            }
            Err(err) => {
                // A refusal by rule or authentication is the same for every address.
                let final_answer = matches!(&err, ProxyError::Refused(r) if r.contains("ruleset") || r.contains("password") || r.contains("authentication") || r.contains("SOCKS4"))
                    || matches!(err, ProxyError::HttpStatus(_));
                let retryable = err.is_retryable();
                last = Some((err, retryable));
                if final_answer {
                    break;
                }
            }
        }
    }
    let Some((err, retryable)) = last else {
        return Err((
            Error::failure(format!("cannot connect to {peer}: no address to try")),
            false,
        ));
    };
    Err((
        Error::failure(format!("cannot connect to {peer} through {proxy}: {err}")),
        retryable,
    ))
}

/// `cannot connect to 127.0.0.1:9: connection refused`, or for a name with several
/// addresses `cannot connect to localhost:9 ([::1]:9: connection refused, 127.0.0.1:9: ...)`.
fn dial_error(peer: &HostPort, failure: &DialFailure) -> Error {
    let message = match failure.attempts.as_slice() {
        [] => format!("cannot connect to {peer}: no address to try"),
        [(addr, err)] if addr.to_string() == peer.to_string() => {
            format!("cannot connect to {peer}: {}", describe(err))
        }
        [(addr, err)] => format!("cannot connect to {peer} ({addr}): {}", describe(err)),
        attempts => {
            let causes: Vec<String> = attempts
                .iter()
                .map(|(addr, err)| format!("{addr}: {}", describe(err)))
                .collect();
            format!("cannot connect to {peer} ({})", causes.join(", "))
        }
    };
    Error::failure(message)
}

/// `0.4ms`, `12ms`, `1.5s`.
fn format_elapsed(elapsed: Duration) -> String {
    if elapsed < Duration::from_millis(10) {
        format!("{:.1}ms", elapsed.as_secs_f64() * 1000.0)
    } else {
        format_duration(elapsed)
    }
}

/// One `-v` line on stderr.
fn note(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}
