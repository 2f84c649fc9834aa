//! Who holds a port or a Unix socket path: for the "address already in use" error of
//! `sockx listen`.

use std::collections::HashMap;

use crate::net::socket::Proto;
use crate::os::processes::{self, UserNames};
use crate::os::sockets::{self, SocketQuery};

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
    let query = SocketQuery {
        tcp: proto == Proto::Tcp,
        udp: proto == Proto::Udp,
        ipv4: true,
        ipv6: true,
    };
    let Ok(mut sockets) = sockets::list_sockets(query) else {
        return Vec::new();
    };
    sockets.retain(|socket| socket.local.port() == port && socket.is_listening());
    sockets::attach_owners(&mut sockets, None);
    let held = sockets
        .iter()
        .map(|socket| (socket.pids.as_slice(), socket.uid));
    holders(&sockets::owner_pids(&sockets), held)
}

/// The processes holding a listening socket bound to `addr` (its file, whatever path names
/// it, or its abstract name), ascending by PID; empty when none can be found.
#[cfg(unix)]
pub fn unix_holders(addr: &crate::net::endpoint::UnixAddr) -> Vec<Holder> {
    use crate::net::endpoint::UnixAddr;
    use crate::os::unix_sockets::{self, NamedSocket, UnixName};
    let name = match addr {
        UnixAddr::Path(path) => UnixName::Path(path.clone().into_os_string()),
        UnixAddr::Abstract(name) => UnixName::Abstract(name.clone()),
    };
    let named = NamedSocket::new(name);
    let Ok(mut sockets) = unix_sockets::list_unix_sockets(true) else {
        return Vec::new();
    };
    sockets.retain(|socket| socket.is_listening() && named.names(socket));
    let inodes: Vec<u64> = sockets.iter().map(|socket| socket.inode).collect();
    let (mut owners, _) = unix_sockets::owners_by_inode(&inodes, None);
    for socket in &mut sockets {
        socket.pids = owners.remove(&socket.inode).unwrap_or_default();
    }
    let mut pids: Vec<u32> = sockets
        .iter()
        .flat_map(|s| s.pids.iter().copied())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    let held = sockets
        .iter()
        .map(|socket| (socket.pids.as_slice(), socket.uid));
    holders(&pids, held)
}

/// Whether the kernel's socket table shows no socket bound to the socket file of `addr`
/// (a stale file): false when one is, or when the table cannot be read.
pub fn nothing_bound_at(addr: &crate::net::endpoint::UnixAddr) -> bool {
    use crate::net::endpoint::UnixAddr;
    use crate::os::unix_sockets::{self, NamedSocket, UnixName};
    let UnixAddr::Path(path) = addr else {
        return false;
    };
    let named = NamedSocket::new(UnixName::Path(path.clone().into_os_string()));
    unix_sockets::list_unix_sockets(false)
        .is_ok_and(|sockets| !sockets.iter().any(|socket| named.names(socket)))
}

/// `pids` described, each with its user: the process's own, else the socket's owner (from
/// `held`: each socket's holders and owning UID).
fn holders<'a>(pids: &[u32], held: impl Iterator<Item = (&'a [u32], Option<u32>)>) -> Vec<Holder> {
    let held: Vec<(&[u32], Option<u32>)> = held.collect();
    let socket_uids: HashMap<u32, u32> = pids
        .iter()
        .filter_map(|pid| {
            let uid = held.iter().find(|(holders, _)| holders.contains(pid))?.1?;
            Some((*pid, uid))
        })
        .collect();
    let details = processes::describe(pids);
    let mut users = UserNames::default();
    pids.iter()
        .filter_map(|pid| {
            let info = details.get(pid)?;
            let socket_uid = socket_uids.get(pid).copied();
            let user = info.uid.or(socket_uid).and_then(|uid| users.name(uid));
            Some(Holder {
                pid: *pid,
                name: info.name.clone(),
                user,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_holder_of_a_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let holders = port_holders(Proto::Tcp, port);
        assert_eq!(holders.len(), 1, "{holders:?}");
        assert_eq!(holders[0].pid, std::process::id());
        assert!(holders[0].user.is_some());
        assert!(port_holders(Proto::Udp, port).is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn names_the_holder_of_a_unix_path() {
        use crate::net::endpoint::UnixAddr;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let holders = unix_holders(&UnixAddr::Path(path));
        assert_eq!(holders.len(), 1, "{holders:?}");
        assert_eq!(holders[0].pid, std::process::id());
        assert!(unix_holders(&UnixAddr::Path(dir.path().join("none.sock"))).is_empty());
    }
}
