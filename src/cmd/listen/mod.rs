//! `sockx listen`: bind, announce the ready line, then serve in the chosen mode.
//!
//! The arguments become a [`ListenConfig`] first (`config`); the modes live in their own
//! files: `single` (the default: one connection relayed to stdin/stdout), `keep_open` (-k),
//! `echo`, `exec` (--exec/--sh-exec) and `udp` (UDP and Unix datagram sockets); `server` is the accept loop the served modes
//! share, over TCP or Unix stream sockets alike.

mod access;
mod bind_error;
mod config;
mod echo;
mod echo_guard;
mod exec;
mod exec_idle;
mod exec_piped;
mod forward;
mod hub;
mod keep_open;
mod server;
mod single;
mod stall;
mod tls;
mod udp;
mod unix;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::net::UnixDatagram;

use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::datagram::DatagramSocket;
use crate::net::listener::{Listener, SocketFile};
use crate::net::socket::{Proto, SocketOptions, any_interface, new_socket};
use crate::net::{BindEndpoint, BindSpec, Family, resolve};
use crate::os::interrupt::Interrupt;

pub use config::{ListenConfig, Mode};

/// Runs `sockx listen`.
pub fn run(args: ListenArgs, context: &Context) -> anyhow::Result<Status> {
    let config = ListenConfig::new(&args, context)?;
    // Until a mode winds down by itself, Ctrl-C is the run's default: exit 130, after
    // removing the socket file this run created (the relay takes Ctrl-C over once it runs,
    // after the file is gone; the served modes once they serve).
    let interrupt = Interrupt::handler();
    if let Mode::Forward(_) = config.mode {
        // Descriptors for every client and its target, as `probe` raises them for its scans.
        let _ = crate::os::rlimit::raise_open_files();
    }
    let bound = bind(&config)?;
    announce(&bound, &config)?;
    match (bound, &config.mode) {
        (Bound::Stream(listener), Mode::Forward(plan)) => {
            forward::run_stream(listener, plan, &config, context)
        }
        (Bound::Datagram(DatagramSocket::Udp(socket), _), Mode::Forward(plan)) => {
            forward::run_udp(socket, plan, &config)
        }
        (Bound::Datagram(socket, file), _) => {
            let outcome = udp::run(socket, &config, context, &interrupt);
            // Every way out of the datagram mode comes back here: the file goes with it.
            drop(file);
            outcome
        }
        (Bound::Stream(listener), Mode::Single) => {
            single::run(listener, &config, context, &interrupt)
        }
        (Bound::Stream(listener), Mode::Exec(program)) => {
            exec::run(listener, program.clone(), &config, context)
        }
        (Bound::Stream(listener), Mode::Echo) => echo::run(listener, &config, context),
        (Bound::Stream(listener), Mode::KeepOpen) => keep_open::run(listener, &config, context),
        // The config pairs each mode with its socket.
        _ => Err(anyhow::anyhow!("no listen mode serves this socket")),
    }
}

/// A bound socket: a stream listener (TCP or Unix) or a datagram socket.
#[derive(Debug)]
pub enum Bound {
    /// TCP or a Unix stream socket.
    Stream(Listener),
    /// UDP, or a Unix datagram socket with the file it created (none for an abstract name).
    Datagram(DatagramSocket, Option<SocketFile>),
}

/// Binds (and listens on) the configured address.
pub fn bind(config: &ListenConfig) -> anyhow::Result<Bound> {
    let bound = match &config.endpoint {
        BindEndpoint::Tcp(spec) => {
            let (socket, addr) = bind_inet(spec, Proto::Tcp, config)?;
            socket
                .listen(4096)
                .map_err(|err| bind_error::bind_error(&addr, Proto::Tcp, &err))?;
            Bound::Stream(Listener::Tcp(socket.into()))
        }
        BindEndpoint::Udp(spec) => {
            let socket = bind_inet(spec, Proto::Udp, config)?.0;
            Bound::Datagram(DatagramSocket::Udp(socket.into()), None)
        }
        BindEndpoint::Unix(addr) => {
            Bound::Stream(Listener::Unix(unix::bind(addr, config.unix_mode)?))
        }
        BindEndpoint::UnixDgram(addr) => {
            let unix = unix::bind_with(addr, config.unix_mode, UnixDatagram::bind_addr)?;
            Bound::Datagram(DatagramSocket::Unix(unix.socket), unix.file)
        }
    };
    Ok(bound)
}

/// A TCP or UDP socket bound to `spec` with the listener's options (not yet listening), and
/// the address it was bound to.
fn bind_inet(
    spec: &BindSpec,
    proto: Proto,
    config: &ListenConfig,
) -> Result<(socket2::Socket, SocketAddr), Error> {
    let addr = bind_address(spec, config.family)?;
    let options = listener_options(config, proto);
    new_socket(&addr, proto, &options)
        .and_then(|socket| {
            socket.bind(&addr.into())?;
            Ok((socket, addr))
        })
        .map_err(|err| bind_error::bind_error(&addr, proto, &err))
}

/// The address to bind for `spec`: every interface (dual-stack `[::]`, or one family with
/// `-4`/`-6`) when no host is given, else the host's first address of the family.
pub fn bind_address(spec: &BindSpec, family: Family) -> Result<SocketAddr, Error> {
    match &spec.host {
        None => Ok(match family {
            Family::Any => any_interface(spec.port),
            Family::V4 => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), spec.port),
            Family::V6 => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), spec.port),
        }),
        Some(host) => {
            let addrs = resolve(host, spec.port, family)?;
            addrs
                .into_iter()
                .next()
                .ok_or_else(|| Error::failure(format!("cannot resolve {host}")))
        }
    }
}

/// Socket options for a listener of `proto`: SO_REUSEADDR always on TCP; `[::]` dual-stack
/// unless `-6` asks for IPv6 only.
pub fn listener_options(config: &ListenConfig, proto: Proto) -> SocketOptions {
    SocketOptions {
        reuse_addr: proto == Proto::Tcp,
        reuse_port: config.reuse_port,
        broadcast: config.broadcast,
        only_v6: Some(config.family == Family::V6),
        ..SocketOptions::default()
    }
}

/// Prints the ready line `listening on ADDR (KIND)` on stderr (unless `-q`), flushed; with
/// `--tls`, the certificate's line first and KIND `tls`.
fn announce(bound: &Bound, config: &ListenConfig) -> std::io::Result<()> {
    let (name, kind) = match bound {
        Bound::Stream(listener) => (listener.name()?, listener.kind()),
        Bound::Datagram(socket, _) => (socket.local_addr()?.to_string(), socket.kind()),
    };
    let kind = match &config.tls {
        Some(tls) => {
            tls.announce();
            "tls"
        }
        None => kind,
    };
    crate::output::notes::ready(format_args!("listening on {name} ({kind})"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_follows_the_family() {
        let spec: BindSpec = "0".parse().unwrap();
        assert!(bind_address(&spec, Family::V4).unwrap().is_ipv4());
        assert!(bind_address(&spec, Family::V6).unwrap().is_ipv6());
        let spec: BindSpec = "127.0.0.1:9".parse().unwrap();
        assert_eq!(
            bind_address(&spec, Family::Any).unwrap(),
            "127.0.0.1:9".parse::<SocketAddr>().unwrap()
        );
    }
}
