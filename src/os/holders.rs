//! Who holds a port: for the "address already in use" error of `sockx listen`.

// `sockx listen` calls this; until that branch is merged nothing else does.
#![allow(dead_code)]

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

    let mut pids: Vec<u32> = sockets
        .iter()
        .flat_map(|s| s.pids.iter().copied())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    let details = processes::describe(&pids);
    let mut users = UserNames::default();
    pids.iter()
        .filter_map(|pid| {
            let info = details.get(pid)?;
            let socket_uid = sockets
                .iter()
                .find(|socket| socket.pids.contains(pid))
                .and_then(|socket| socket.uid);
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
}
