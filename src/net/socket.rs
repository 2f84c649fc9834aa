//! socket2 builders: the options sockx sets on its sockets, in one place.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// Socket options applied before bind/connect.
#[derive(Debug, Clone, Copy, Default)]
pub struct SocketOptions {
    /// SO_REUSEADDR (always set on TCP listeners).
    pub reuse_addr: bool,
    /// SO_REUSEPORT (Unix only).
    pub reuse_port: bool,
    /// SO_BROADCAST.
    pub broadcast: bool,
    /// TCP_NODELAY.
    pub nodelay: bool,
    /// SO_LINGER; `Some(0)` makes close send RST and leave no TIME_WAIT behind.
    pub linger: Option<Duration>,
    /// IPV6_V6ONLY for IPv6 sockets; `Some(false)` makes `[::]` dual-stack.
    pub only_v6: Option<bool>,
}

/// Which transport a socket carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new socket for `addr`'s family and `proto`, with `options` applied.
pub fn new_socket(addr: &SocketAddr, proto: Proto, options: &SocketOptions) -> io::Result<Socket> {
    let (kind, protocol) = match proto {
        Proto::Tcp => (Type::STREAM, Protocol::TCP),
        Proto::Udp => (Type::DGRAM, Protocol::UDP),
    };
    let socket = Socket::new(Domain::for_address(*addr), kind, Some(protocol))?;
    if options.reuse_addr {
        socket.set_reuse_address(true)?;
    }
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    if options.reuse_port {
        socket.set_reuse_port(true)?;
    }
    if options.broadcast {
        socket.set_broadcast(true)?;
    }
    if options.nodelay && proto == Proto::Tcp {
        socket.set_tcp_nodelay(true)?;
    }
    if let Some(linger) = options.linger {
        socket.set_linger(Some(linger))?;
    }
    if let (Some(only_v6), SocketAddr::V6(_)) = (options.only_v6, addr) {
        socket.set_only_v6(only_v6)?;
    }
    Ok(socket)
}

/// The wildcard address for "every interface": `[::]` (dual-stack) when the host has IPv6,
/// else `0.0.0.0`.
pub fn any_interface(port: u16) -> SocketAddr {
    let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    match Socket::new(Domain::IPV6, Type::STREAM, None) {
        Ok(_) => v6,
        Err(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_applied() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let options = SocketOptions {
            reuse_addr: true,
            nodelay: true,
            linger: Some(Duration::ZERO),
            ..SocketOptions::default()
        };
        let socket = new_socket(&addr, Proto::Tcp, &options).unwrap();
        assert!(socket.reuse_address().unwrap());
        assert!(socket.tcp_nodelay().unwrap());
        assert_eq!(socket.linger().unwrap(), Some(Duration::ZERO));
    }

    #[test]
    fn dual_stack_wildcard() {
        assert!(any_interface(5).ip().is_unspecified());
        assert_eq!(any_interface(5).port(), 5);
    }
}
