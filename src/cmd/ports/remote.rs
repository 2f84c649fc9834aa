//! `-r`, `--remote PORTS|ADDR|CIDR`: which sockets talk to a given remote end.

use std::net::{IpAddr, SocketAddr};

use crate::error::Error;
use crate::net::{Cidr, PortRange};
use crate::output::escape::quote_arg;

/// One `--remote` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteFilter {
    /// Remote ports and ranges: `5432`, `:5432`, `5000-6000`, `80,443`, service names.
    Ports(Vec<PortRange>),
    /// One remote address, and maybe its port: `192.0.2.10`, `192.0.2.10:5432`, `[::1]:5432`.
    Addr(IpAddr, Option<u16>),
    /// A block of remote addresses: `10.0.0.0/8`, `2001:db8::/32`.
    Block(Cidr),
}

impl RemoteFilter {
    /// Parses one value; invalid input is a usage error (exit 2). Addresses are literals only:
    /// nothing is looked up.
    pub fn parse(text: &str) -> Result<RemoteFilter, Error> {
        let invalid = |why: String| {
            Error::usage(format!("invalid --remote '{}': {why}", quote_arg(text))).with_hint(
                "give remote ports (5432, 5000-6000), an IP address (192.0.2.10, \
                 192.0.2.10:5432, [::1]:5432; names are not looked up) or a CIDR block \
                 (10.0.0.0/8)",
            )
        };
        let trimmed = text.trim();
        if trimmed.contains('/') {
            return trimmed
                .parse::<Cidr>()
                .map(RemoteFilter::Block)
                .map_err(invalid);
        }
        if let Ok(addr) = trimmed
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(RemoteFilter::Addr(addr.to_canonical(), None));
        }
        if let Ok(addr) = trimmed.parse::<SocketAddr>() {
            if addr.port() == 0 {
                return Err(invalid("port 0 is not a valid port here".to_string()));
            }
            return Ok(RemoteFilter::Addr(
                addr.ip().to_canonical(),
                Some(addr.port()),
            ));
        }
        let host = trimmed.rsplit_once(':').map_or(trimmed, |(host, _)| host);
        if !host.is_empty()
            && host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && host.contains('.')
        {
            return Err(invalid(format!(
                "'{}' is not an IP address",
                quote_arg(host)
            )));
        }
        let ports = trimmed.strip_prefix(':').unwrap_or(trimmed);
        let ranges: Result<Vec<PortRange>, String> = ports
            .split(',')
            .map(|item| match item.trim() {
                "" => Err("empty item in the port list".to_string()),
                item => item.parse(),
            })
            .collect();
        match ranges {
            Ok(ranges) => Ok(RemoteFilter::Ports(ranges)),
            Err(why) if trimmed.contains(':') || trimmed.contains('.') => Err(invalid(format!(
                "not an address, ports or a CIDR block ({why})"
            ))),
            Err(why) => Err(invalid(why)),
        }
    }

    /// Whether a socket with this remote end matches (a socket with none never does).
    pub fn matches(&self, remote: Option<SocketAddr>) -> bool {
        let Some(remote) = remote else {
            return false;
        };
        let ip = remote.ip().to_canonical();
        match self {
            RemoteFilter::Ports(ranges) => ranges.iter().any(|r| r.contains(remote.port())),
            RemoteFilter::Addr(addr, port) => {
                *addr == ip && port.is_none_or(|port| port == remote.port())
            }
            RemoteFilter::Block(block) => block.contains(ip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    fn remote(text: &str) -> Option<SocketAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn ports_addresses_and_blocks_match_the_remote_end() {
        let ports = RemoteFilter::parse("5432").unwrap();
        assert!(ports.matches(remote("192.0.2.10:5432")));
        assert!(!ports.matches(remote("192.0.2.10:5433")));
        assert!(!ports.matches(None));
        let range = RemoteFilter::parse(":5000-6000").unwrap();
        assert!(range.matches(remote("[::1]:5999")));
        let list = RemoteFilter::parse("80,443").unwrap();
        assert!(list.matches(remote("127.0.0.1:443")) && !list.matches(remote("127.0.0.1:22")));

        let addr = RemoteFilter::parse("192.0.2.10").unwrap();
        assert!(addr.matches(remote("192.0.2.10:1")));
        assert!(addr.matches(remote("[::ffff:192.0.2.10]:1")), "mapped IPv4");
        assert!(!addr.matches(remote("192.0.2.11:1")));
        let with_port = RemoteFilter::parse("192.0.2.10:5432").unwrap();
        assert!(with_port.matches(remote("192.0.2.10:5432")));
        assert!(!with_port.matches(remote("192.0.2.10:5433")));
        let v6 = RemoteFilter::parse("[::1]:5432").unwrap();
        assert!(v6.matches(remote("[::1]:5432")));
        assert_eq!(
            RemoteFilter::parse("[::1]").unwrap(),
            RemoteFilter::parse("::1").unwrap()
        );

        let block = RemoteFilter::parse("127.0.0.0/8").unwrap();
        assert!(block.matches(remote("127.1.2.3:80")));
        assert!(!block.matches(remote("10.0.0.1:80")));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for bad in [
            "",
            "0",
            "70000",
            "256.1.1.1",
            "1.2.3.4.5",
            "1.2.3.4:0",
            "1.2.3.4:99999",
            "10.0.0.0/33",
            "nosuchservice",
            "5-1",
            "x.y:80",
        ] {
            let err = RemoteFilter::parse(bad).unwrap_err();
            assert_eq!(err.status, Status::Usage, "{bad}");
        }
    }
}
