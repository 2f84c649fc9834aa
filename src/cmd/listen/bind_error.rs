//! Why a listener could not be bound, said so that the user can act: who holds the port,
//! or that the port is privileged.

use std::io;
use std::net::SocketAddr;

use crate::error::Error;
use crate::net::cause::describe;
use crate::net::socket::Proto;
use crate::os::holders::Holder;

/// `cannot listen on ADDR: CAUSE`, with a hint naming the port's holder (address in use) or
/// the way to a privileged port (permission denied below the unprivileged-port start).
pub fn bind_error(addr: &SocketAddr, proto: Proto, err: &io::Error) -> Error {
    let error = Error::failure(format!("cannot listen on {addr}: {}", describe(err)));
    match err.kind() {
        io::ErrorKind::AddrInUse => error.with_hint(in_use_hint(proto, addr.port())),
        io::ErrorKind::PermissionDenied if addr.port() < unprivileged_port_start() => {
            Error::failure(format!(
                "cannot listen on {addr}: permission denied (port {} is privileged)",
                addr.port()
            ))
            .with_hint(
                "run as root, or grant the binary CAP_NET_BIND_SERVICE \
                 (setcap cap_net_bind_service=+ep $(command -v sockx)), or use a port >= 1024",
            )
        }
        io::ErrorKind::AddrNotAvailable => {
            error.with_hint("that address is not assigned to any interface of this host")
        }
        _ => error,
    }
}

fn in_use_hint(proto: Proto, port: u16) -> String {
    #[cfg(target_os = "linux")]
    let holders = crate::os::holders::port_holders(proto, port);
    #[cfg(not(target_os = "linux"))]
    let holders = Vec::new();
    held_by(&holders).unwrap_or_else(|| {
        format!(
            "another socket holds {proto} port {port}; 'sockx ports {port}' shows which process (as root)"
        )
    })
}

/// The hint for a Unix socket path (or abstract name) where a server already listens:
/// `held by NAME (pid N, user U)`, found as `sockx ports PATH` finds it.
#[cfg(unix)]
pub fn unix_in_use_hint(addr: &crate::net::endpoint::UnixAddr) -> String {
    #[cfg(target_os = "linux")]
    let holders = crate::os::holders::unix_holders(addr);
    #[cfg(not(target_os = "linux"))]
    let holders = Vec::new();
    held_by(&holders).unwrap_or_else(|| {
        let shown = addr.to_string();
        let path = shown.strip_prefix("unix:").unwrap_or(&shown);
        format!(
            "a server already listens on it; 'sockx ports {}' shows which process (as root)",
            crate::output::escape::escape_text(path)
        )
    })
}

/// `held by nginx (pid 812, user www-data), …`; a name is another process's text, escaped so
/// that it cannot break the hint line or drive the terminal. `None` when nobody is known.
fn held_by(holders: &[Holder]) -> Option<String> {
    use crate::output::escape::escape_text;
    if holders.is_empty() {
        return None;
    }
    let named: Vec<String> = holders
        .iter()
        .map(|holder| {
            let name = escape_text(&holder.name);
            match &holder.user {
                Some(user) => format!("{name} (pid {}, user {})", holder.pid, escape_text(user)),
                None => format!("{name} (pid {})", holder.pid),
            }
        })
        .collect();
    Some(format!("held by {}", named.join(", ")))
}

/// The first port an unprivileged process may bind (Linux: a sysctl, 1024 by default).
fn unprivileged_port_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_in_use_names_the_holder() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let err = bind_error(&addr, Proto::Tcp, &io::ErrorKind::AddrInUse.into());
        assert_eq!(
            err.message,
            format!("cannot listen on {addr}: address already in use")
        );
        let hint = err.hint.unwrap();
        assert!(
            hint.contains(&format!("(pid {}", std::process::id())),
            "{hint}"
        );
    }

    #[test]
    fn privileged_ports_say_so() {
        let addr: SocketAddr = "0.0.0.0:80".parse().unwrap();
        let err = bind_error(&addr, Proto::Tcp, &io::ErrorKind::PermissionDenied.into());
        if unprivileged_port_start() > 80 {
            assert!(err.message.contains("privileged"), "{}", err.message);
            assert!(err.hint.unwrap().contains("CAP_NET_BIND_SERVICE"));
        }
    }
}
