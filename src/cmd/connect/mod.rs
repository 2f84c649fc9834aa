//! `sockx connect`: connect to a peer (TCP, Unix, or UDP with `-u`; TLS over a stream) and
//! relay stdin/stdout.

mod tls;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::ConnectArgs;
use crate::cmd::Context;
use crate::cmd::failure::relay_failure;
use crate::error::{Error, Status};
use crate::net::cause::describe;
use crate::net::dial::{DialFailure, DialOptions, Dialed, Source, dial};
use crate::net::duration::deadline_after;
use crate::net::endpoint::Transport;
use crate::net::endpoint::UnixAddr;
use crate::net::proxy::{ProxyError, ProxyKind, ProxySpec, TunnelTarget, open_tunnel};
use crate::net::relay::{Input, Relay, RelayConfig, RelayEnd};
use crate::net::socket::SocketOptions;
use crate::net::stream::{PeerName, Stream};
use crate::net::tls::{Policy, TlsClient};
use crate::net::{Endpoint, Family, Host, HostPort, format_duration, resolve};
use crate::os::interrupt::Interrupt;
use crate::output::notes;

/// `connect`'s arguments, validated.
#[derive(Debug)]
pub struct ConnectConfig {
    /// The peer as the user named it.
    pub peer: Endpoint,
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
    /// `--tls` (or `--starttls`): the client, its files read and checked.
    pub tls: Option<TlsClient>,
}

impl ConnectConfig {
    /// Checks the arguments and resolves the source address (no network traffic).
    pub fn new(args: &ConnectArgs, context: &Context) -> anyhow::Result<ConnectConfig> {
        let transport = Transport {
            datagram: args.udp,
            unix: args.unix,
        };
        let peer = Endpoint::from_words(&args.peer, transport).map_err(Error::usage)?;
        if let Some(unix) = peer.unix() {
            refuse_inet_flags(args, unix)?;
        }
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
        if args.udp && args.tls.enabled() {
            return Err(Error::usage(
                "--tls works over TCP and Unix stream sockets only (no DTLS)",
            )
            .with_hint("drop -u, or --tls")
            .into());
        }
        let tls = if args.tls.enabled() {
            Some(TlsClient::from_args(&args.tls, Policy::Enforce).map_err(Error::from)?)
        } else {
            None
        };
        let source_addrs = match &args.source {
            Some(host) => resolve(host, 0, context.family)
                .map_err(Error::from)?
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
            tls,
        })
    }
}

/// Runs `sockx connect`.
pub fn run(args: ConnectArgs, context: &Context) -> anyhow::Result<Status> {
    let interrupt = Interrupt::handler();
    let config = ConnectConfig::new(&args, context)?;
    match &config.peer {
        Endpoint::Udp(peer) => return udp::run(&config, peer, context, &interrupt),
        Endpoint::UnixDgram(addr) => return udp::run_unix(&config, addr, context, &interrupt),
        Endpoint::Tcp(_) | Endpoint::Unix(_) => {}
    }
    let connected = connect_with_retry(&config, context)?;
    let peer = connected.peer;
    if context.verbose() {
        let from = connected
            .local
            .map(|local| format!(" from {local}"))
            .unwrap_or_default();
        notes::verbose(format_args!(
            "connected to {peer}{from} in {}",
            format_elapsed(connected.elapsed)
        ));
    }
    let (stream, secured) = match &config.tls {
        Some(client) => {
            let (host, named) = tls_names(&config.peer);
            let secured = tls::secure(connected.stream, client, &host, &named, config.timeout)?;
            (secured.stream, Some((secured.handshake, named)))
        }
        None => (connected.stream, None),
    };
    let relay = Relay::new(stream, config.relay);
    let stopper = relay.stopper();
    let stream = relay.stream();
    interrupt.on_interrupt(move || stopper.stop());
    let input = match &config.send {
        Some(pieces) => Input::Bytes(pieces.concat()),
        None => Input::stdin(),
    };
    let stats = relay.run_stdio(input).map_err(|err| match &secured {
        Some((handshake, named)) => handshake.relay_error(err, named),
        None => relay_failure(err, &peer),
    })?;
    if stats.end == RelayEnd::PeerClosed
        && stream.tls().is_some_and(|tls| tls.closed_without_notify())
    {
        notes::verbose(format_args!(
            "tls: {peer} closed the connection without close_notify (a truncation would look the same)"
        ));
    }
    if context.verbose() {
        let why = match stats.end {
            RelayEnd::PeerClosed => "closed by peer",
            RelayEnd::IdleTimeout => "idle timeout",
            RelayEnd::Stopped => "interrupted",
        };
        notes::verbose(format_args!("{peer} {why}: {stats}"));
    }
    Ok(match stats.end {
        RelayEnd::Stopped => Status::Interrupted,
        RelayEnd::PeerClosed | RelayEnd::IdleTimeout => Status::Success,
    })
}

/// The name a TLS session sends and verifies (unless `--sni`) and how its errors name the
/// server: the host and `HOST:PORT` as given (the target, through a proxy); a Unix socket is
/// `localhost`, named by its address.
fn tls_names(peer: &Endpoint) -> (String, String) {
    match peer {
        Endpoint::Tcp(peer) | Endpoint::Udp(peer) => (peer.host.to_string(), peer.to_string()),
        Endpoint::Unix(addr) | Endpoint::UnixDgram(addr) => {
            ("localhost".to_string(), addr.to_string())
        }
    }
}

/// Resolves and connects; with `--retry`, tries again after refusals and timeouts (and
/// failed lookups, for a name that is not registered yet) until the retry time has passed.
fn connect_with_retry(config: &ConnectConfig, context: &Context) -> anyhow::Result<Connected> {
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
                notes::verbose(format_args!(
                    "{}; retrying for {} more",
                    err.message,
                    format_duration(deadline - now)
                ));
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

/// A connected peer, whatever the transport.
struct Connected {
    stream: Stream,
    /// The peer as messages name it.
    peer: PeerLabel,
    /// Our end, where it has an address worth showing.
    local: Option<SocketAddr>,
    elapsed: Duration,
}

/// How `-v` lines and errors name the peer: its address, or through `--proxy` the target and
/// the proxy (`127.0.0.1:5432 through 127.0.0.1:1080`), never the proxy alone.
enum PeerLabel {
    Direct(PeerName),
    Through { target: TunnelTarget, proxy: String },
}

impl std::fmt::Display for PeerLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerLabel::Direct(peer) => peer.fmt(f),
            PeerLabel::Through { target, proxy } => write!(f, "{target} through {proxy}"),
        }
    }
}

impl From<Dialed> for Connected {
    fn from(dialed: Dialed) -> Connected {
        Connected {
            local: dialed.stream.local_addr().ok(),
            stream: dialed.stream.into(),
            peer: PeerLabel::Direct(PeerName::Inet(dialed.addr)),
            elapsed: dialed.elapsed,
        }
    }
}

/// One round. On failure, the error and whether a retry could help.
fn try_once(
    config: &ConnectConfig,
    context: &Context,
    remaining: Option<Duration>,
    announced: &mut bool,
) -> Result<Connected, (Error, bool)> {
    let peer = match &config.peer {
        Endpoint::Unix(addr) => {
            return connect_unix(addr, dial_options(config, remaining).timeout);
        }
        Endpoint::Tcp(peer) | Endpoint::Udp(peer) => peer,
        Endpoint::UnixDgram(addr) => {
            return Err((Error::usage(format!("{addr}: not a stream socket")), false));
        }
    };
    if let Some(proxy) = &config.proxy {
        return try_once_via_proxy(proxy, peer, config, context, remaining, announced);
    }
    let addrs =
        resolve(&peer.host, peer.port, config.family).map_err(|err| (Error::from(err), true))?;
    if context.verbose() && !*announced {
        *announced = true;
        let list: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
        notes::verbose(format_args!("{peer} resolves to {}", list.join(", ")));
    }
    dial(&addrs, &dial_options(config, remaining))
        .map(Connected::from)
        .map_err(|failure| (dial_error("", peer, &failure), failure.is_retryable()))
}

/// Connects to a Unix stream socket, waiting at most `timeout` (`-w`) while the listener's
/// accept queue is full. A missing socket file, one nobody listens on, or a queue that stayed
/// full is worth a retry (a server that is still starting, or busy).
fn connect_unix(addr: &UnixAddr, timeout: Duration) -> Result<Connected, (Error, bool)> {
    let started = Instant::now();
    match crate::net::unix_connect::connect_unix(addr, Some(timeout)) {
        Ok(stream) => Ok(Connected {
            stream: stream.into(),
            peer: PeerLabel::Direct(PeerName::Unix(addr.clone())),
            local: None,
            elapsed: started.elapsed(),
        }),
        Err(err) => {
            let retryable = matches!(
                err.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::TimedOut
            );
            let mut error = Error::failure(format!("cannot connect to {addr}: {}", describe(&err)));
            if err.kind() == io::ErrorKind::TimedOut {
                error = error.with_hint(format!(
                    "a server listens there, but its accept queue stayed full for {}",
                    crate::net::format_duration(timeout)
                ));
            } else if err.raw_os_error() == Some(nix::libc::EPROTOTYPE) {
                error = error.with_hint("it is not a stream socket (a datagram socket takes -u)");
            }
            Err((error, retryable))
        }
    }
}

/// Flags that name IP-level things: exit 2 with a Unix address.
fn refuse_inet_flags(args: &ConnectArgs, addr: &UnixAddr) -> Result<(), Error> {
    let flag = if args.source_port.is_some() {
        "-p/--source-port"
    } else if args.source.is_some() {
        "-s/--source"
    } else if args.proxy.is_some() {
        "--proxy"
    } else if args.nodelay {
        "--nodelay"
    } else if args.broadcast {
        "--broadcast"
    } else {
        return Ok(());
    };
    Err(Error::usage(format!(
        "{flag} makes no sense with a Unix socket ({addr})"
    )))
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
    peer: &HostPort,
    config: &ConnectConfig,
    context: &Context,
    remaining: Option<Duration>,
    announced: &mut bool,
) -> Result<Connected, (Error, bool)> {
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
            let addrs = resolve(host, peer.port, family).map_err(|err| (Error::from(err), true))?;
            addrs.into_iter().map(TunnelTarget::Addr).collect()
        }
    };
    let proxy_endpoint = HostPort {
        host: proxy.host.clone(),
        port: proxy.port,
    };
    let proxy_addrs =
        resolve(&proxy.host, proxy.port, config.family).map_err(|err| (Error::from(err), true))?;
    let options = dial_options(config, remaining);
    let mut last = None;
    for target in &targets {
        let dialed = dial(&proxy_addrs, &options).map_err(|failure| {
            (
                dial_error("proxy ", &proxy_endpoint, &failure),
                failure.is_retryable(),
            )
        })?;
        if context.verbose() && !*announced {
            *announced = true;
            notes::verbose(format_args!(
                "connected to proxy {} in {}; asking for {target}",
                dialed.addr,
                format_elapsed(dialed.elapsed)
            ));
        }
        let started = Instant::now();
        match open_tunnel(dialed.stream, proxy, target, options.timeout) {
            Ok(stream) => {
                notes::verbose(format_args!(
                    "tunnel to {target} through {proxy} open in {}",
                    format_elapsed(started.elapsed())
                ));
                return Ok(Connected {
                    local: stream.local_addr().ok(),
                    stream: stream.into(),
                    peer: PeerLabel::Through {
                        target: target.clone(),
                        proxy: proxy.to_string(),
                    },
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

/// The failure of every attempt to reach `peer`, as one line (see [`DialFailure::message_as`]);
/// `role` names what `peer` is (`proxy `: `cannot connect to proxy 127.0.0.1:1080: …`).
fn dial_error(role: &str, peer: &HostPort, failure: &DialFailure) -> Error {
    Error::failure(failure.message_as(role, peer))
}

/// `0.4ms`, `12ms`, `1.5s`.
fn format_elapsed(elapsed: Duration) -> String {
    if elapsed < Duration::from_millis(10) {
        format!("{:.1}ms", elapsed.as_secs_f64() * 1000.0)
    } else {
        format_duration(elapsed)
    }
}
