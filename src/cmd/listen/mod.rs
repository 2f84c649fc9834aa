//! `sockx listen`: bind, announce the ready line, then serve in the chosen mode.
//!
//! The modes live in their own files: `single` (the default: one TCP connection relayed to
//! stdin/stdout). The other modes (keep-open, echo, exec, UDP) plug into [`run`]'s dispatch.

mod access;
mod single;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};

use anyhow::Context as _;

use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::cause::describe;
use crate::net::socket::{Proto, SocketOptions, any_interface, new_socket};
use crate::net::{BindSpec, Family, resolve};
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
    let spec = BindSpec::from_words(&args.addr).map_err(Error::usage)?;
    let mode = Mode::of(&args);
    // The listen-modes work plugs in here: each mode gets the bound socket and the args.
    match mode {
        Mode::Single => {
            // Before the ready line: a Ctrl-C right after it must find the handler in place.
            let interrupt = Interrupt::install()?;
            let listener = bind_tcp(&spec, &args, context)?;
            announce(&listener.local_addr()?, Proto::Tcp, context)?;
            single::run(listener, &args, context, &interrupt)
        }
        Mode::KeepOpen => Err(not_supported_yet("-k/--keep-open")),
        Mode::Echo => Err(not_supported_yet("--echo")),
        Mode::Exec => Err(not_supported_yet("--exec/--sh-exec")),
        Mode::Udp => Err(not_supported_yet("-u/--udp")),
    }
}

fn not_supported_yet(flag: &str) -> anyhow::Error {
    Error::usage(format!("listen {flag} is not supported yet")).into()
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
        socket.listen(128)?;
        Ok(socket)
    });
    match bound {
        Ok(socket) => Ok(socket.into()),
        Err(err) => Err(bind_error(&addr, &err).into()),
    }
}

/// `cannot listen on ADDR: CAUSE`.
pub fn bind_error(addr: &SocketAddr, err: &io::Error) -> Error {
    Error::failure(format!("cannot listen on {addr}: {}", describe(err)))
}

/// Prints the ready line `listening on ADDR:PORT (tcp)` on stderr (unless `-q`), flushed.
pub fn announce(local: &SocketAddr, proto: Proto, context: &Context) -> anyhow::Result<()> {
    if context.chatty() {
        let mut stderr = io::stderr().lock();
        writeln!(stderr, "listening on {local} ({proto})")
            .and_then(|()| stderr.flush())
            .context("writing the ready line")?;
    }
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
