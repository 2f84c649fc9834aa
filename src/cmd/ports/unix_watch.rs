//! `sockx ports -x --watch`: the matching Unix-domain sockets, then a line for each one that
//! appears or goes away, until Ctrl-C: the TCP/UDP watch's ticks and lines (`watch.rs`) over
//! the Unix socket table. Only new sockets (and their peers) get an owner lookup.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use super::unix::{Config, Holders, matching_sockets, sort_key};
use super::unix_rows::{HEADERS, HEADERS_ALL};
use super::warn_unknown_owners;
use super::watch::{Change, Known, Shown, event_body, every, write_event};
use crate::cmd::Context;
use crate::error::Status;
use crate::os::processes::UserNames;
use crate::os::unix_sockets::{UnixKind, UnixName, UnixSocket};
use crate::output::Colors;

/// What tells one Unix socket from another across two listings (an inode number may be
/// reused once its socket is gone).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UnixKey {
    inode: u64,
    kind: UnixKind,
    name: Option<UnixName>,
    peer: Option<u64>,
}

impl UnixKey {
    fn of(socket: &UnixSocket) -> UnixKey {
        UnixKey {
            inode: socket.inode,
            kind: socket.kind,
            name: socket.name.clone(),
            peer: socket.peer,
        }
    }
}

/// Runs the watch until Ctrl-C (exit 130) or until stdout goes away (exit 0).
pub fn run(config: &Config, interval: Duration, context: &Context) -> anyhow::Result<Status> {
    let mut watch = Watch {
        config,
        colors: context.colors,
        users: UserNames::default(),
        known: Known::default(),
    };
    let mut out = io::stdout().lock();
    let (first, _) = matching_sockets(config)?;
    let shown = watch.add(first, &mut out, None)?;
    every(interval, shown, || {
        let (sockets, _) = matching_sockets(config)?;
        let kept = sockets.len();
        let (mut gone, new) = watch.known.changes(sockets, UnixKey::of);
        let time = SystemTime::now();
        gone.sort_by(|a, b| sort_key(&a.socket).cmp(&sort_key(&b.socket)));
        for shown in &gone {
            let format = config.format;
            write_event(
                &mut out,
                format,
                watch.colors,
                Change::Removed,
                time,
                &shown.body,
            )?;
        }
        let added = watch.add(new, &mut out, Some(time))?;
        out.flush()?;
        Ok((kept, added, gone.len()))
    })
}

/// What the watch remembers between ticks.
struct Watch<'a> {
    config: &'a Config,
    colors: Colors,
    users: UserNames,
    known: Known<UnixKey, UnixSocket>,
}

impl Watch<'_> {
    /// Looks up the owners of `sockets` (all new), remembers them, and prints those that
    /// match: as events at `time`, or without a time as the first listing. Returns how many
    /// were printed.
    fn add(
        &mut self,
        mut sockets: Vec<UnixSocket>,
        out: &mut dyn Write,
        time: Option<SystemTime>,
    ) -> anyhow::Result<usize> {
        if sockets.is_empty() {
            return Ok(0);
        }
        let config = self.config;
        let holders = Holders::find(&mut sockets);
        let mut rows = Vec::new();
        for socket in &sockets {
            let row = holders.row(socket, &mut self.users, config.all);
            let key = UnixKey::of(socket);
            if !config.keeps_row(&row) {
                self.known.remember(key, None);
                continue;
            }
            let body = event_body(config.format, &row)?;
            if let Some(time) = time {
                write_event(out, config.format, self.colors, Change::Added, time, &body)?;
            }
            let socket = socket.clone();
            self.known.remember(key, Some(Shown { socket, body }));
            rows.push(row);
        }
        if time.is_none() && !rows.is_empty() {
            let headers = if config.all { HEADERS_ALL } else { HEADERS };
            config.format.write_rows(out, headers, &rows, self.colors)?;
        }
        out.flush()?;
        if time.is_none() {
            // Said once, for the first listing; later lines show `-` for such owners too.
            warn_unknown_owners(holders.hidden);
        }
        Ok(rows.len())
    }
}
