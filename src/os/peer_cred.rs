//! Who is at the other end of a Unix socket: SO_PEERCRED, and the process's name.

use std::os::fd::AsFd;

use crate::os::processes;

/// The credentials of a Unix socket's peer, as the kernel recorded them at connect time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCred {
    /// The peer's PID; `None` when the peer lives in a PID namespace this process cannot
    /// see into (SO_PEERCRED then says 0, the UID is known all the same).
    pub pid: Option<u32>,
    /// The peer's UID.
    pub uid: u32,
    /// The process's name, when it still exists and can be read.
    pub name: Option<String>,
}

impl PeerCred {
    /// The peer of `socket` (a connected Unix socket); `None` when the kernel does not say.
    /// The process's name is not looked up (see [`PeerCred::with_name`]).
    pub fn of(socket: &impl AsFd) -> Option<PeerCred> {
        use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
        let cred = getsockopt(socket, PeerCredentials).ok()?;
        Some(PeerCred {
            pid: u32::try_from(cred.pid()).ok().filter(|pid| *pid != 0),
            uid: cred.uid(),
            name: None,
        })
    }

    /// The same, with the process's name read from /proc (a few files per call: for a line
    /// someone reads, not for every connection of a busy server).
    pub fn with_name(mut self) -> PeerCred {
        if let (None, Some(pid)) = (&self.name, self.pid) {
            self.name = processes::describe(&[pid])
                .remove(&pid)
                .map(|info| info.name);
        }
        self
    }
}

impl std::fmt::Display for PeerCred {
    /// `pid 812 (socat), uid 1000`; `uid 1000 (pid not visible in this PID namespace)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(pid) = self.pid else {
            return write!(
                f,
                "uid {} (pid not visible in this PID namespace)",
                self.uid
            );
        };
        write!(f, "pid {pid}")?;
        if let Some(name) = &self.name {
            write!(f, " ({})", crate::output::escape::escape_text(name))?;
        }
        write!(f, ", uid {}", self.uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_pair_names_this_process() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().expect("pair");
        let cred = PeerCred::of(&a).expect("SO_PEERCRED");
        assert_eq!(cred.pid, Some(std::process::id()));
        assert_eq!(cred.uid, nix::unistd::getuid().as_raw());
        assert_eq!(cred.name, None);
        let named = cred.with_name();
        assert!(named.name.is_some(), "no name for this process");
        assert!(
            named
                .to_string()
                .starts_with(&format!("pid {} (", std::process::id()))
        );
    }

    #[test]
    fn a_peer_without_a_visible_pid_is_named_by_its_uid() {
        let cred = PeerCred {
            pid: None,
            uid: 1000,
            name: None,
        };
        assert_eq!(cred.clone().with_name(), cred);
        assert_eq!(
            cred.to_string(),
            "uid 1000 (pid not visible in this PID namespace)"
        );
    }
}
