//! `sockx ports`: which process holds which port.
//!
//! The socket table and the owner scan live in `os`; this module turns the flags into a
//! filter, applies the cheap socket filters before looking for owners (so the `/proc` scan
//! only looks for the sockets that can still match), then renders the rows.

mod group;
mod held;
mod info;
mod kill;
mod remote;
mod rows;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
mod unix_rows;
#[cfg(unix)]
mod unix_watch;
mod watch;

use std::collections::HashMap;
use std::io::{self, Write as _};
use std::time::{Duration, Instant};

use crate::cli::{GroupBy, PortFilter, PortsArgs};
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::socket::Proto;
use crate::net::{Family, PortRange, SocketState};
use crate::os::processes::{self, UserNames};
use crate::os::sockets::{self, SocketEntry, SocketQuery};
use crate::output::{Format, notes};

use crate::output::escape::quote_arg;
use held::OwnerFilter;
use kill::KillPlan;
use remote::RemoteFilter;
use rows::{HEADERS, HEADERS_ALL, PortRow, ProcessView};

/// The validated filters and output choices of one run.
#[derive(Debug)]
struct Config {
    ports: Vec<PortRange>,
    tcp: bool,
    udp: bool,
    family: Family,
    all: bool,
    states: Vec<SocketState>,
    pid: Option<u32>,
    process: Option<String>,
    uid: Option<u32>,
    exposed: bool,
    remote: Vec<RemoteFilter>,
    by: Option<GroupBy>,
    format: Format,
    kill: Option<KillPlan>,
    /// `-i`: TCP internals too.
    info: bool,
    /// `--watch`, with its interval.
    watch: Option<Duration>,
}

impl Config {
    fn new(args: PortsArgs, context: &Context) -> Result<Config, Error> {
        let (uid, kill) = owner_args(&args)?;
        let remote = args
            .remote
            .iter()
            .map(|text| RemoteFilter::parse(text))
            .collect::<Result<Vec<_>, _>>()?;
        // A remote end, or counting by one, only makes sense with connections.
        let connections = !remote.is_empty() || args.by == Some(GroupBy::Remote);
        let both = args.tcp == args.udp;
        Ok(Config {
            ports: args
                .ports
                .into_iter()
                .filter_map(PortFilter::into_ports)
                .collect(),
            tcp: args.tcp || both,
            udp: args.udp || both,
            family: context.family,
            all: args.all || !args.state.is_empty() || connections,
            states: args.state,
            pid: args.pid,
            process: args.process,
            uid,
            exposed: args.exposed,
            remote,
            by: args.by,
            format: Format::choose(args.json),
            kill,
            info: args.info,
            watch: args
                .watch
                .then(|| watch::checked_interval(args.interval))
                .transpose()?,
        })
    }

    fn query(&self) -> SocketQuery {
        SocketQuery {
            tcp: self.tcp,
            udp: self.udp,
            ipv4: self.family != Family::V6,
            ipv6: self.family != Family::V4,
        }
    }

    /// The filters that need no owner: state, port, exposure, and the socket's UID.
    fn keeps_socket(&self, socket: &SocketEntry) -> bool {
        let state_ok = if !self.states.is_empty() {
            // `listen` also means an unconnected UDP socket, as `ss -l` has it.
            self.states.contains(&socket.state)
                || (socket.is_listening() && self.states.contains(&SocketState::Listen))
        } else {
            self.all || socket.is_listening()
        };
        state_ok
            && (self.ports.is_empty() || self.ports.iter().any(|r| r.contains(socket.local.port())))
            && (!self.exposed || socket.is_exposed())
            && (self.remote.is_empty() || self.remote.iter().any(|r| r.matches(socket.remote)))
            && match (self.uid, socket.uid) {
                (Some(wanted), Some(uid)) => wanted == uid,
                _ => true,
            }
    }

    /// Whether the owners are needed: to show them, count by them, filter on them or signal
    /// them. Counting by remote, port or state needs no `/proc` scan.
    fn needs_owners(&self) -> bool {
        self.by.is_none_or(|by| by == GroupBy::Process)
            || self.pid.is_some()
            || self.process.is_some()
            || self.kill.is_some()
    }

    /// The filters that need the owners.
    fn keeps_row(&self, row: &PortRow) -> bool {
        OwnerFilter {
            pid: self.pid,
            process: self.process.as_deref(),
            uid: self.uid,
        }
        .keeps(row)
    }
}

/// `--user` as a UID and the `--kill` plan: what TCP/UDP and Unix listings check alike.
fn owner_args(args: &PortsArgs) -> Result<(Option<u32>, Option<KillPlan>), Error> {
    let uid = match &args.user {
        Some(user) => Some(processes::uid_of_user(user).ok_or_else(|| {
            Error::usage(format!("unknown user '{}'", quote_arg(user)))
                .with_hint("give a user name or a numeric UID")
        })?),
        None => None,
    };
    let kill = if args.kill {
        Some(KillPlan::new(&args.signal, args.yes)?)
    } else {
        None
    };
    Ok((uid, kill))
}

/// Runs `sockx ports`.
pub fn run(args: PortsArgs, context: &Context) -> anyhow::Result<Status> {
    if args.unix || args.ports.iter().any(PortFilter::is_unix) {
        #[cfg(unix)]
        return unix::run(args, context);
        #[cfg(not(unix))]
        return Err(Error::usage(
            "ports -x: Unix-domain sockets are not supported on this platform",
        )
        .into());
    }
    let config = Config::new(args, context)?;
    if let Some(interval) = config.watch {
        return watch::run(&config, interval, context);
    }
    let started = Instant::now();

    let (mut sockets, infos) = info::list(&config)?;
    let listed = sockets.len();
    sockets.retain(|socket| config.keeps_socket(socket));
    if config.by.is_none() {
        // Counts come out in their own order.
        sockets.sort_by_key(sort_key);
    }
    let listed_at = started.elapsed();

    if let Some(pid) = config.pid {
        // Only that process's descriptors first: cheap, and it leaves only its sockets.
        sockets::attach_owners(&mut sockets, Some(pid));
        sockets.retain(|socket| socket.pids.contains(&pid));
    }
    // Every holder, always: a socket held by `--pid` may be shared with other processes.
    let lookup = if config.needs_owners() {
        sockets::attach_owners(&mut sockets, None)
    } else {
        sockets::OwnerLookup::default()
    };
    let owners_at = started.elapsed();
    let pids = sockets::owner_pids(&sockets);
    let details: HashMap<u32, ProcessView> = processes::describe(&pids)
        .into_iter()
        .map(|(pid, info)| (pid, ProcessView::new(info)))
        .collect();

    let mut users = UserNames::default();
    let rows: Vec<PortRow> = sockets
        .iter()
        .map(|socket| {
            let row = PortRow::new(socket, &details, &mut users, config.all);
            info::with_info(row, socket, infos.as_ref())
        })
        .filter(|row| config.keeps_row(row))
        .collect();

    if context.verbose() {
        notes::verbose(format_args!(
            "sockx: {listed} sockets listed in {} ms, {} kept; owners of {} found in {} ms ({} processes); {} matched",
            listed_at.as_millis(),
            sockets.len(),
            sockets.iter().filter(|s| !s.pids.is_empty()).count(),
            (owners_at - listed_at).as_millis(),
            pids.len(),
            rows.len(),
        ));
    }
    warn_hidden_owners(&sockets, lookup);

    if let Some(plan) = config.kill {
        if rows.is_empty() {
            return Ok(Status::Negative);
        }
        return kill::run(&rows, plan, config.format);
    }
    if let Some(by) = config.by {
        let groups = group::group(&rows, by);
        if !groups.is_empty() {
            let mut out = io::BufWriter::new(io::stdout().lock());
            config
                .format
                .write_rows(&mut out, group::headers(by), &groups, context.colors)?;
            out.flush()?;
        }
        return Ok(Status::from_answer(!groups.is_empty()));
    }
    let headers = info::headers(if config.all { HEADERS_ALL } else { HEADERS }, config.info);
    if !rows.is_empty() {
        let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
        config
            .format
            .write_rows(&mut out, &headers, &rows, context.colors)?;
        out.flush()?;
    }
    Ok(Status::from_answer(!rows.is_empty()))
}

/// Says how many of `sockets` have no known owner, and why: their processes belong to other
/// users (never as root, who sees every process), or no process visible here holds them.
fn warn_hidden_owners(sockets: &[SocketEntry], lookup: sockets::OwnerLookup) {
    let hidden = sockets
        .iter()
        .filter(|socket| socket.pids.is_empty() && socket.inode != 0)
        .count();
    if lookup.denied_processes > 0 && !processes::is_privileged() {
        warn_unknown_owners(hidden);
    } else if hidden > 0 {
        let (noun, holds) = if hidden == 1 {
            ("socket has", "holds it")
        } else {
            ("sockets have", "holds them")
        };
        notes::warn(format_args!(
            "{hidden} {noun} no known owner: no process visible here {holds} \
             (a process of another PID namespace, or the kernel)"
        ));
    }
}

/// Says that `hidden` sockets have no known owner because their processes are other users'.
fn warn_unknown_owners(hidden: usize) {
    if hidden == 0 {
        return;
    }
    let (noun, owner, them) = if hidden == 1 {
        ("socket has", "its process belongs to another user", "it")
    } else {
        (
            "sockets have",
            "their processes belong to other users",
            "them",
        )
    };
    notes::warn(format_args!(
        "{hidden} {noun} no known owner: {owner}; run as root to see {them}"
    ));
}

/// Sorted by port, then protocol, then address (then peer and state, to be stable).
fn sort_key(socket: &SocketEntry) -> impl Ord + use<> {
    let proto = match socket.proto {
        Proto::Tcp => 0,
        Proto::Udp => 1,
    };
    (
        socket.local.port(),
        proto,
        socket.local.ip(),
        socket.remote,
        socket.state,
    )
}
