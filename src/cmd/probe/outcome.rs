//! What a probe found: a state, the reason for it, and the round-trip time.

use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::check::CheckResult;

/// The state of a probed port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum PortState {
    /// TCP handshake completed, or a UDP reply came back.
    #[serde(rename = "open")]
    Open,
    /// TCP reset, or ICMP port unreachable for UDP.
    #[serde(rename = "closed")]
    Closed,
    /// No answer, or an ICMP error other than port unreachable.
    #[serde(rename = "filtered")]
    Filtered,
    /// UDP without any answer: either open and silent, or filtered.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
}

impl PortState {
    /// Every state, in the order the summary lists them.
    pub const ALL: [PortState; 4] = [
        PortState::Open,
        PortState::Closed,
        PortState::Filtered,
        PortState::OpenFiltered,
    ];

    /// The contract's name: `open`, `closed`, `filtered`, `open|filtered`.
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::OpenFiltered => "open|filtered",
        }
    }

    /// Parses a state name as the user writes it in `--state`.
    pub fn parse(text: &str) -> Option<PortState> {
        PortState::ALL
            .into_iter()
            .find(|state| state.as_str() == text.trim().to_ascii_lowercase())
    }
}

/// Why a port got its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The TCP handshake completed.
    SynAck,
    /// A TCP reset answered the SYN.
    ConnRefused,
    /// Nothing came back within the timeout.
    Timeout,
    /// ICMP host unreachable (or no route / ARP failure on the local link).
    HostUnreach,
    /// ICMP network unreachable.
    NetUnreach,
    /// ICMP administratively prohibited, or a local firewall rejected the packet.
    AdminProhibited,
    /// The connection was reset or aborted before it could be classified.
    Reset,
    /// Every attempt connected the socket to itself (loopback, ephemeral port): nothing listens.
    SelfConnect,
    /// A UDP datagram came back.
    UdpResponse,
    /// ICMP port unreachable answered the UDP datagram.
    PortUnreach,
    /// The UDP datagram got no answer.
    NoResponse,
    /// No free local port to connect from (`ip_local_port_range` exhausted): the probe
    /// could not start, so nothing is known about the port.
    NoLocalPort,
    /// No file descriptor for a socket (the open-file limit reached): nothing known either.
    NoDescriptors,
    /// No kernel memory or buffers for a socket: nothing known either.
    NoBuffers,
    /// A Unix socket's listener took the connection (into its accept queue).
    Connected,
    /// No Unix socket file at that path (or a directory on the way is missing).
    NoSuchFile,
    /// The socket file (or a directory on the way) may not be written by this user.
    PermissionDenied,
    /// The path names a file that is not a socket.
    NotASocket,
    /// The socket there is of the other type: a datagram socket probed without `-u`, or a
    /// stream socket with it (EPROTOTYPE).
    WrongType,
    /// Another local error, e.g. the address cannot be reached from this host at all.
    Error,
}

impl Reason {
    /// The contract's name, e.g. `syn-ack`, `conn-refused`, `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SynAck => "syn-ack",
            Reason::ConnRefused => "conn-refused",
            Reason::Timeout => "timeout",
            Reason::HostUnreach => "host-unreach",
            Reason::NetUnreach => "net-unreach",
            Reason::AdminProhibited => "admin-prohibited",
            Reason::Reset => "reset",
            Reason::SelfConnect => "self-connect",
            Reason::UdpResponse => "udp-response",
            Reason::PortUnreach => "port-unreach",
            Reason::NoResponse => "no-response",
            Reason::NoLocalPort => "no-local-port",
            Reason::NoDescriptors => "no-descriptors",
            Reason::NoBuffers => "no-buffers",
            Reason::Connected => "connected",
            Reason::NoSuchFile => "no-such-file",
            Reason::PermissionDenied => "permission-denied",
            Reason::NotASocket => "not-a-socket",
            Reason::WrongType => "wrong-type",
            Reason::Error => "error",
        }
    }
}

/// The result of probing one address and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The port's state.
    pub state: PortState,
    /// Why.
    pub reason: Reason,
    /// Time from the connect (or send) to the answer; `None` when nothing answered.
    pub rtt: Option<Duration>,
    /// The first bytes the service sent (`--banner`), as they came (escaped when shown).
    pub banner: Option<Vec<u8>>,
    /// The application check's verdict (open TCP ports, with a check).
    pub check: Option<CheckResult>,
    /// The TLS handshake's result (`--tls`, open TCP ports).
    pub tls: Option<Box<super::tls::TlsOutcome>>,
}

impl Outcome {
    /// An outcome without a banner.
    pub fn new(state: PortState, reason: Reason, rtt: Option<Duration>) -> Outcome {
        Outcome {
            state,
            reason,
            rtt,
            banner: None,
            check: None,
            tls: None,
        }
    }

    /// An open port whose check ended with `result` (its first bytes as the banner when
    /// `banner`).
    pub fn checked(rtt: Duration, result: CheckResult, banner: bool) -> Outcome {
        Outcome {
            banner: (banner && !result.first_bytes.is_empty()).then(|| result.first_bytes.clone()),
            check: Some(result),
            ..Outcome::new(PortState::Open, Reason::SynAck, Some(rtt))
        }
    }

    /// Open, and its check (if any) holds: what success means.
    pub fn passes(&self) -> bool {
        self.state == PortState::Open
            && self.check.as_ref().is_none_or(|check| check.ok)
            && self.tls.as_ref().is_none_or(|tls| tls.passes())
    }

    /// No answer within the timeout.
    pub fn timed_out(udp: bool) -> Outcome {
        if udp {
            Outcome::new(PortState::OpenFiltered, Reason::NoResponse, None)
        } else {
            Outcome::new(PortState::Filtered, Reason::Timeout, None)
        }
    }

    /// Classifies a failed TCP connect or UDP receive. Returns `None` for errors that say
    /// nothing about the port but about this host's resources (retry those later).
    pub fn from_error(err: &io::Error, udp: bool, rtt: Duration) -> Option<Outcome> {
        use PortState::{Closed, Filtered};
        let (state, reason) = match err.kind() {
            io::ErrorKind::ConnectionRefused if udp => (Closed, Reason::PortUnreach),
            io::ErrorKind::ConnectionRefused => (Closed, Reason::ConnRefused),
            io::ErrorKind::TimedOut => return Some(Outcome::timed_out(udp)),
            io::ErrorKind::HostUnreachable => (Filtered, Reason::HostUnreach),
            io::ErrorKind::NetworkUnreachable => (Filtered, Reason::NetUnreach),
            io::ErrorKind::PermissionDenied => (Filtered, Reason::AdminProhibited),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                (Closed, Reason::Reset)
            }
            _ if is_resource_shortage(err) => return None,
            _ => match err.raw_os_error() {
                Some(code) if code == nix::libc::EHOSTDOWN => (Filtered, Reason::HostUnreach),
                Some(code) if code == nix::libc::EPROTO => (Filtered, Reason::Error),
                _ => (Filtered, Reason::Error),
            },
        };
        Some(Outcome::new(state, reason, Some(rtt)))
    }

    /// Classifies a failed connect to a Unix socket at `file` (none: an abstract name): nothing
    /// listening or no socket file is `closed`, a permission or a full accept queue past the
    /// timeout `filtered`; a shortage of descriptors or memory says so, as for TCP.
    pub fn from_unix_error(err: &io::Error, file: Option<&Path>, rtt: Duration) -> Outcome {
        use PortState::{Closed, Filtered};
        let (state, reason) = match err.kind() {
            // connect() to a file that is not a socket is refused too: say which it is.
            io::ErrorKind::ConnectionRefused
                if file.is_some_and(|file| {
                    std::fs::metadata(file).is_ok_and(|meta| !meta.file_type().is_socket())
                }) =>
            {
                (Closed, Reason::NotASocket)
            }
            io::ErrorKind::ConnectionRefused => (Closed, Reason::ConnRefused),
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => (Closed, Reason::NoSuchFile),
            io::ErrorKind::PermissionDenied => (Filtered, Reason::PermissionDenied),
            io::ErrorKind::TimedOut => return Outcome::timed_out(false),
            _ if err.raw_os_error() == Some(nix::libc::EPROTOTYPE) => (Closed, Reason::WrongType),
            _ => (Filtered, shortage_reason(err).unwrap_or(Reason::Error)),
        };
        Outcome::new(state, reason, Some(rtt))
    }
}

/// Errors that mean "this host is out of sockets, buffers or ports for now": back off and
/// retry the probe, never report them as a port state.
pub fn is_resource_shortage(err: &io::Error) -> bool {
    shortage_reason(err).is_some()
}

/// What this host ran short of, when `err` says so: a free local port (EADDRNOTAVAIL, and
/// EAGAIN from a TCP connect on Linux), descriptors, or kernel memory.
pub fn shortage_reason(err: &io::Error) -> Option<Reason> {
    use nix::libc::{EADDRNOTAVAIL, EAGAIN, EMFILE, ENFILE, ENOBUFS, ENOMEM};
    match err.raw_os_error()? {
        EADDRNOTAVAIL | EAGAIN => Some(Reason::NoLocalPort),
        EMFILE | ENFILE => Some(Reason::NoDescriptors),
        ENOBUFS | ENOMEM => Some(Reason::NoBuffers),
        _ => None,
    }
}

/// Whether a TCP connection is connected to itself: on loopback, a connect to a port inside
/// the ephemeral range can be given that same port as its source and complete a simultaneous
/// open with itself. No listener was involved, so the port must never be reported open.
pub fn is_self_connect(local: SocketAddr, peer: SocketAddr) -> bool {
    local.port() == peer.port() && local.ip().to_canonical() == peer.ip().to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_contract_states() {
        let rtt = Duration::from_millis(1);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let tcp = Outcome::from_error(&refused, false, rtt).unwrap();
        assert_eq!(
            (tcp.state, tcp.reason),
            (PortState::Closed, Reason::ConnRefused)
        );
        let udp = Outcome::from_error(&refused, true, rtt).unwrap();
        assert_eq!(
            (udp.state, udp.reason),
            (PortState::Closed, Reason::PortUnreach)
        );
        let unreach = io::Error::from_raw_os_error(nix::libc::EHOSTUNREACH);
        let filtered = Outcome::from_error(&unreach, false, rtt).unwrap();
        assert_eq!(
            (filtered.state, filtered.reason),
            (PortState::Filtered, Reason::HostUnreach)
        );
        let net = io::Error::from_raw_os_error(nix::libc::ENETUNREACH);
        assert_eq!(
            Outcome::from_error(&net, false, rtt).unwrap().reason,
            Reason::NetUnreach
        );
        for (shortage, reason) in [
            (nix::libc::EMFILE, Reason::NoDescriptors),
            (nix::libc::ENFILE, Reason::NoDescriptors),
            (nix::libc::ENOBUFS, Reason::NoBuffers),
            (nix::libc::EADDRNOTAVAIL, Reason::NoLocalPort),
            (nix::libc::EAGAIN, Reason::NoLocalPort),
        ] {
            let err = io::Error::from_raw_os_error(shortage);
            assert_eq!(Outcome::from_error(&err, false, rtt), None);
            assert_eq!(shortage_reason(&err), Some(reason));
        }
        assert_eq!(Outcome::timed_out(false).rtt, None);
        assert_eq!(Outcome::timed_out(true).state, PortState::OpenFiltered);
    }

    #[test]
    fn self_connect_is_detected() {
        let a: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:40000".parse().unwrap();
        assert!(is_self_connect(a, a));
        assert!(is_self_connect(mapped, a));
        assert!(!is_self_connect(a, b));
        let other_host: SocketAddr = "127.0.0.2:40000".parse().unwrap();
        assert!(!is_self_connect(a, other_host));
    }

    #[test]
    fn a_real_self_connect_is_detected() {
        // A socket bound to a port and connected to that same address completes a
        // simultaneous open with itself: what a scan of an ephemeral port can run into.
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket
            .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        let local = socket.local_addr().unwrap().as_socket().unwrap();
        socket.connect(&local.into()).unwrap();
        let peer = socket.peer_addr().unwrap().as_socket().unwrap();
        assert!(is_self_connect(local, peer));
    }

    #[test]
    fn state_names() {
        assert_eq!(
            PortState::parse("open|filtered"),
            Some(PortState::OpenFiltered)
        );
        assert_eq!(PortState::parse("Closed"), Some(PortState::Closed));
        assert_eq!(PortState::parse("shut"), None);
        assert_eq!(
            serde_json::to_string(&PortState::OpenFiltered).unwrap(),
            "\"open|filtered\""
        );
        assert_eq!(
            serde_json::to_string(&Reason::ConnRefused).unwrap(),
            "\"conn-refused\""
        );
    }
}
