//! `listen`'s arguments, validated once before anything is bound: where to listen, the mode,
//! and the options every mode reads. Flags that cannot go together are exit 2 here.

use std::time::Duration;

use std::sync::Arc;

use super::access::AccessList;
use super::exec::Program;
use super::forward::Plan;
use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::Error;
use crate::net::endpoint::{Transport, UnixAddr};
use crate::net::tls::{HANDSHAKE_TIMEOUT, TlsServer};
use crate::net::{BindEndpoint, Family};

/// How `listen` serves its peers, decided by the flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// One connection relayed to stdin/stdout (the default).
    Single,
    /// `-k`: many connections at once, relayed to stdin/stdout.
    KeepOpen,
    /// `--echo` (with or without `-k`).
    Echo,
    /// `--exec` / `--sh-exec`: the command to run for each connection.
    Exec(Program),
    /// `-u`: datagrams.
    Udp,
    /// `--forward TARGET` (TCP, Unix or, with `-u`, UDP): where and how to forward.
    Forward(Arc<Plan>),
}

/// `listen`'s arguments, validated.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// Where to listen.
    pub endpoint: BindEndpoint,
    /// How to serve.
    pub mode: Mode,
    /// `-k`: keep accepting (the served modes; `-u` always does).
    pub keep_open: bool,
    /// `--echo` (the echo mode, or `-u --echo`).
    pub echo: bool,
    /// `--allow` / `--deny` (IP peers only).
    pub access: AccessList,
    /// `--max-conns`.
    pub max_conns: Option<usize>,
    /// `-w/--idle-timeout`.
    pub idle_timeout: Option<Duration>,
    /// `--hex`.
    pub hex: bool,
    /// `-C/--crlf`.
    pub crlf: bool,
    /// `--recv-only`.
    pub recv_only: bool,
    /// `--reuseport` (IP only).
    pub reuse_port: bool,
    /// `--broadcast` (IP only).
    pub broadcast: bool,
    /// `--unix-mode` (a Unix socket file only).
    pub unix_mode: Option<u32>,
    /// `-4` / `-6`.
    pub family: Family,
    /// `--tls`: the server every connection's handshake is made with.
    pub tls: Option<TlsServer>,
}

impl ListenConfig {
    /// How long a client has for its TLS handshake: `-w` bounds a silent handshake too, never
    /// beyond the handshake's own limit.
    pub fn handshake_limit(&self) -> Duration {
        self.idle_timeout
            .map_or(HANDSHAKE_TIMEOUT, |idle| idle.min(HANDSHAKE_TIMEOUT))
    }

    /// Checks the arguments (no network traffic but the resolution of `--forward`'s target
    /// name, once for the run; `--exec`'s program is looked up, so that a missing one fails
    /// before anything listens).
    pub fn new(args: &ListenArgs, context: &Context) -> anyhow::Result<ListenConfig> {
        let transport = Transport {
            datagram: args.udp,
            unix: args.unix,
        };
        let endpoint = BindEndpoint::from_words(&args.addr, transport).map_err(Error::usage)?;
        match &endpoint {
            BindEndpoint::Unix(addr) | BindEndpoint::UnixDgram(addr) => {
                check_unix_socket(args, addr)?;
            }
            BindEndpoint::Tcp(_) | BindEndpoint::Udp(_) => {
                if args.unix_mode.is_some() {
                    return Err(
                        Error::usage("--unix-mode needs a Unix socket path (unix:PATH)").into(),
                    );
                }
            }
        }
        if args.udp && args.tls.tls {
            return Err(Error::usage("-u cannot go with --tls")
                .with_hint("sockx has no DTLS; TLS runs over TCP and Unix stream sockets")
                .into());
        }
        let program = Program::from_args(args)?;
        if args.udp && program.is_some() {
            return Err(Error::usage("-u cannot go with --exec or --sh-exec")
                .with_hint("a command is run per stream connection (TCP or Unix); drop -u")
                .into());
        }
        // Bad quoting is a usage error (above), a missing program a failure: both before
        // anything is bound.
        if let Some(program) = &program {
            program.check()?;
        }
        let mode = if let Some(target) = &args.forward {
            if let BindEndpoint::UnixDgram(addr) = &endpoint {
                return Err(Error::usage(format!(
                    "--forward from a Unix datagram socket ({addr}) is not served; UDP is"
                ))
                .into());
            }
            Mode::Forward(Arc::new(Plan::new(target, args, context)?))
        } else if args.udp {
            Mode::Udp
        } else if let Some(program) = program {
            Mode::Exec(program)
        } else if args.echo {
            Mode::Echo
        } else if args.keep_open {
            Mode::KeepOpen
        } else {
            Mode::Single
        };
        let tls = super::tls::server(&args.tls, &endpoint)?;
        Ok(ListenConfig {
            tls,
            endpoint,
            mode,
            keep_open: args.keep_open,
            echo: args.echo,
            access: AccessList::new(&args.allow, &args.deny),
            max_conns: args.max_conns.map(|n| n as usize),
            idle_timeout: args.idle_timeout,
            hex: args.hex,
            crlf: args.crlf,
            recv_only: args.recv_only,
            reuse_port: args.reuseport,
            broadcast: args.broadcast,
            unix_mode: args.unix_mode,
            family: context.family,
        })
    }
}

/// Flags that only make sense for IP sockets (access rules on addresses, SO_REUSEPORT,
/// SO_BROADCAST), and `--unix-mode` without a socket file: exit 2 with a Unix address, stream
/// or datagram.
fn check_unix_socket(args: &ListenArgs, addr: &UnixAddr) -> Result<(), Error> {
    let inet_only = if !args.allow.is_empty() || !args.deny.is_empty() {
        Some("--allow/--deny")
    } else if args.reuseport {
        Some("--reuseport")
    } else if args.broadcast {
        Some("--broadcast")
    } else {
        None
    };
    if let Some(flag) = inet_only {
        return Err(Error::usage(format!(
            "{flag} makes no sense with a Unix socket ({addr})"
        )));
    }
    if args.unix_mode.is_some() && addr.file().is_none() {
        return Err(Error::usage(
            "--unix-mode needs a socket file; an abstract name has no permissions",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;
    use clap::Parser;

    fn config(words: &[&str]) -> anyhow::Result<ListenConfig> {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ListenArgs,
        }
        let mut argv = vec!["listen"];
        argv.extend_from_slice(words);
        let args = Wrapper::try_parse_from(argv).unwrap().args;
        let context = Context {
            verbosity: crate::output::Verbosity::Normal,
            colors: crate::output::Colors::decide(crate::output::ColorChoice::Never),
            family: Family::Any,
        };
        ListenConfig::new(&args, &context)
    }

    fn usage(words: &[&str]) -> bool {
        let err = config(words).unwrap_err();
        err.downcast_ref::<Error>()
            .is_some_and(|err| err.status == Status::Usage)
    }

    #[test]
    fn the_flags_choose_the_mode() {
        assert_eq!(config(&["0"]).unwrap().mode, Mode::Single);
        assert_eq!(config(&["-k", "0"]).unwrap().mode, Mode::KeepOpen);
        assert_eq!(config(&["-k", "--echo", "0"]).unwrap().mode, Mode::Echo);
        assert!(matches!(
            config(&["-e", "cat", "0"]).unwrap().mode,
            Mode::Exec(_)
        ));
        let udp = config(&["-u", "--echo", "0"]).unwrap();
        assert_eq!(udp.mode, Mode::Udp);
        assert!(udp.echo);
    }

    #[test]
    fn flags_that_cannot_go_together_are_usage_errors() {
        assert!(usage(&["-u", "-e", "cat", "0"]));
        assert!(usage(&["-u", "--tls", "0"]));
        assert!(usage(&["--tls", "--alpn", "", "0"]));
        assert!(usage(&["--unix-mode", "600", "0"]));
        assert!(usage(&["--allow", "127.0.0.0/8", "unix:/tmp/x.sock"]));
        assert!(usage(&["--deny", "127.0.0.0/8", "unix:/tmp/x.sock"]));
        assert!(usage(&["--reuseport", "unix:/tmp/x.sock"]));
        assert!(usage(&["--unix-mode", "600", "unix:@abstract"]));
        assert!(usage(&["-u", "--broadcast", "unix:/tmp/x.sock"]));
        assert!(usage(&["-u", "-e", "cat", "unix:/tmp/x.sock"]));
        assert_eq!(
            config(&["-u", "--echo", "unix:/tmp/x.sock"]).unwrap().mode,
            Mode::Udp
        );
    }

    #[test]
    fn every_stream_mode_is_served_over_unix_sockets() {
        assert_eq!(
            config(&["-k", "unix:/tmp/x.sock"]).unwrap().mode,
            Mode::KeepOpen
        );
        assert_eq!(config(&["--echo", "unix:@x"]).unwrap().mode, Mode::Echo);
        assert!(matches!(
            config(&["-k", "--sh-exec", "cat", "unix:/tmp/x.sock"])
                .unwrap()
                .mode,
            Mode::Exec(_)
        ));
    }
}
