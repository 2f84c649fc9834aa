//! Who holds a port: for the "address already in use" error of `sockx listen`.
//!
//! A minimal /proc scan so that `listen` builds on its own; the `ports` branch has the full
//! version with the same signature, which replaces this one at merge.

use std::collections::HashSet;
use std::fs;

use crate::net::socket::Proto;

/// A process holding a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its PID.
    pub pid: u32,
    /// Its name.
    pub name: String,
    /// The user it runs as, where known.
    pub user: Option<String>,
}

/// The processes holding a listening (TCP) or bound, unconnected (UDP) socket on local `port`,
/// ascending by PID; empty when there is none or its owner cannot be found.
pub fn port_holders(proto: Proto, port: u16) -> Vec<Holder> {
    let (tables, state) = match proto {
        Proto::Tcp => (["/proc/net/tcp", "/proc/net/tcp6"], "0A"),
        Proto::Udp => (["/proc/net/udp", "/proc/net/udp6"], "07"),
    };
    let inodes: HashSet<String> = tables
        .iter()
        .filter_map(|table| fs::read_to_string(table).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| socket_inode(line, port, state))
                .collect::<Vec<_>>()
        })
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut holders: Vec<Holder> = procs
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| holds_any(*pid, &inodes))
        .map(describe_process)
        .collect();
    holders.sort_by_key(|holder| holder.pid);
    holders
}

/// The inode of a `/proc/net/{tcp,udp}[6]` line whose local port is `port` in `state`.
fn socket_inode(line: &str, port: u16, state: &str) -> Option<String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let local_port = fields.get(1)?.rsplit_once(':')?.1;
    let matches = u16::from_str_radix(local_port, 16).ok()? == port && *fields.get(3)? == state;
    matches.then(|| fields.get(9).map(|inode| (*inode).to_string()))?
}

fn holds_any(pid: u32, inodes: &HashSet<String>) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        fs::read_link(fd.path()).ok().is_some_and(|target| {
            target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .is_some_and(|inode| inodes.contains(inode))
        })
    })
}

fn describe_process(pid: u32) -> Holder {
    let name = fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| comm.trim_end().to_string())
        .unwrap_or_else(|_| "?".to_string());
    let user = fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("Uid:"))?;
            line.split_whitespace().nth(1)?.parse::<u32>().ok()
        })
        .and_then(|uid| nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok()?)
        .map(|user| user.name);
    Holder { pid, name, user }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_this_process_holding_a_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let holders = port_holders(Proto::Tcp, port);
        assert!(
            holders.iter().any(|h| h.pid == std::process::id()),
            "{holders:?}"
        );
    }
}
