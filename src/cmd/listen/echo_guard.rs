//! The datagram `--echo` loop guard: which datagrams get no answer, so that one forged
//! datagram cannot start an echo loop (with ourselves, or with another echo service). Pure but
//! for the look-up of the host's addresses, which happens only for a datagram from our own port.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::net::datagram::DatagramPeer;

/// Source ports of services that answer whatever they get (echo 7, daytime 13, qotd 17,
/// chargen 19, time 37, DNS 53, NTP 123, SNMP 161, SSDP 1900, mDNS 5353, memcached 11211):
/// answering them is how reflection and ping-pong loops start.
pub const REFLECTOR_PORTS: [u16; 11] = [7, 13, 17, 19, 37, 53, 123, 161, 1900, 5353, 11211];

/// Why a datagram is not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered {
    /// It claims to come from our own socket: the answer would come back to us, forever.
    OwnAddress,
    /// It comes from a well-known reflector port.
    ReflectorPort(u16),
    /// It comes from a Unix socket without an address: there is nowhere to answer.
    Unbound,
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswered::OwnAddress => f.write_str("it comes from our own address"),
            Unanswered::ReflectorPort(port) => {
                write!(f, "it comes from port {port}, a reflecting service's")
            }
            Unanswered::Unbound => f.write_str("it comes from a socket without an address"),
        }
    }
}

/// Whether (and why not) to answer a datagram from `from` (IPv4-mapped shown as IPv4) on a
/// socket bound to `local`, UDP or Unix.
pub fn check_peer(from: &DatagramPeer, local: &DatagramPeer) -> Result<(), Unanswered> {
    match (from, local) {
        (DatagramPeer::Ip(from), DatagramPeer::Ip(local)) => check(*from, *local, is_host_address),
        (DatagramPeer::Unbound, _) => Err(Unanswered::Unbound),
        (from, local) if from == local => Err(Unanswered::OwnAddress),
        _ => Ok(()),
    }
}

/// Whether (and why not) to answer a datagram from `from` (IPv4-mapped shown as IPv4) on a
/// socket bound to `local`; `is_local` tells whether an address is one of this host's.
pub fn check(
    from: SocketAddr,
    local: SocketAddr,
    is_local: impl Fn(IpAddr) -> bool,
) -> Result<(), Unanswered> {
    if REFLECTOR_PORTS.contains(&from.port()) {
        return Err(Unanswered::ReflectorPort(from.port()));
    }
    if from.port() != local.port() {
        return Ok(());
    }
    let bound = local.ip().to_canonical();
    let ours = if bound.is_unspecified() {
        // A wildcard socket sends from any of the host's addresses.
        is_local(from.ip())
    } else {
        from.ip() == bound
    };
    if ours {
        Err(Unanswered::OwnAddress)
    } else {
        Ok(())
    }
}

/// Whether `ip` is one of this host's addresses: loopback, or on one of its interfaces.
pub fn is_host_address(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    if ip.is_loopback() || ip.is_unspecified() {
        return true;
    }
    let Ok(interfaces) = nix::ifaddrs::getifaddrs() else {
        // Cannot tell: not answering is the safe side for a datagram from our own port.
        return true;
    };
    interfaces
        .filter_map(|interface| interface.address)
        .any(|address| {
            let found = if let Some(v4) = address.as_sockaddr_in() {
                IpAddr::V4(v4.ip())
            } else if let Some(v6) = address.as_sockaddr_in6() {
                IpAddr::V6(v6.ip())
            } else {
                return false;
            };
            found.to_canonical() == ip
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn nowhere(_: IpAddr) -> bool {
        false
    }

    #[test]
    fn reflector_ports_get_no_answer() {
        let local = addr("0.0.0.0:9000");
        for port in REFLECTOR_PORTS {
            let from = SocketAddr::new("203.0.113.5".parse().unwrap(), port);
            assert_eq!(
                check(from, local, nowhere),
                Err(Unanswered::ReflectorPort(port))
            );
        }
        assert_eq!(check(addr("203.0.113.5:40000"), local, nowhere), Ok(()));
    }

    #[test]
    fn our_own_socket_address_gets_no_answer() {
        let bound = addr("127.0.0.1:9000");
        assert_eq!(
            check(addr("127.0.0.1:9000"), bound, nowhere),
            Err(Unanswered::OwnAddress)
        );
        // Another socket of this host, or our port on another host: answered.
        assert_eq!(check(addr("127.0.0.1:9001"), bound, nowhere), Ok(()));
        assert_eq!(check(addr("127.0.0.2:9000"), bound, nowhere), Ok(()));
        // A wildcard socket owns the port on every local address.
        let wildcard = addr("[::]:9000");
        assert_eq!(
            check(addr("192.0.2.1:9000"), wildcard, |ip| ip
                == "192.0.2.1".parse::<IpAddr>().unwrap()),
            Err(Unanswered::OwnAddress)
        );
        assert_eq!(check(addr("198.51.100.1:9000"), wildcard, nowhere), Ok(()));
    }

    #[test]
    fn unix_peers_get_an_answer_unless_they_are_us_or_have_no_address() {
        use crate::net::endpoint::UnixAddr;
        let local = DatagramPeer::Unix(UnixAddr::Path("/tmp/d.sock".into()));
        let other = DatagramPeer::Unix(UnixAddr::Abstract(b"client".to_vec()));
        assert_eq!(check_peer(&other, &local), Ok(()));
        assert_eq!(check_peer(&local, &local), Err(Unanswered::OwnAddress));
        assert_eq!(
            check_peer(&DatagramPeer::Unbound, &local),
            Err(Unanswered::Unbound)
        );
    }

    #[test]
    fn loopback_is_always_the_hosts() {
        assert!(is_host_address("127.0.0.1".parse().unwrap()));
        assert!(is_host_address("127.9.9.9".parse().unwrap()));
        assert!(is_host_address("::1".parse().unwrap()));
        assert!(is_host_address("::ffff:127.0.0.1".parse().unwrap()));
    }
}
