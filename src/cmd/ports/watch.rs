//! `sockx ports --watch`: the matching sockets, then a line for each one that appears or goes
//! away, until Ctrl-C.
//!
//! Each tick is one socket listing (sock_diag), filtered as a one-shot run filters, and
//! compared with the last by socket identity. Only the sockets that are new get an owner
//! lookup (the `/proc` scan for just their inodes), so a tick with nothing new costs the
//! listing and the comparison. What a socket looked like when it appeared is kept, so that
//! its `-` line says whose it was. A socket that comes and goes within one interval may be
//! missed.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::io::{self, Write};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;

use super::info::{self, Infos};
use super::rows::{HEADERS, HEADERS_ALL, PortRow, ProcessView};
use super::{Config, sort_key, warn_hidden_owners};
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::os::processes::{self, UserNames};
use crate::os::socket_key::SocketKey;
use crate::os::sockets::{self, SocketEntry};
use crate::os::stdout_gone;
use crate::output::color::paint;
use crate::output::{Colors, Format, notes};

/// The shortest `--interval`: below it the watch would only spin.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// `interval` if the watch can keep it.
pub fn checked_interval(interval: Duration) -> Result<Duration, Error> {
    if interval < MIN_INTERVAL {
        return Err(Error::usage(format!(
            "--interval {} is too short",
            crate::net::format_duration(interval)
        ))
        .with_hint("give 10ms or more, e.g. --interval 200ms"));
    }
    Ok(interval)
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
    let first = matching_sockets(config)?;
    let shown = watch.add(first, &mut out, None)?;
    every(interval, shown, || {
        let sockets = matching_sockets(config)?;
        let kept = sockets.len();
        let (gone, added) = watch.tick(sockets, &mut out)?;
        Ok((kept, added, gone))
    })
}

/// After the first listing (`shown` sockets), runs `tick` every `interval` until stdout goes
/// away (exit 0); `tick` says how many sockets passed the filters, were added and removed.
/// Ctrl-C ends the process with 130 (the run's default): every line is flushed as it is
/// written, so nothing is lost then.
pub(super) fn every(
    interval: Duration,
    shown: usize,
    mut tick: impl FnMut() -> anyhow::Result<(usize, usize, usize)>,
) -> anyhow::Result<Status> {
    notes::verbose(format_args!(
        "watching every {}: {shown} sockets now",
        crate::net::format_duration(interval)
    ));
    let mut next = Instant::now() + interval;
    loop {
        if stdout_gone::sleep_unless_stdout_gone(next.saturating_duration_since(Instant::now())) {
            // The reader went away (`| head`): a quiet, successful end, as a broken pipe is.
            return Ok(Status::Success);
        }
        // A tick that ran late (a loaded machine) is not caught up on: the next one is an
        // interval away from now.
        next += interval;
        if next < Instant::now() {
            next = Instant::now() + interval;
        }
        let started = Instant::now();
        let (kept, added, gone) = tick()?;
        notes::verbose(format_args!(
            "tick: {} ms, {kept} sockets pass the filters, {added} added, {gone} removed",
            started.elapsed().as_millis()
        ));
    }
}

/// Every socket of the last tick that passed the owner-free filters, by identity; `None` for
/// one whose owner did not match (`--pid`, `--process`, `--user`), which is never looked up
/// again.
pub(super) struct Known<K, S> {
    sockets: HashMap<K, Option<Shown<S>>>,
}

impl<K, S> Default for Known<K, S> {
    fn default() -> Self {
        Known {
            sockets: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq, S> Known<K, S> {
    /// Forgets what this tick's `sockets` no longer have; returns what of it had been shown
    /// (for the `-` lines) and the sockets that are new.
    pub(super) fn changes(
        &mut self,
        sockets: Vec<S>,
        key: impl Fn(&S) -> K,
    ) -> (Vec<Shown<S>>, Vec<S>) {
        let current: HashSet<K> = sockets.iter().map(&key).collect();
        let mut gone = Vec::new();
        self.sockets.retain(|known, shown| {
            let stays = current.contains(known);
            if !stays && let Some(shown) = shown.take() {
                gone.push(shown);
            }
            stays
        });
        let new = sockets
            .into_iter()
            .filter(|socket| !self.sockets.contains_key(&key(socket)))
            .collect();
        (gone, new)
    }

    /// Remembers a new socket, and what was shown of it.
    pub(super) fn remember(&mut self, key: K, shown: Option<Shown<S>>) {
        self.sockets.insert(key, shown);
    }
}

/// The listing of one tick: the sockets that pass the filters needing no owner.
fn matching_sockets(config: &Config) -> anyhow::Result<Vec<SocketEntry>> {
    let mut sockets = sockets::list_sockets(config.query()).context("cannot list sockets")?;
    sockets.retain(|socket| config.keeps_socket(socket));
    Ok(sockets)
}

/// What the watch remembers between ticks.
struct Watch<'a> {
    config: &'a Config,
    colors: Colors,
    users: UserNames,
    known: Known<SocketKey, SocketEntry>,
}

/// A socket that was reported, as it was when it appeared.
pub(super) struct Shown<S> {
    /// The socket, for the order of the `-` lines.
    pub socket: S,
    /// Its line after the time and sign: table cells, or the JSON object's fields.
    pub body: String,
}

/// `added` or `removed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Added,
    Removed,
}

impl Watch<'_> {
    /// Compares this tick's sockets with the last tick's and prints the changes: what went
    /// away first, then what is new. Returns how many of each were printed.
    fn tick(
        &mut self,
        sockets: Vec<SocketEntry>,
        out: &mut dyn Write,
    ) -> anyhow::Result<(usize, usize)> {
        let (mut gone, new) = self.known.changes(sockets, SocketKey::of);

        let time = SystemTime::now();
        gone.sort_by_key(|shown| sort_key(&shown.socket));
        for shown in &gone {
            write_event(
                out,
                self.config.format,
                self.colors,
                Change::Removed,
                time,
                &shown.body,
            )?;
        }
        let added = self.add(new, out, Some(time))?;
        out.flush()?;
        Ok((gone.len(), added))
    }

    /// Looks up the owners of `sockets` (all new), remembers them, and prints those that
    /// match: as events at `time`, or without a time as the first listing. Returns how many
    /// were printed.
    fn add(
        &mut self,
        mut sockets: Vec<SocketEntry>,
        out: &mut dyn Write,
        time: Option<SystemTime>,
    ) -> anyhow::Result<usize> {
        if sockets.is_empty() {
            return Ok(0);
        }
        let config = self.config;
        let infos: Option<Infos> = info::load(config)?;
        sockets.sort_by_key(sort_key);
        if let Some(pid) = config.pid {
            // Only that process's descriptors: cheap, and what it does not hold cannot match.
            sockets::attach_owners(&mut sockets, Some(pid));
            for socket in sockets.iter().filter(|socket| !socket.pids.contains(&pid)) {
                self.known.remember(SocketKey::of(socket), None);
            }
            sockets.retain(|socket| socket.pids.contains(&pid));
        }
        // Every holder, also of a socket `--pid` holds: it may be shared with other processes.
        let lookup = sockets::attach_owners(&mut sockets, None);
        let details: HashMap<u32, ProcessView> =
            processes::describe(&sockets::owner_pids(&sockets))
                .into_iter()
                .map(|(pid, info)| (pid, ProcessView::new(info)))
                .collect();

        let mut rows: Vec<PortRow> = Vec::new();
        for socket in &sockets {
            let row = PortRow::new(socket, &details, &mut self.users, config.all);
            let row = info::with_info(row, socket, infos.as_ref());
            let key = SocketKey::of(socket);
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
            let base = if config.all { HEADERS_ALL } else { HEADERS };
            let headers = info::headers(base, config.info);
            config
                .format
                .write_rows(out, &headers, &rows, self.colors)?;
        }
        out.flush()?;
        if time.is_none() {
            // Said once, for the first listing; later lines show `-` for such owners too.
            warn_hidden_owners(&sockets, lookup);
        }
        Ok(rows.len())
    }
}

/// A row's part of an event line: its cells two spaces apart, or its JSON object's fields
/// (without the opening brace, so that `event` and `time` can come first).
pub(super) fn event_body(
    format: Format,
    row: &impl crate::output::Tabular,
) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => {
            let object = serde_json::to_string(row)?;
            object.strip_prefix('{').unwrap_or(&object).to_string()
        }
        Format::Table | Format::Plain => row.cells().join("  "),
    })
}

/// One event line: `HH:MM:SS + …` (green on a colour terminal) or `HH:MM:SS - …` (red), or
/// a JSON object with `event` and `time` (RFC 3339, UTC) before the socket's fields.
pub(super) fn write_event(
    out: &mut dyn Write,
    format: Format,
    colors: Colors,
    change: Change,
    time: SystemTime,
    body: &str,
) -> io::Result<()> {
    match format {
        Format::Json => {
            let event = match change {
                Change::Added => "added",
                Change::Removed => "removed",
            };
            let time = humantime::format_rfc3339_millis(time);
            writeln!(out, "{{\"event\":\"{event}\",\"time\":\"{time}\",{body}")
        }
        Format::Table | Format::Plain => {
            let (sign, color) = match change {
                Change::Added => ('+', "32"),
                Change::Removed => ('-', "31"),
            };
            let line = format!("{} {sign} {body}", clock(time));
            writeln!(out, "{}", paint(&line, color, colors.stdout))
        }
    }
}

/// `HH:MM:SS` in the local time zone (UTC when it cannot be told).
fn clock(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|stamp| {
            stamp
                .to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| "--:--:--".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_json_objects_or_signed_coloured_lines() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        let mut out = Vec::new();
        let (on, off) = (
            Colors {
                stdout: true,
                stderr: false,
            },
            Colors::default(),
        );
        write_event(&mut out, Format::Json, on, Change::Added, time, "\"a\":1}").unwrap();
        write_event(
            &mut out,
            Format::Plain,
            off,
            Change::Removed,
            time,
            "tcp  80",
        )
        .unwrap();
        write_event(&mut out, Format::Table, on, Change::Added, time, "tcp  80").unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"event":"added","time":"2023-11-14T22:13:20.250Z","a":1}"#
        );
        assert!(lines[1].ends_with(" - tcp  80") && !lines[1].contains('\x1b'));
        assert!(lines[2].starts_with("\x1b[32m") && lines[2].ends_with(" + tcp  80\x1b[0m"));
    }

    #[test]
    fn the_clock_has_hours_minutes_seconds() {
        let text = clock(SystemTime::now());
        assert_eq!(text.len(), 8, "{text}");
        assert_eq!(text.as_bytes()[2], b':');
        assert_eq!(text.as_bytes()[5], b':');
    }
}
