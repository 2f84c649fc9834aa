//! Address families and name resolution.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use super::addr::Host;

/// Which IP versions to use (`-4`, `-6`, or both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// IPv4 and IPv6.
    #[default]
    Any,
    /// IPv4 only (`-4`).
    V4,
    /// IPv6 only (`-6`).
    V6,
}

impl Family {
    /// The family chosen by the `-4` / `-6` flags (clap makes them exclusive).
    pub fn from_flags(ipv4: bool, ipv6: bool) -> Family {
        match (ipv4, ipv6) {
            (true, false) => Family::V4,
            (false, true) => Family::V6,
            _ => Family::Any,
        }
    }

    /// Whether `ip` belongs to this family; IPv4-mapped IPv6 addresses count as IPv4.
    pub fn allows(self, ip: IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.to_canonical().is_ipv4(),
            Family::V6 => !ip.to_canonical().is_ipv4(),
        }
    }
}

/// Why a name or literal gave no address to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// An IP literal of the other family than `-4`/`-6` asks for: the input contradicts itself.
    #[error("{ip} is not an {} address ({} was given)", .family.version(), .family.flag())]
    WrongFamily {
        /// The literal.
        ip: IpAddr,
        /// The family asked for (`V4` or `V6`).
        family: Family,
    },
    /// The resolver failed (unknown host, no server answered).
    #[error("cannot resolve {name}: {cause}")]
    Lookup {
        /// The name looked up.
        name: String,
        /// The resolver's reason, shortened.
        cause: String,
    },
    /// The name resolved, but to no address of the family asked for.
    #[error("cannot resolve {host}: no {}address", .family.version_word())]
    NoAddress {
        /// The host as given.
        host: String,
        /// The family asked for.
        family: Family,
    },
}

impl Family {
    fn version(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 | Family::Any => "IPv6",
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Family::V4 => "-4",
            Family::V6 | Family::Any => "-6",
        }
    }

    /// `IPv4 `, `IPv6 ` or nothing, before "address".
    fn version_word(self) -> &'static str {
        match self {
            Family::V4 => "IPv4 ",
            Family::V6 => "IPv6 ",
            Family::Any => "",
        }
    }
}

/// Resolves `host` to socket addresses of `family`, deduplicated and ordered IPv6/IPv4
/// interleaved, IPv6 first (RFC 8305, Happy Eyeballs).
pub fn resolve(host: &Host, port: u16, family: Family) -> Result<Vec<SocketAddr>, ResolveError> {
    let found: Vec<SocketAddr> = match host {
        Host::Ip(ip) if !family.allows(*ip) => {
            return Err(ResolveError::WrongFamily { ip: *ip, family });
        }
        Host::Ip(ip) => vec![SocketAddr::new(*ip, port)],
        Host::Name(name) => (name.as_str(), port)
            .to_socket_addrs()
            .map_err(|err| ResolveError::Lookup {
                name: name.clone(),
                cause: resolver_cause(&err),
            })?
            .collect(),
    };
    let mut unique: Vec<SocketAddr> = Vec::with_capacity(found.len());
    for addr in found.into_iter().filter(|addr| family.allows(addr.ip())) {
        if !unique.contains(&addr) {
            unique.push(addr);
        }
    }
    if unique.is_empty() {
        return Err(ResolveError::NoAddress {
            host: host.to_string(),
            family,
        });
    }
    Ok(interleave_families(unique))
}

/// getaddrinfo's messages are long and platform-specific; keep the gist.
fn resolver_cause(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    if text.is_empty() {
        "unknown host".to_string()
    } else {
        text.to_lowercase()
    }
}

/// Orders addresses IPv6, IPv4, IPv6, IPv4, ..., keeping the resolver's order within a family.
pub fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let (mut v6, mut v4): (Vec<_>, Vec<_>) = addrs.into_iter().partition(SocketAddr::is_ipv6);
    let (first, second) = if v6.is_empty() {
        (&mut v4, &mut v6)
    } else {
        (&mut v6, &mut v4)
    };
    let mut ordered = Vec::with_capacity(first.len() + second.len());
    let mut first = first.drain(..);
    let mut second = second.drain(..);
    loop {
        match (first.next(), second.next()) {
            (None, None) => break,
            (a, b) => ordered.extend(a.into_iter().chain(b)),
        }
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn interleaves_ipv6_first() {
        let ordered = interleave_families(vec![
            addr("127.0.0.1:1"),
            addr("127.0.0.2:1"),
            addr("127.0.0.3:1"),
            addr("[::1]:1"),
        ]);
        assert_eq!(
            ordered,
            vec![
                addr("[::1]:1"),
                addr("127.0.0.1:1"),
                addr("127.0.0.2:1"),
                addr("127.0.0.3:1")
            ]
        );
    }

    #[test]
    fn family_filter() {
        assert!(Family::V4.allows("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!Family::V4.allows("::1".parse().unwrap()));
        assert!(Family::V6.allows("::1".parse().unwrap()));
        let host = Host::Ip("127.0.0.1".parse().unwrap());
        let mismatch = resolve(&host, 80, Family::V6).unwrap_err();
        assert!(matches!(mismatch, ResolveError::WrongFamily { .. }));
        assert_eq!(
            mismatch.to_string(),
            "127.0.0.1 is not an IPv6 address (-6 was given)"
        );
        assert_eq!(
            resolve(&host, 80, Family::Any).unwrap(),
            vec![addr("127.0.0.1:80")]
        );
    }

    #[test]
    fn resolves_localhost() {
        let found = resolve(&Host::Name("localhost".into()), 7, Family::V4).unwrap();
        assert!(found.iter().all(|a| a.ip().is_loopback() && a.port() == 7));
    }
}
