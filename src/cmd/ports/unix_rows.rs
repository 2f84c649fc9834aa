//! The rows `sockx ports -x` prints: one per Unix-domain socket, as a table line or a JSON
//! object.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::held::Held;
use super::rows::{ProcessRow, ProcessView};
use crate::net::SocketState;
use crate::os::processes::UserNames;
use crate::os::unix_sockets::UnixSocket;
use crate::output::Tabular;
use crate::output::escape::{escape_bytes, escape_text};

/// Columns of the default view.
pub const HEADERS: &[&str] = &["PROTO", "PATH", "PID", "PROCESS", "USER", "COMMAND"];

/// Columns with `--all`: the state and the process on the other end too.
pub const HEADERS_ALL: &[&str] = &[
    "PROTO", "PATH", "STATE", "PEER", "PID", "PROCESS", "USER", "COMMAND",
];

/// One Unix socket, the processes holding it and those holding its peer. The JSON fields are
/// the contract's.
#[derive(Debug, Clone, Serialize)]
pub struct UnixRow<'a> {
    /// `unix`, `unix-dgram` or `unix-seq`.
    pub proto: &'static str,
    /// No IP address or port: the fields every `ports` row has are null here, so that a
    /// script reads TCP, UDP and Unix rows with one set of keys.
    pub local_addr: Option<String>,
    /// Null for a Unix socket.
    pub local_port: Option<u16>,
    /// Null for a Unix socket.
    pub remote_addr: Option<String>,
    /// Null for a Unix socket.
    pub remote_port: Option<u16>,
    /// A Unix socket is never reachable from other hosts.
    pub exposed: bool,
    /// The path, `@name` when abstract, `None` when unnamed.
    pub path: Option<String>,
    /// `LISTEN`, `ESTABLISHED`, `UNCONN`, `CLOSE`.
    pub state: SocketState,
    /// The socket's inode.
    pub inode: u64,
    /// The peer's inode, when connected.
    pub peer_inode: Option<u64>,
    /// The UID owning the socket.
    pub uid: Option<u32>,
    /// That UID's name.
    pub user: Option<String>,
    /// The processes holding the socket.
    pub processes: Vec<ProcessRow<'a>>,
    /// The processes holding the peer.
    pub peer_processes: Vec<ProcessRow<'a>>,
    /// The PATH cell: escaped, `-` when unnamed.
    #[serde(skip)]
    path_cell: String,
    /// Whether the table shows the STATE and PEER columns (`--all`).
    #[serde(skip)]
    with_connection: bool,
}

impl<'a> UnixRow<'a> {
    /// The row for `socket`, its peer's holders `peer_pids`; processes that have gone since
    /// the scan are left out, and the UID falls back to the first holder's where the kernel
    /// does not tell it (before Linux 5.3).
    pub fn new(
        socket: &UnixSocket,
        peer_pids: &[u32],
        details: &'a HashMap<u32, ProcessView>,
        users: &mut UserNames,
        with_connection: bool,
    ) -> UnixRow<'a> {
        let rows = |pids: &[u32]| -> Vec<ProcessRow<'a>> {
            pids.iter()
                .filter_map(|pid| details.get(pid))
                .map(ProcessView::row)
                .collect()
        };
        let processes = rows(&socket.pids);
        let uid = socket.uid.or_else(|| {
            socket
                .pids
                .iter()
                .find_map(|pid| details.get(pid).and_then(ProcessView::uid))
        });
        let name = socket.name.as_ref().map(|name| name.display_bytes());
        UnixRow {
            proto: socket.kind.as_str(),
            local_addr: None,
            local_port: None,
            remote_addr: None,
            remote_port: None,
            exposed: false,
            path: name
                .as_ref()
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned()),
            state: socket.state,
            inode: socket.inode,
            peer_inode: socket.peer,
            uid,
            user: uid.and_then(|uid| users.name(uid)),
            processes,
            peer_processes: rows(peer_pids),
            path_cell: name.map_or_else(|| "-".to_string(), |bytes| escape_bytes(&bytes)),
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
}

/// `name (pid)` for each process, `-` for none.
fn peer_cell(processes: &[ProcessRow]) -> String {
    if processes.is_empty() {
        return "-".to_string();
    }
    processes
        .iter()
        .map(|process| format!("{} ({})", escape_text(process.name), process.pid))
        .collect::<Vec<_>>()
        .join(",")
}

impl Tabular for UnixRow<'_> {
    const CUT_FIRST: &'static [&'static str] = &["COMMAND", "PROCESS"];

    fn cells(&self) -> Vec<String> {
        let mut cells = Vec::with_capacity(HEADERS_ALL.len());
        cells.push(self.proto.to_string());
        cells.push(self.path_cell.clone());
        if self.with_connection {
            cells.push(self.state.to_string());
            cells.push(peer_cell(&self.peer_processes));
        }
        // The holder columns are the TCP rows' own.
        let holders = super::rows::holder_cells(&self.processes, self.user.as_deref(), self.uid);
        cells.extend(holders);
        cells
    }
}

impl Held for UnixRow<'_> {
    fn holders(&self) -> &[ProcessRow<'_>] {
        &self.processes
    }

    fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    fn label(&self) -> String {
        format!("{} {}", self.proto, self.path_cell)
    }

    fn state(&self) -> SocketState {
        self.state
    }

    fn remote_addr(&self) -> Option<IpAddr> {
        None
    }

    fn local_port(&self) -> Option<u16> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::processes::ProcessInfo;
    use crate::os::unix_sockets::{UnixKind, UnixName};

    fn details() -> HashMap<u32, ProcessView> {
        [(10, "socat"), (20, "nc\x1b")]
            .into_iter()
            .map(|(pid, name)| {
                let info = ProcessInfo {
                    pid,
                    name: name.into(),
                    cmd: Some(format!("{name} -v")),
                    uid: Some(1000),
                };
                (pid, ProcessView::new(info))
            })
            .collect()
    }

    fn socket(name: Option<UnixName>, peer: Option<u64>) -> UnixSocket {
        UnixSocket {
            kind: UnixKind::SeqPacket,
            state: if peer.is_some() {
                SocketState::Established
            } else {
                SocketState::Listen
            },
            inode: 5,
            name,
            file: None,
            peer,
            uid: None,
            pids: vec![10],
        }
    }

    #[test]
    fn cells_follow_the_headers_and_the_peer_is_named() {
        let details = details();
        let mut users = UserNames::default();
        let listener = socket(Some(UnixName::Path("/tmp/a\nb".into())), None);
        let row = UnixRow::new(&listener, &[], &details, &mut users, false);
        let cells = row.cells();
        assert_eq!(cells.len(), HEADERS.len());
        assert_eq!(cells[0], "unix-seq");
        assert_eq!(cells[1], "/tmp/a\\nb");
        assert_eq!(cells[2], "10");
        assert_eq!(cells[3], "socat");

        let connected = socket(Some(UnixName::Abstract(b"x".to_vec())), Some(6));
        let row = UnixRow::new(&connected, &[20], &details, &mut users, true);
        let cells = row.cells();
        assert_eq!(cells.len(), HEADERS_ALL.len());
        assert_eq!(cells[1], "@x");
        assert_eq!(cells[2], "ESTABLISHED");
        assert_eq!(cells[3], "nc\\e (20)");
        assert_eq!(row.uid, Some(1000));
        assert_eq!(row.label(), "unix-seq @x");
    }

    #[test]
    fn json_has_exactly_the_contract_fields() {
        let details = details();
        let mut users = UserNames::default();
        let unnamed = socket(None, Some(6));
        let value = serde_json::to_value(UnixRow::new(&unnamed, &[20], &details, &mut users, true))
            .unwrap();
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
                "inode",
                "local_addr",
                "local_port",
                "path",
                "peer_inode",
                "peer_processes",
                "processes",
                "proto",
                "remote_addr",
                "remote_port",
                "state",
                "uid",
                "user"
            ]
        );
        assert_eq!(value["path"], serde_json::Value::Null);
        assert_eq!(value["peer_inode"], 6);
        assert_eq!(value["peer_processes"][0]["pid"], 20);
        assert_eq!(value["peer_processes"][0]["name"], "nc\x1b");
    }
}
