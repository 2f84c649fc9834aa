//! `sockx listen`: bind, announce the ready line, then serve in the chosen mode.
//!
//! The modes live in their own files: `single` (the default: one TCP connection relayed to
//! stdin/stdout), `keep_open` (-k), `echo`, `exec` (--exec/--sh-exec) and `udp`; `server` is
//! the accept loop the served modes share.

mod access;
mod bind_error;
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
mod traffic;
mod udp;
mod unix;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};

use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::endpoint::Transport;
use crate::net::socket::{Proto, SocketOptions, any_interface, new_socket};
use crate::net::{BindEndpoint, BindSpec, Family, resolve};
use crate::os::interrupt::Interrupt;

pub use access::AccessList;

/// How `listen` serves its peers, decided by the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One TCP connection relayed to stdin/stdout (the default).
    Single,
    /// `-k`: many TCP connections at once.
    KeepOpen,
    /// `--echo` (with or without `-k`).
    Echo,
    /// `--exec` / `--sh-exec`.
    Exec,
    /// `-u`: datagrams.
    Udp,
}

impl Mode {
    /// The mode the flags ask for.
    pub fn of(args: &ListenArgs) -> Mode {
        if args.udp {
            Mode::Udp
        } else if args.exec.is_some() || args.sh_exec.is_some() {
            Mode::Exec
        } else if args.echo {
            Mode::Echo
        } else if args.keep_open {
            Mode::KeepOpen
        } else {
            Mode::Single
        }
    }
}

/// Runs `sockx listen`.
pub fn run(args: ListenArgs, context: &Context) -> anyhow::Result<Status> {
    let transport = Transport {
        datagram: args.udp,
        unix: args.unix,
    };
    if let Some(target) = &args.forward {
        return forward_run(target, &args, context);
    }
    let spec = match BindEndpoint::from_words(&args.addr, transport).map_err(Error::usage)? {
        BindEndpoint::Tcp(spec) | BindEndpoint::Udp(spec) => spec,
        BindEndpoint::Unix(addr) => {
            unix::check_args(&args, &addr)?;
            // In place before the ready line, as for the TCP one-shot mode below.
            let interrupt = Interrupt::install()?;
            return unix::run_single(&addr, &args, context, &interrupt);
        }
        BindEndpoint::UnixDgram(addr) => {
            return Err(
                Error::usage(format!("{addr}: Unix datagram sockets are not served yet")).into(),
            );
        }
    };
    if args.unix_mode.is_some() {
        return Err(Error::usage("--unix-mode needs a Unix socket path (unix:PATH)").into());
    }
    let mode = Mode::of(&args);
    if mode == Mode::Udp && (args.exec.is_some() || args.sh_exec.is_some()) {
        return Err(Error::usage("-u cannot go with --exec or --sh-exec")
            .with_hint("a command is run per TCP connection; drop -u")
            .into());
    }
    // Checked before binding: bad quoting is a usage error, a missing program a failure.
    let program = exec::Program::from_args(&args)?;
    if let Some(program) = &program {
        program.check()?;
    }
    if mode == Mode::Udp {
        // As for the one-shot mode below: in place before the ready line and any thread.
        let interrupt = Interrupt::install()?;
        let socket = bind_udp(&spec, &args, context)?;
        announce(&socket.local_addr()?, Proto::Udp, context)?;
        return udp::run(socket, &args, context, &interrupt);
    }
    // The one-shot mode's Ctrl-C handler goes in before the ready line, so that a Ctrl-C right
    // after it finds the handler in place (the served modes use tokio's).
    let interrupt = match mode {
        Mode::Single => Some(Interrupt::install()?),
        _ => None,
    };
    let listener = bind_tcp(&spec, &args, context)?;
    announce(&listener.local_addr()?, Proto::Tcp, context)?;
    match (program, interrupt) {
        (Some(program), _) => exec::run(listener, program, &args, context),
        (None, Some(interrupt)) => single::run(listener, &args, context, &interrupt),
        (None, None) if mode == Mode::Echo => echo::run(listener, &args, context),
        (None, None) => keep_open::run(listener, &args, context),
    }
}

/// `--forward TARGET`: the plan is checked before binding.
fn forward_run(target: &str, args: &ListenArgs, context: &Context) -> anyhow::Result<Status> {
    let plan = forward::Plan::new(target, args, context)?;
    let transport = Transport {
        datagram: args.udp,
        unix: args.unix,
    };
    forward::raise_open_files();
    match BindEndpoint::from_words(&args.addr, transport).map_err(Error::usage)? {
        BindEndpoint::Tcp(spec) => {
            let listener = bind_tcp(&spec, args, context)?;
            announce(&listener.local_addr()?, Proto::Tcp, context)?;
            forward::run_tcp(listener, plan, args, context)
        }
        BindEndpoint::Udp(spec) => {
            let socket = bind_udp(&spec, args, context)?;
            announce(&socket.local_addr()?, Proto::Udp, context)?;
            forward::run_udp(socket, plan, args)
        }
        BindEndpoint::Unix(addr) | BindEndpoint::UnixDgram(addr) => Err(Error::usage(format!(
            "{addr}: forwarding from a Unix socket is not served yet"
        ))
        .into()),
    }
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
pub fn listener_options(args: &ListenArgs, proto: Proto, family: Family) -> SocketOptions {
    SocketOptions {
        reuse_addr: proto == Proto::Tcp,
        reuse_port: args.reuseport,
        broadcast: args.broadcast,
        only_v6: Some(family == Family::V6),
        ..SocketOptions::default()
    }
}

/// Binds and listens on TCP.
pub fn bind_tcp(
    spec: &BindSpec,
    args: &ListenArgs,
    context: &Context,
) -> anyhow::Result<TcpListener> {
    let addr = bind_address(spec, context.family)?;
    let options = listener_options(args, Proto::Tcp, context.family);
    let bound = new_socket(&addr, Proto::Tcp, &options).and_then(|socket| {
        socket.bind(&addr.into())?;
        socket.listen(4096)?;
        Ok(socket)
    });
    match bound {
        Ok(socket) => Ok(socket.into()),
        Err(err) => Err(bind_error::bind_error(&addr, Proto::Tcp, &err).into()),
    }
}

/// Binds a UDP socket.
pub fn bind_udp(
    spec: &BindSpec,
    args: &ListenArgs,
    context: &Context,
) -> anyhow::Result<UdpSocket> {
    let addr = bind_address(spec, context.family)?;
    let options = listener_options(args, Proto::Udp, context.family);
    let bound = new_socket(&addr, Proto::Udp, &options).and_then(|socket| {
        socket.bind(&addr.into())?;
        Ok(socket)
    });
    match bound {
        Ok(socket) => Ok(socket.into()),
        Err(err) => Err(bind_error::bind_error(&addr, Proto::Udp, &err).into()),
    }
}

/// Prints the ready line `listening on ADDR:PORT (tcp)` on stderr (unless `-q`), flushed.
pub fn announce(local: &SocketAddr, proto: Proto, context: &Context) -> anyhow::Result<()> {
    let _ = context;
    crate::output::notes::ready(format_args!("listening on {local} ({proto})"));
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
