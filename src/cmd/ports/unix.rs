//! `sockx ports -x`: which process holds which Unix-domain socket, and with `--all` who is on
//! the other end of each connection.
//!
//! The sockets come from `os::unix_sockets` (sock_diag on Linux), the owners from the same
//! `/proc` scan as TCP and UDP, run once for the kept sockets and their peers together.

use std::collections::HashMap;
use std::io::{self, Write as _};

use anyhow::Context as _;

use super::held::OwnerFilter;
use super::rows::ProcessView;
use super::unix_rows::{HEADERS, HEADERS_ALL, UnixRow};
use super::{group, kill, owner_args, warn_unknown_owners};
use crate::cli::{GroupBy, PortFilter, PortsArgs};
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::{Family, SocketState};
use crate::os::processes::{self, UserNames};
use crate::os::unix_sockets::{self, NamedSocket, UnixName, UnixSocket};
use crate::output::{Format, notes};
use kill::KillPlan;

/// A socket named on the command line.
fn target(filter: PortFilter) -> Option<NamedSocket> {
    match filter {
        PortFilter::Ports(_) => None,
        PortFilter::UnixAbstract(name) => {
            Some(NamedSocket::new(UnixName::Abstract(name.into_bytes())))
        }
        PortFilter::UnixPath(path) => Some(NamedSocket::new(UnixName::Path(path.into_os_string()))),
    }
}

/// The validated filters and output choices of one `-x` run.
#[derive(Debug)]
pub(super) struct Config {
    targets: Vec<NamedSocket>,
    pub(super) all: bool,
    states: Vec<SocketState>,
    pid: Option<u32>,
    process: Option<String>,
    uid: Option<u32>,
    by: Option<GroupBy>,
    pub(super) format: Format,
    kill: Option<KillPlan>,
    /// `--watch`, with its interval.
    watch: Option<std::time::Duration>,
}

impl Config {
    fn new(args: PortsArgs, context: &Context) -> Result<Config, Error> {
        let refused = [
            (args.tcp, "-t/--tcp"),
            (args.udp, "-u/--udp"),
            (context.family == Family::V4, "-4"),
            (context.family == Family::V6, "-6"),
            (args.exposed, "--exposed"),
            (!args.remote.is_empty(), "-r/--remote"),
            (args.by == Some(GroupBy::Remote), "--by remote"),
            (args.by == Some(GroupBy::Port), "--by port"),
            (
                args.ports.iter().any(|filter| !filter.is_unix()),
                "a port filter",
            ),
            (args.info, "-i/--info (TCP internals)"),
        ];
        if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
            return Err(Error::usage(format!(
                "{flag} cannot go with Unix-domain sockets (-x or a socket path)"
            ))
            .with_hint("Unix sockets have paths, not addresses and ports: filter with PATH, @NAME, --pid, --process, --user or --state"));
        }
        let watch = args
            .watch
            .then(|| super::watch::checked_interval(args.interval))
            .transpose()?;
        let (uid, kill) = owner_args(&args)?;
        Ok(Config {
            watch,
            targets: args.ports.into_iter().filter_map(target).collect(),
            all: args.all || !args.state.is_empty(),
            states: args.state,
            pid: args.pid,
            process: args.process,
            uid,
            by: args.by,
            format: Format::choose(args.json),
            kill,
        })
    }

    /// The state filter: listeners (and bound datagram sockets) by default, everything with
    /// `--all`, the given states with `--state` (`listen` covers a bound datagram socket, as
    /// `ss -l` has it).
    fn keeps_state(&self, socket: &UnixSocket) -> bool {
        if !self.states.is_empty() {
            self.states.contains(&socket.state)
                || (socket.is_listening() && self.states.contains(&SocketState::Listen))
        } else {
            self.all || socket.is_listening()
        }
    }

    /// The path filter: the socket is bound there, or, with `--all`, its peer is (the
    /// clients connected to the listener there).
    fn keeps_path(&self, socket: &UnixSocket, peer: Option<&UnixSocket>) -> bool {
        self.targets.is_empty()
            || self.targets.iter().any(|target| {
                target.names(socket) || (self.all && peer.is_some_and(|peer| target.names(peer)))
            })
    }

    fn keeps_uid(&self, socket: &UnixSocket) -> bool {
        match (self.uid, socket.uid) {
            (Some(wanted), Some(uid)) => wanted == uid,
            _ => true,
        }
    }

    /// The filters that need the owners.
    pub(super) fn keeps_row(&self, row: &UnixRow) -> bool {
        OwnerFilter {
            pid: self.pid,
            process: self.process.as_deref(),
            uid: self.uid,
        }
        .keeps(row)
    }
}

/// The sockets that pass the filters needing no owner, sorted, and how many were listed.
pub(super) fn matching_sockets(config: &Config) -> anyhow::Result<(Vec<UnixSocket>, usize)> {
    // Connected sockets are needed with --all (and --state), and for nothing else: a path
    // filter looks at peers only with --all.
    let all = match unix_sockets::list_unix_sockets(!config.all) {
        Ok(sockets) => sockets,
        Err(err) if err.kind() == io::ErrorKind::Unsupported => {
            return Err(Error::usage(
                "ports -x: Unix-domain sockets cannot be listed on this platform",
            )
            .into());
        }
        Err(err) => return Err(err).context("cannot list Unix-domain sockets"),
    };
    let index: HashMap<u64, usize> = all
        .iter()
        .enumerate()
        .map(|(at, socket)| (socket.inode, at))
        .collect();
    let peer_of = |socket: &UnixSocket| {
        socket
            .peer
            .and_then(|peer| index.get(&peer))
            .map(|&at| &all[at])
    };
    let mut sockets: Vec<UnixSocket> = all
        .iter()
        .filter(|socket| {
            config.keeps_state(socket)
                && config.keeps_uid(socket)
                && config.keeps_path(socket, peer_of(socket))
        })
        .cloned()
        .collect();
    sockets.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    Ok((sockets, all.len()))
}

/// The holders of some sockets and of their peers, found in one scan.
pub(super) struct Holders {
    peers: HashMap<u64, Vec<u32>>,
    /// Every holder of a socket or of its peer, described.
    pub details: HashMap<u32, ProcessView>,
    /// Sockets whose holder this user may not see (0 for root).
    pub hidden: usize,
}

impl Holders {
    /// Fills in the holders of `sockets` (every holder, always) and finds those of their
    /// peers.
    pub(super) fn find(sockets: &mut [UnixSocket]) -> Holders {
        let wanted: Vec<u64> = sockets
            .iter()
            .flat_map(|socket| [socket.inode, socket.peer.unwrap_or(0)])
            .collect();
        let (owners, lookup) = unix_sockets::owners_by_inode(&wanted, None);
        for socket in sockets.iter_mut() {
            if let Some(pids) = owners.get(&socket.inode) {
                socket.pids.clone_from(pids);
            }
        }
        let mut holders = Holders {
            peers: owners,
            details: HashMap::new(),
            hidden: 0,
        };
        let mut pids: Vec<u32> = sockets
            .iter()
            .flat_map(|socket| socket.pids.iter().chain(holders.of_peer(socket)).copied())
            .collect();
        pids.sort_unstable();
        pids.dedup();
        holders.details = processes::describe(&pids)
            .into_iter()
            .map(|(pid, info)| (pid, ProcessView::new(info)))
            .collect();
        if lookup.denied_processes > 0 && !processes::is_privileged() {
            holders.hidden = sockets.iter().filter(|s| s.pids.is_empty()).count();
        }
        holders
    }

    /// The holders of `socket`'s peer.
    pub(super) fn of_peer(&self, socket: &UnixSocket) -> &[u32] {
        socket
            .peer
            .and_then(|peer| self.peers.get(&peer))
            .map_or(&[], Vec::as_slice)
    }

    /// The row of `socket`.
    pub(super) fn row<'a>(
        &'a self,
        socket: &UnixSocket,
        users: &mut UserNames,
        all: bool,
    ) -> UnixRow<'a> {
        UnixRow::new(socket, self.of_peer(socket), &self.details, users, all)
    }
}

/// Runs `sockx ports -x`.
pub fn run(args: PortsArgs, context: &Context) -> anyhow::Result<Status> {
    let config = Config::new(args, context)?;
    if let Some(interval) = config.watch {
        return super::unix_watch::run(&config, interval, context);
    }
    let (mut sockets, listed) = matching_sockets(&config)?;
    let holders = Holders::find(&mut sockets);
    let mut users = UserNames::default();
    let rows: Vec<UnixRow> = sockets
        .iter()
        .map(|socket| holders.row(socket, &mut users, config.all))
        .filter(|row| config.keeps_row(row))
        .collect();

    if context.verbose() {
        notes::verbose(format_args!(
            "sockx: {listed} Unix sockets listed, {} kept; {} processes hold them or their peers; {} matched",
            sockets.len(),
            holders.details.len(),
            rows.len(),
        ));
    }
    warn_unknown_owners(holders.hidden);

    if let Some(plan) = config.kill {
        if rows.is_empty() {
            return Ok(Status::Negative);
        }
        return kill::run(&rows, plan, config.format);
    }
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let found = if let Some(by) = config.by {
        let groups = group::group(&rows, by);
        if !groups.is_empty() {
            config
                .format
                .write_rows(&mut out, group::headers(by), &groups, context.colors)?;
        }
        !groups.is_empty()
    } else {
        let headers = if config.all { HEADERS_ALL } else { HEADERS };
        if !rows.is_empty() {
            config
                .format
                .write_rows(&mut out, headers, &rows, context.colors)?;
        }
        !rows.is_empty()
    };
    out.flush()?;
    Ok(Status::from_answer(found))
}

/// Sorted by name (unnamed sockets last), then type, state and inode.
pub(super) fn sort_key(socket: &UnixSocket) -> impl Ord + '_ {
    (
        socket.name.is_none(),
        socket.name.as_ref(),
        socket.kind,
        socket.state,
        socket.inode,
    )
}
