//! The rows `sockx ports` prints: one per socket, as a table line or a JSON object.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::net::SocketState;
use crate::net::socket::Proto;
use crate::os::processes::{ProcessInfo, UserNames};
use crate::os::sockets::SocketEntry;
use crate::output::Tabular;

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
pub struct PortRow {
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
    pub processes: Vec<ProcessRow>,
    /// Whether the table shows the STATE and REMOTE columns (`--all`).
    #[serde(skip)]
    pub with_connection: bool,
}

/// A process holding a socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessRow {
    /// Its PID.
    pub pid: u32,
    /// Its name.
    pub name: String,
    /// Its full command line, `None` when unknown.
    pub cmd: Option<String>,
}

impl PortRow {
    /// The row for `socket`; processes that have gone since the scan are left out, and the
    /// UID falls back to the first holder's where the platform does not tell a socket's owner.
    pub fn new(
        socket: &SocketEntry,
        details: &HashMap<u32, ProcessInfo>,
        users: &mut UserNames,
        with_connection: bool,
    ) -> PortRow {
        let holders: Vec<&ProcessInfo> = socket
            .pids
            .iter()
            .filter_map(|pid| details.get(pid))
            .collect();
        let uid = socket
            .uid
            .or_else(|| holders.iter().find_map(|process| process.uid));
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
                    pid: process.pid,
                    name: process.name.clone(),
                    cmd: process.cmd.clone(),
                })
                .collect(),
            with_connection,
        }
    }

    /// Whether a holder's name or command line contains `needle`.
    pub fn has_process_matching(&self, needle: &str) -> bool {
        self.processes.iter().any(|process| {
            process.name.contains(needle)
                || process
                    .cmd
                    .as_deref()
                    .is_some_and(|cmd| cmd.contains(needle))
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

/// `-` for an empty cell, as `ss` and `lsof` leave unknowns.
fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}

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

impl Tabular for PortRow {
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
        let pids: Vec<String> = self.processes.iter().map(|p| p.pid.to_string()).collect();
        cells.push(or_dash(pids.join(",")));
        cells.push(or_dash(join_distinct(
            self.processes.iter().map(|p| p.name.as_str()),
            ",",
        )));
        let user = self
            .user
            .clone()
            .or_else(|| self.uid.map(|uid| uid.to_string()));
        cells.push(user.unwrap_or_else(|| "-".to_string()));
        cells.push(or_dash(join_distinct(
            self.processes.iter().filter_map(|p| p.cmd.as_deref()),
            " | ",
        )));
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(with_connection: bool) -> PortRow {
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
                    name: "nginx".into(),
                    cmd: Some("nginx: master".into()),
                },
                ProcessRow {
                    pid: 11,
                    name: "nginx".into(),
                    cmd: Some("nginx:\tworker".into()),
                },
            ],
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
    fn filters_look_at_names_and_command_lines() {
        let row = row(false);
        assert!(row.has_process_matching("worker"));
        assert!(row.has_process_matching("ngin"));
        assert!(!row.has_process_matching("apache"));
        assert!(row.has_pid(11) && !row.has_pid(12));
    }
}
