//! `--by process|remote|port|state`: one row per distinct key with how many sockets have it,
//! largest count first, as `ss -tn | awk … | sort | uniq -c | sort -rn` gives it.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::held::Held;
use crate::cli::GroupBy;
use crate::net::SocketState;
use crate::output::Tabular;
use crate::output::escape::escape_text;

/// What a group is keyed by. The JSON fields are the contract's: `pid` and `name`,
/// `remote_addr`, `local_port` or `state`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum GroupKey {
    /// A holder (`None` when the owner is unknown).
    Process {
        pid: Option<u32>,
        name: Option<String>,
    },
    /// A remote address.
    Remote { remote_addr: IpAddr },
    /// A local port.
    Port { local_port: u16 },
    /// A state.
    State { state: SocketState },
}

/// One group: `{"count": N, …key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRow {
    /// How many sockets have the key.
    pub count: usize,
    /// The key.
    #[serde(flatten)]
    pub key: GroupKey,
}

/// The columns for each kind of key.
pub fn headers(by: GroupBy) -> &'static [&'static str] {
    match by {
        GroupBy::Process => &["COUNT", "PID", "PROCESS"],
        GroupBy::Remote => &["COUNT", "REMOTE"],
        GroupBy::Port => &["COUNT", "PORT"],
        GroupBy::State => &["COUNT", "STATE"],
    }
}

/// Counts `rows` by `by`, largest count first, then by key. A socket held by several
/// processes counts once for each; a socket with no remote end has no remote key.
pub fn group<R: Held>(rows: &[R], by: GroupBy) -> Vec<GroupRow> {
    let mut counts: HashMap<GroupKey, usize> = HashMap::new();
    for row in rows {
        match by {
            GroupBy::Process if row.holders().is_empty() => {
                *counts
                    .entry(GroupKey::Process {
                        pid: None,
                        name: None,
                    })
                    .or_default() += 1;
            }
            GroupBy::Process => {
                for process in row.holders() {
                    let key = GroupKey::Process {
                        pid: Some(process.pid),
                        name: Some(process.name.to_string()),
                    };
                    *counts.entry(key).or_default() += 1;
                }
            }
            GroupBy::Remote => {
                if let Some(remote_addr) = row.remote_addr() {
                    *counts.entry(GroupKey::Remote { remote_addr }).or_default() += 1;
                }
            }
            GroupBy::Port => {
                if let Some(local_port) = row.local_port() {
                    *counts.entry(GroupKey::Port { local_port }).or_default() += 1;
                }
            }
            GroupBy::State => {
                *counts
                    .entry(GroupKey::State { state: row.state() })
                    .or_default() += 1;
            }
        }
    }
    let mut groups: Vec<GroupRow> = counts
        .into_iter()
        .map(|(key, count)| GroupRow { count, key })
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    groups
}

impl Tabular for GroupRow {
    const CUT_FIRST: &'static [&'static str] = &["PROCESS"];

    fn cells(&self) -> Vec<String> {
        let mut cells = vec![self.count.to_string()];
        match &self.key {
            GroupKey::Process { pid, name } => {
                cells.push(pid.map_or_else(|| "-".to_string(), |pid| pid.to_string()));
                cells.push(name.as_deref().map_or_else(|| "-".to_string(), escape_text));
            }
            GroupKey::Remote { remote_addr } => cells.push(remote_addr.to_string()),
            GroupKey::Port { local_port } => cells.push(local_port.to_string()),
            GroupKey::State { state } => cells.push(state.to_string()),
        }
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::super::rows::{PortRow, ProcessRow};
    use super::*;
    use crate::net::socket::Proto;

    fn row(port: u16, remote: Option<&str>, pids: &[u32]) -> PortRow<'static> {
        let remote: Option<std::net::SocketAddr> = remote.map(|r| r.parse().unwrap());
        PortRow {
            proto: Proto::Tcp,
            local_addr: "127.0.0.1".parse().unwrap(),
            local_port: port,
            remote_addr: remote.map(|r| r.ip()),
            remote_port: remote.map(|r| r.port()),
            state: if remote.is_some() {
                SocketState::Established
            } else {
                SocketState::Listen
            },
            exposed: false,
            uid: None,
            user: None,
            processes: pids
                .iter()
                .map(|&pid| ProcessRow {
                    pid,
                    name: "srv\x1b",
                    cmd: None,
                    cmd_cell: None,
                })
                .collect(),
            tcp_info: None,
            with_connection: true,
        }
    }

    fn rows() -> Vec<PortRow<'static>> {
        vec![
            row(443, None, &[10, 11]),
            row(443, Some("192.0.2.1:5000"), &[11]),
            row(443, Some("192.0.2.1:5001"), &[11]),
            row(443, Some("192.0.2.2:5000"), &[10]),
            row(80, Some("192.0.2.2:5002"), &[]),
        ]
    }

    #[test]
    fn largest_count_first_then_by_key() {
        let by_remote = group(&rows(), GroupBy::Remote);
        let counts: Vec<(usize, String)> = by_remote
            .iter()
            .map(|g| (g.count, g.cells()[1].clone()))
            .collect();
        assert_eq!(
            counts,
            [(2, "192.0.2.1".to_string()), (2, "192.0.2.2".to_string())]
        );
        let by_port = group(&rows(), GroupBy::Port);
        assert_eq!(by_port[0].cells(), ["4", "443"]);
        assert_eq!(by_port[1].cells(), ["1", "80"]);
        let by_state = group(&rows(), GroupBy::State);
        assert_eq!(by_state[0].cells(), ["4", "ESTABLISHED"]);
        let by_process = group(&rows(), GroupBy::Process);
        let cells: Vec<Vec<String>> = by_process.iter().map(Tabular::cells).collect();
        assert_eq!(
            cells,
            [
                ["3", "11", "srv\\e"],
                ["2", "10", "srv\\e"],
                ["1", "-", "-"]
            ]
        );
    }

    #[test]
    fn json_has_the_count_and_the_key_fields() {
        let by_process = group(&rows(), GroupBy::Process);
        let value = serde_json::to_value(&by_process[0]).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"count": 3, "pid": 11, "name": "srv\x1b"})
        );
        let unknown = serde_json::to_value(&by_process[2]).unwrap();
        assert_eq!(
            unknown,
            serde_json::json!({"count": 1, "pid": null, "name": null})
        );
        let by_remote = serde_json::to_value(&group(&rows(), GroupBy::Remote)[0]).unwrap();
        assert_eq!(
            by_remote,
            serde_json::json!({"count": 2, "remote_addr": "192.0.2.1"})
        );
        let by_port = serde_json::to_value(&group(&rows(), GroupBy::Port)[0]).unwrap();
        assert_eq!(by_port, serde_json::json!({"count": 4, "local_port": 443}));
        let by_state = serde_json::to_value(&group(&rows(), GroupBy::State)[0]).unwrap();
        assert_eq!(
            by_state,
            serde_json::json!({"count": 4, "state": "ESTABLISHED"})
        );
    }
}
