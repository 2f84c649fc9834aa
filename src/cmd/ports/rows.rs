//! The rows `sockx ports` prints: one per socket, as a table line or a JSON object.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::net::SocketState;
use crate::net::socket::Proto;
use crate::os::processes::{ProcessInfo, UserNames};
use crate::os::sockets::SocketEntry;
use crate::os::tcp_info::TcpInfo;
use crate::output::Tabular;
use crate::output::escape::escape_text;

use super::info;

/// Columns of the default view.
pub const HEADERS: &[&str] = &[
    "PROTO", "LOCAL", "PORT", "PID", "PROCESS", "USER", "COMMAND",
];

/// Columns with `--all`: the state and the peer too.
pub const HEADERS_ALL: &[&str] = &[
    "PROTO", "LOCAL", "PORT", "STATE", "REMOTE", "PID", "PROCESS", "USER", "COMMAND",
];

/// One socket and the processes holding it. The JSON fields are the contract's.
#[derive(Debug, Clone, Serialize)]
pub struct PortRow<'a> {
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// The local address.
    pub local_addr: IpAddr,
    /// The local port.
    pub local_port: u16,
    /// The peer's address, for connected sockets.
    pub remote_addr: Option<IpAddr>,
    /// The peer's port, for connected sockets.
    pub remote_port: Option<u16>,
    /// `LISTEN`, `ESTABLISHED`, ..., `UNCONN`.
    pub state: SocketState,
    /// Bound to anything but loopback.
    pub exposed: bool,
    /// The UID owning the socket.
    pub uid: Option<u32>,
    /// That UID's name.
    pub user: Option<String>,
    /// The processes holding the socket.
    pub processes: Vec<ProcessRow<'a>>,
    /// With `--info`: the TCP internals, `None` inside for a socket without them (UDP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_info: Option<Option<TcpInfo>>,
    /// Whether the table shows the STATE and REMOTE columns (`--all`).
    #[serde(skip)]
    pub with_connection: bool,
}

/// A process holding a socket; the strings are borrowed from the process details, which many
/// sockets share (10,000 sockets of 50 processes keep 50 command lines, not 10,000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessRow<'a> {
    /// Its PID.
    pub pid: u32,
    /// Its name.
    pub name: &'a str,
    /// Its full command line, `None` when unknown.
    pub cmd: Option<&'a str>,
    /// The command line made fit for one table line.
    #[serde(skip)]
    pub cmd_cell: Option<&'a str>,
}

/// A holder's details, with its command line made fit for a table line once, however many
/// sockets it holds.
#[derive(Debug, Clone)]
pub struct ProcessView {
    info: ProcessInfo,
    cmd_cell: Option<String>,
}

impl ProcessView {
    /// Wraps `info`.
    pub fn new(info: ProcessInfo) -> ProcessView {
        let cmd_cell = info.cmd.as_deref().map(one_line);
        ProcessView { info, cmd_cell }
    }

    /// The holder as a row shows it.
    pub fn row(&self) -> ProcessRow<'_> {
        ProcessRow {
            pid: self.info.pid,
            name: &self.info.name,
            cmd: self.info.cmd.as_deref(),
            cmd_cell: self.cmd_cell.as_deref(),
        }
    }

    /// The UID it runs as, where known.
    pub fn uid(&self) -> Option<u32> {
        self.info.uid
    }
}

impl<'a> PortRow<'a> {
    /// The row for `socket`; processes that have gone since the scan are left out, and the
    /// UID falls back to the first holder's where the platform does not tell a socket's owner.
    pub fn new(
        socket: &SocketEntry,
        details: &'a HashMap<u32, ProcessView>,
        users: &mut UserNames,
        with_connection: bool,
    ) -> PortRow<'a> {
        let holders: Vec<&ProcessView> = socket
            .pids
            .iter()
            .filter_map(|pid| details.get(pid))
            .collect();
        let uid = socket
            .uid
            .or_else(|| holders.iter().find_map(|process| process.info.uid));
        PortRow {
            proto: socket.proto,
            local_addr: socket.local.ip(),
            local_port: socket.local.port(),
            remote_addr: socket.remote.map(|peer| peer.ip()),
            remote_port: socket.remote.map(|peer| peer.port()),
            state: socket.state,
            exposed: socket.is_exposed(),
            uid,
            user: uid.and_then(|uid| users.name(uid)),
            processes: holders
                .into_iter()
                .map(|process| ProcessRow {
                    pid: process.info.pid,
                    name: &process.info.name,
                    cmd: process.info.cmd.as_deref(),
                    cmd_cell: process.cmd_cell.as_deref(),
                })
                .collect(),
            tcp_info: None,
            with_connection,
        }
    }

    /// Whether a holder's name or command line contains `needle`.
    pub fn has_process_matching(&self, needle: &str) -> bool {
        self.processes.iter().any(|process| {
            process.name.contains(needle) || process.cmd.is_some_and(|cmd| cmd.contains(needle))
        })
    }

    /// Whether `pid` holds the socket.
    pub fn has_pid(&self, pid: u32) -> bool {
        self.processes.iter().any(|process| process.pid == pid)
    }

    fn remote(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.remote_addr?, self.remote_port?))
    }
}

/// `-` for an empty cell, as `ss` and `lsof` leave unknowns; escaped to one line.
fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        one_line(&text)
    }
}

/// `-` for an empty cell of text that is already escaped (the command lines: escaped once
/// per process, not once per socket).
fn escaped_or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}

/// Control characters (a command line may hold newlines, tabs or escape sequences) are
/// escaped, so that a row stays one line and nothing reaches the terminal raw.
fn one_line(text: &str) -> String {
    escape_text(text)
}

/// At most [`PIDS_SHOWN`] PIDs and how many more: a pre-fork server's listener may be held by
/// hundreds of processes, which would swamp the column (JSON lists them all).
fn pid_list(processes: &[ProcessRow]) -> String {
    let mut text = String::new();
    for (index, process) in processes.iter().take(PIDS_SHOWN).enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(&process.pid.to_string());
    }
    if processes.len() > PIDS_SHOWN {
        text.push_str(&format!(" +{}", processes.len() - PIDS_SHOWN));
    }
    text
}

/// How many PIDs a table cell shows.
const PIDS_SHOWN: usize = 4;

/// The distinct values, in order, joined by `separator`.
fn join_distinct<'a>(values: impl Iterator<Item = &'a str>, separator: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen.join(separator)
}

impl Tabular for PortRow<'_> {
    const CUT_FIRST: &'static [&'static str] = &["COMMAND", "PROCESS"];

    fn cells(&self) -> Vec<String> {
        let mut cells = Vec::with_capacity(HEADERS_ALL.len());
        cells.push(self.proto.to_string());
        cells.push(self.local_addr.to_string());
        cells.push(self.local_port.to_string());
        if self.with_connection {
            cells.push(self.state.to_string());
            cells.push(
                self.remote()
                    .map_or_else(|| "-".to_string(), |peer| peer.to_string()),
            );
        }
        if let Some(info) = &self.tcp_info {
            cells.extend(info::cells(info.as_ref()));
        }
        cells.extend(holder_cells(
            &self.processes,
            self.user.as_deref(),
            self.uid,
        ));
        cells
    }
}

/// The PID, PROCESS, USER and COMMAND cells of a socket held by `processes`.
pub fn holder_cells(processes: &[ProcessRow], user: Option<&str>, uid: Option<u32>) -> [String; 4] {
    let user = user
        .map(one_line)
        .or_else(|| uid.map(|uid| uid.to_string()))
        .unwrap_or_else(|| "-".to_string());
    [
        escaped_or_dash(pid_list(processes)),
        or_dash(join_distinct(processes.iter().map(|p| p.name), ",")),
        user,
        escaped_or_dash(join_distinct(
            processes.iter().filter_map(|p| p.cmd_cell),
            " | ",
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(with_connection: bool) -> PortRow<'static> {
        PortRow {
            proto: Proto::Tcp,
            local_addr: "::".parse().unwrap(),
            local_port: 8080,
            remote_addr: None,
            remote_port: None,
            state: SocketState::Listen,
            exposed: true,
            uid: Some(33),
            user: None,
            processes: vec![
                ProcessRow {
                    pid: 10,
                    name: "nginx",
                    cmd: Some("nginx: master"),
                    cmd_cell: Some("nginx: master"),
                },
                ProcessRow {
                    pid: 11,
                    name: "nginx",
                    cmd: Some("nginx:\tworker"),
                    cmd_cell: Some("nginx: worker"),
                },
            ],
            tcp_info: None,
            with_connection,
        }
    }

    #[test]
    fn cells_follow_the_headers() {
        let cells = row(false).cells();
        assert_eq!(cells.len(), HEADERS.len());
        assert_eq!(
            cells,
            [
                "tcp",
                "::",
                "8080",
                "10,11",
                "nginx",
                "33",
                "nginx: master | nginx: worker"
            ]
        );
        let cells = row(true).cells();
        assert_eq!(cells.len(), HEADERS_ALL.len());
        assert_eq!(cells[3], "LISTEN");
        assert_eq!(cells[4], "-");
    }

    #[test]
    fn json_has_exactly_the_contract_fields() {
        let value = serde_json::to_value(row(true)).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "exposed",
                "local_addr",
                "local_port",
                "processes",
                "proto",
                "remote_addr",
                "remote_port",
                "state",
                "uid",
                "user"
            ]
        );
        assert_eq!(value["local_addr"], "::");
        assert_eq!(value["remote_port"], serde_json::Value::Null);
        assert_eq!(value["processes"][1]["pid"], 11);
    }

    #[test]
    fn command_lines_fit_one_line() {
        let info = ProcessInfo {
            pid: 1,
            name: "python3".into(),
            cmd: Some("python3 -c \nimport x\tok".into()),
            uid: None,
        };
        let view = ProcessView::new(info);
        assert_eq!(
            view.cmd_cell.as_deref(),
            Some("python3 -c \\nimport x\\tok")
        );
        assert_eq!(view.info.cmd.as_deref(), Some("python3 -c \nimport x\tok"));
    }

    #[test]
    fn filters_look_at_names_and_command_lines() {
        let row = row(false);
        let many: Vec<ProcessRow> = (1..=7)
            .map(|pid| ProcessRow {
                pid,
                name: "w",
                cmd: None,
                cmd_cell: None,
            })
            .collect();
        assert_eq!(pid_list(&many), "1,2,3,4 +3");
        assert_eq!(pid_list(&many[..4]), "1,2,3,4");
        assert!(row.has_process_matching("worker"));
        assert!(row.has_process_matching("ngin"));
        assert!(!row.has_process_matching("apache"));
        assert!(row.has_pid(11) && !row.has_pid(12));
    }
}
