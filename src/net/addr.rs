//! Hosts, endpoints (`HOST:PORT`, `[IPv6]:PORT`, `HOST PORT`), CIDR blocks and probe targets.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::port::{PortSpec, parse_port, parse_port_allow_zero};
use crate::output::escape::quote_arg;

/// A host as the user named it: an IP literal or a name still to be resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A DNS name (or `localhost`), resolved later.
    Name(String),
}

impl FromStr for Host {
    type Err = String;

    /// Accepts `example.com`, `127.0.0.1`, `::1` and `[::1]`.
    fn from_str(text: &str) -> Result<Host, String> {
        let text = text.trim();
        let unbracketed = text
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(text);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        if unbracketed.contains(':') {
            return Err(format!("'{}' is not a valid IPv6 address", quote_arg(text)));
        }
        // `256.1.1.1` or `1.2.3.4.5` is a mistyped address, never a name to look up (the
        // resolver would send it to DNS, or read `127.1` as inet_aton does).
        if unbracketed.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(format!(
                "'{}' is not a valid IPv4 address (four numbers 0-255 separated by dots)",
                quote_arg(text)
            ));
        }
        if is_valid_hostname(unbracketed) {
            Ok(Host::Name(unbracketed.to_string()))
        } else {
            Err(format!(
                "'{}' is not a valid host name or address",
                quote_arg(text)
            ))
        }
    }
}

/// RFC 1123 host names, with `_` allowed as resolvers do in practice.
fn is_valid_hostname(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl fmt::Display for Host {
    /// IPv6 literals print bracketed, so that `{host}:{port}` is always unambiguous.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// Splits `HOST:REST`, `[IPv6]:REST` or `[IPv6/len]:REST` into host text and the rest.
/// Returns `None` for the rest when there is no `:REST` part. A bare IPv6 literal (two or more
/// colons, no brackets) is all host.
fn split_host_rest(text: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(after_bracket) = text.strip_prefix('[') {
        let (host, rest) = after_bracket
            .split_once(']')
            .ok_or_else(|| format!("missing ']' in '{}'", quote_arg(text)))?;
        return match rest {
            "" => Ok((host, None)),
            rest => match rest.strip_prefix(':') {
                Some(rest) => Ok((host, Some(rest))),
                None => Err(format!("expected ':' after ']' in '{}'", quote_arg(text))),
            },
        };
    }
    match text.matches(':').count() {
        0 => Ok((text, None)),
        1 => {
            let (host, rest) = text.split_once(':').unwrap_or((text, ""));
            Ok((host, Some(rest)))
        }
        _ => Ok((text, None)),
    }
}

/// A peer: a host and a port (1-65535).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Where to connect.
    pub host: Host,
    /// The port, never 0.
    pub port: u16,
}

impl HostPort {
    /// Parses the peer from the command line's words: `HOST:PORT`, `[IPv6]:PORT`, or the
    /// netcat form `HOST PORT`.
    pub fn from_words(words: &[String]) -> Result<HostPort, String> {
        match words {
            [one] => one.parse(),
            [host, port] => Ok(HostPort {
                host: host.parse()?,
                port: parse_port(port)?,
            }),
            [] => Err("missing HOST:PORT".to_string()),
            _ => Err(format!(
                "expected HOST:PORT or HOST PORT, got {} words",
                words.len()
            )),
        }
    }
}

impl FromStr for HostPort {
    type Err = String;

    fn from_str(text: &str) -> Result<HostPort, String> {
        let text = text.trim();
        let (host, port) = split_host_rest(text)?;
        let Some(port) = port else {
            return Err(if host.contains(':') {
                format!(
                    "'{}' has no port; write an IPv6 peer as [ADDR]:PORT",
                    quote_arg(text)
                )
            } else {
                format!(
                    "'{}' has no port; expected HOST:PORT or HOST PORT",
                    quote_arg(text)
                )
            });
        };
        Ok(HostPort {
            host: host.parse()?,
            port: parse_port(port)?,
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Where to listen: an optional host (every interface when absent) and a port (0 = any free).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindSpec {
    /// The address to bind, or `None` for every interface.
    pub host: Option<Host>,
    /// The port; 0 lets the kernel choose.
    pub port: u16,
}

impl BindSpec {
    /// Parses `[HOST:]PORT`, `[IPv6]:PORT`, or the two words `HOST PORT`.
    pub fn from_words(words: &[String]) -> Result<BindSpec, String> {
        match words {
            [one] => one.parse(),
            [host, port] => Ok(BindSpec {
                host: Some(host.parse()?),
                port: parse_port_allow_zero(port)?,
            }),
            [] => Err("missing PORT".to_string()),
            _ => Err(format!(
                "expected [HOST:]PORT or HOST PORT, got {} words",
                words.len()
            )),
        }
    }
}

impl FromStr for BindSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<BindSpec, String> {
        let text = text.trim();
        match split_host_rest(text)? {
            (port, None) if !port.contains(':') => Ok(BindSpec {
                host: None,
                port: parse_port_allow_zero(port)?,
            }),
            (_, None) => Err(format!(
                "'{}' has no port; write an IPv6 address as [ADDR]:PORT",
                quote_arg(text)
            )),
            (host, Some(port)) => Ok(BindSpec {
                host: if host.is_empty() {
                    None
                } else {
                    Some(host.parse()?)
                },
                port: parse_port_allow_zero(port)?,
            }),
        }
    }
}

/// An IPv4 or IPv6 network block, e.g. `192.0.2.0/29` or `2001:db8::/126`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// A block from an address (host bits are cleared) and a prefix length.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, String> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!("prefix /{prefix} is longer than {max} bits"));
        }
        Ok(Cidr {
            network: mask(addr, prefix),
            prefix,
        })
    }

    /// Whether `ip` lies in the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = if self.network.is_ipv4() {
            ip.to_canonical()
        } else {
            ip
        };
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }

    /// How many addresses the block holds (saturating for huge IPv6 blocks).
    pub fn size(&self) -> u128 {
        let bits = if self.network.is_ipv4() { 32 } else { 128 } - u32::from(self.prefix);
        1u128.checked_shl(bits).unwrap_or(u128::MAX)
    }

    /// The block's first address (the network address).
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// Every address in the block, network and broadcast included (as nmap scans them).
    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> + use<> {
        let base = ip_to_u128(self.network);
        let is_v4 = self.network.is_ipv4();
        let count = self.size();
        (0..count).map(move |offset| u128_to_ip(base + offset, is_v4))
    }
}

/// An address as a number (IPv4 in the low 32 bits), for ranges and offsets.
pub fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The address numbered `value` ([`ip_to_u128`]'s inverse) in the given family.
pub fn u128_to_ip(value: u128, is_v4: bool) -> IpAddr {
    if is_v4 {
        IpAddr::V4(Ipv4Addr::from(value as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(value))
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & kept))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & kept))
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("'{}' is not a CIDR block (ADDR/LEN)", quote_arg(text)))?;
        let addr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map_err(|_| format!("'{}' is not an IP address", quote_arg(addr)))?;
        let prefix = prefix
            .parse::<u8>()
            .map_err(|_| format!("'{}' is not a prefix length", quote_arg(prefix)))?;
        Cidr::new(addr, prefix)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The host part of a probe target: one host or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostSpec {
    /// A single name or address.
    Host(Host),
    /// Every address of a block.
    Block(Cidr),
}

impl FromStr for HostSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<HostSpec, String> {
        if text.contains('/') {
            text.parse().map(HostSpec::Block)
        } else {
            text.parse().map(HostSpec::Host)
        }
    }
}

impl fmt::Display for HostSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostSpec::Host(host) => write!(f, "{host}"),
            HostSpec::Block(Cidr {
                network: IpAddr::V6(ip),
                prefix,
            }) => write!(f, "[{ip}/{prefix}]"),
            HostSpec::Block(cidr) => write!(f, "{cidr}"),
        }
    }
}

/// A probe target: `HOST`, `HOST:PORTS`, `[IPv6]:PORTS`, `CIDR:PORTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host or block to probe.
    pub hosts: HostSpec,
    /// The ports named with the target, if any (else `-p` applies).
    pub ports: Option<PortSpec>,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty target".to_string());
        }
        let (hosts, ports) = split_host_rest(text)?;
        Ok(Target {
            hosts: hosts.parse()?,
            ports: ports.map(str::parse).transpose()?,
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ports {
            Some(ports) => write!(f, "{}:{}", self.hosts, ports),
            None => write!(f, "{}", self.hosts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn endpoints_in_every_form() {
        let v4: HostPort = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(v4.host, Host::Ip("127.0.0.1".parse().unwrap()));
        assert_eq!(v4.port, 8080);
        let v6: HostPort = "[::1]:443".parse().unwrap();
        assert_eq!(v6.host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(v6.to_string(), "[::1]:443");
        let named: HostPort = "localhost:http".parse().unwrap();
        assert_eq!(named.host, Host::Name("localhost".into()));
        assert_eq!(named.port, 80);
        let two = HostPort::from_words(&words(&["::1", "22"])).unwrap();
        assert_eq!(two.to_string(), "[::1]:22");
    }

    #[test]
    fn malformed_endpoints_are_rejected() {
        for bad in [
            "localhost",
            "::1",
            "[::1]",
            "[::1]80",
            "host:0",
            "host:65536",
            ":80",
            "bad host:80",
            "[::1:80",
            "-x-:80",
            "256.1.1.1:80",
            "1.2.3.4.5:80",
            "127.1:80",
            "1.2.3.:80",
        ] {
            assert!(bad.parse::<HostPort>().is_err(), "{bad} was accepted");
        }
        assert!(HostPort::from_words(&words(&["a", "b", "c"])).is_err());
    }

    #[test]
    fn dotted_numbers_that_are_not_ipv4_are_never_names() {
        for bad in [
            "256.1.1.1",
            "1.2.3.4.5",
            "300.1.1.1",
            "127.1",
            "1.2.3.4.",
            "01.2.3.4",
        ] {
            let err = bad.parse::<Host>().unwrap_err();
            assert!(err.contains("not a valid IPv4 address"), "{bad}: {err}");
            assert!(format!("{bad}:22").parse::<Target>().is_err(), "{bad}");
            assert!(format!("{bad}:0").parse::<BindSpec>().is_err(), "{bad}");
        }
        assert_eq!("1.2.3.4".parse(), Ok(Host::Ip("1.2.3.4".parse().unwrap())));
        assert_eq!("1a.2.3.4".parse(), Ok(Host::Name("1a.2.3.4".into())));
        let long = format!("{}.1", "9".repeat(128 * 1024));
        assert!(long.parse::<Host>().unwrap_err().len() < 300);
    }

    #[test]
    fn bind_specs() {
        assert_eq!(
            "8080".parse(),
            Ok(BindSpec {
                host: None,
                port: 8080
            })
        );
        assert_eq!("0".parse::<BindSpec>().unwrap().port, 0);
        let spec: BindSpec = "[::1]:0".parse().unwrap();
        assert_eq!(spec.host, Some(Host::Ip("::1".parse().unwrap())));
        assert_eq!(":9000".parse::<BindSpec>().unwrap().host, None);
        let two = BindSpec::from_words(&words(&["127.0.0.1", "9000"])).unwrap();
        assert_eq!(two.port, 9000);
        assert!("::1".parse::<BindSpec>().is_err());
        assert!("70000".parse::<BindSpec>().is_err());
    }

    #[test]
    fn cidr_blocks() {
        let block: Cidr = "192.0.2.7/29".parse().unwrap();
        assert_eq!(block.to_string(), "192.0.2.0/29");
        assert_eq!(block.size(), 8);
        assert!(block.contains("192.0.2.7".parse().unwrap()));
        assert!(!block.contains("192.0.2.8".parse().unwrap()));
        assert!(block.contains("::ffff:192.0.2.1".parse().unwrap()));
        assert_eq!(block.addrs().count(), 8);
        let v6: Cidr = "2001:db8::/126".parse().unwrap();
        assert_eq!(v6.addrs().last(), Some("2001:db8::3".parse().unwrap()));
        assert_eq!("0.0.0.0/0".parse::<Cidr>().unwrap().size(), 1 << 32);
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("10.0.0/8".parse::<Cidr>().is_err());
    }

    #[test]
    fn probe_targets() {
        let t: Target = "localhost:22,80,8000-8100".parse().unwrap();
        assert_eq!(t.hosts, HostSpec::Host(Host::Name("localhost".into())));
        assert_eq!(t.ports.unwrap().ports().len(), 103);
        let block: Target = "192.0.2.0/30:ssh".parse().unwrap();
        assert!(matches!(block.hosts, HostSpec::Block(_)));
        let v6: Target = "[2001:db8::/127]:1-3".parse().unwrap();
        assert_eq!(v6.to_string(), "[2001:db8::/127]:1-3");
        let bare: Target = "::1".parse().unwrap();
        assert_eq!(bare.ports, None);
        assert!("host:0".parse::<Target>().is_err());
        assert!("host:90-80".parse::<Target>().is_err());
        assert!("host:nope".parse::<Target>().is_err());
    }

    proptest! {
        #[test]
        fn endpoint_round_trips(ip in any::<IpAddr>(), port in 1u16..) {
            let endpoint = HostPort { host: Host::Ip(ip), port };
            prop_assert_eq!(endpoint.to_string().parse::<HostPort>(), Ok(endpoint));
        }

        #[test]
        fn cidr_round_trips(ip in any::<IpAddr>(), prefix in 0u8..=128) {
            let prefix = if ip.is_ipv4() { prefix % 33 } else { prefix };
            let block = Cidr::new(ip, prefix).unwrap();
            prop_assert!(block.contains(ip));
            prop_assert_eq!(block.to_string().parse::<Cidr>(), Ok(block));
        }

        #[test]
        fn target_round_trips(ip in any::<IpAddr>(), start in 1u16.., len in 0u16..100) {
            let end = start.saturating_add(len);
            let text = format!("{}:{start}-{end}", Host::Ip(ip));
            let target: Target = text.parse().unwrap();
            prop_assert_eq!(target.to_string().parse::<Target>(), Ok(target));
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,60}") {
            let _ = text.parse::<HostPort>();
            let _ = text.parse::<BindSpec>();
            let _ = text.parse::<Target>();
            let _ = text.parse::<Cidr>();
        }
    }
}
