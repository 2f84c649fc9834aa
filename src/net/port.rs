//! Ports, port ranges and port lists (`22,80,8000-8100,ssh,all`).

use std::fmt;
use std::str::FromStr;

/// Parses a port that must name a real service port: 1-65535 (a number or a service name).
pub fn parse_port(text: &str) -> Result<u16, String> {
    match parse_port_allow_zero(text)? {
        0 => Err("port 0 is not a valid port here (use 1-65535)".to_string()),
        port => Ok(port),
    }
}

/// Parses a port where 0 means "pick a free one" (binding): 0-65535 or a service name.
pub fn parse_port_allow_zero(text: &str) -> Result<u16, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty port".to_string());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u32>()
            .ok()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| format!("port {text} is out of range (1-65535)"));
    }
    service_port(text).ok_or_else(|| format!("unknown port or service name '{text}'"))
}

/// Well-known services, so that `ssh` or `https` work without `/etc/services`.
const SERVICES: &[(&str, u16)] = &[
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("dns", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("http", 80),
    ("www", 80),
    ("kerberos", 88),
    ("pop3", 110),
    ("sunrpc", 111),
    ("ntp", 123),
    ("netbios-ns", 137),
    ("netbios-ssn", 139),
    ("imap", 143),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("bgp", 179),
    ("ldap", 389),
    ("https", 443),
    ("smb", 445),
    ("microsoft-ds", 445),
    ("syslog", 514),
    ("submission", 587),
    ("ipp", 631),
    ("ldaps", 636),
    ("rsync", 873),
    ("imaps", 993),
    ("pop3s", 995),
    ("socks", 1080),
    ("openvpn", 1194),
    ("mssql", 1433),
    ("oracle", 1521),
    ("pptp", 1723),
    ("mqtt", 1883),
    ("nfs", 2049),
    ("zookeeper", 2181),
    ("docker", 2375),
    ("etcd", 2379),
    ("mysql", 3306),
    ("rdp", 3389),
    ("svn", 3690),
    ("epmd", 4369),
    ("sip", 5060),
    ("amqp", 5672),
    ("postgresql", 5432),
    ("postgres", 5432),
    ("mdns", 5353),
    ("vnc", 5900),
    ("couchdb", 5984),
    ("redis", 6379),
    ("irc", 6667),
    ("kafka", 9092),
    ("prometheus", 9090),
    ("elasticsearch", 9200),
    ("http-alt", 8080),
    ("https-alt", 8443),
    ("memcache", 11211),
    ("mongodb", 27017),
];

/// Looks up a service name: the built-in table first, then `/etc/services` (TCP entries).
pub fn service_port(name: &str) -> Option<u16> {
    let lower = name.to_ascii_lowercase();
    SERVICES
        .iter()
        .find(|(service, _)| *service == lower)
        .map(|&(_, port)| port)
        .or_else(|| etc_services_port(&lower))
}

/// Reads `/etc/services` for `name` (or an alias of it) on TCP.
fn etc_services_port(name: &str) -> Option<u16> {
    let services = std::fs::read_to_string("/etc/services").ok()?;
    services.lines().find_map(|line| {
        let line = line.split('#').next()?;
        let mut words = line.split_whitespace();
        let service = words.next()?;
        let (port, proto) = words.next()?.split_once('/')?;
        let named = service == name || words.any(|alias| alias == name);
        (named && proto == "tcp").then(|| port.parse().ok())?
    })
}

/// An inclusive range of ports, never containing 0 and never reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    start: u16,
    end: u16,
}

impl PortRange {
    /// Every port, 1-65535.
    pub const ALL: PortRange = PortRange {
        start: 1,
        end: 65535,
    };

    /// A range from `start` to `end` inclusive; rejects 0 and reversed ranges.
    pub fn new(start: u16, end: u16) -> Result<PortRange, String> {
        if start == 0 || end == 0 {
            return Err("port 0 is not a valid port here (use 1-65535)".to_string());
        }
        if start > end {
            return Err(format!("reversed port range {start}-{end}"));
        }
        Ok(PortRange { start, end })
    }

    /// The range holding just `port` (which must not be 0).
    pub fn single(port: u16) -> Result<PortRange, String> {
        PortRange::new(port, port)
    }

    /// Whether `port` lies in the range.
    pub fn contains(&self, port: u16) -> bool {
        (self.start..=self.end).contains(&port)
    }

    /// The ports in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + use<> {
        self.start..=self.end
    }
}

impl FromStr for PortRange {
    type Err = String;

    /// `80`, `ssh`, `8000-8100`, and nmap's open forms `-1024`, `60000-` and `-`.
    fn from_str(text: &str) -> Result<PortRange, String> {
        let text = text.trim();
        match text.split_once('-') {
            None => PortRange::single(parse_port(text)?),
            Some((start, end)) => {
                let start = if start.is_empty() {
                    1
                } else {
                    parse_port(start)?
                };
                let end = if end.is_empty() {
                    65535
                } else {
                    parse_port(end)?
                };
                PortRange::new(start, end)
            }
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// A list of ports and ranges, as written by the user, e.g. `22,80,8000-8100,ssh` or `all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    ranges: Vec<PortRange>,
}

impl PortSpec {
    /// A spec from ranges (must not be empty).
    pub fn from_ranges(ranges: Vec<PortRange>) -> Result<PortSpec, String> {
        if ranges.is_empty() {
            return Err("empty port list".to_string());
        }
        Ok(PortSpec { ranges })
    }

    /// The distinct ports, in the order given (a port listed twice comes once).
    pub fn ports(&self) -> Vec<u16> {
        let mut seen = vec![false; 65536];
        let mut ports = Vec::new();
        for port in self.ranges.iter().flat_map(PortRange::iter) {
            if !std::mem::replace(&mut seen[usize::from(port)], true) {
                ports.push(port);
            }
        }
        ports
    }
}

impl FromStr for PortSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<PortSpec, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty port list".to_string());
        }
        let ranges = text
            .split(',')
            .map(|item| match item.trim() {
                "" => Err(format!("empty item in port list '{text}'")),
                "all" | "ALL" => Ok(PortRange::ALL),
                item => item.parse(),
            })
            .collect::<Result<Vec<_>, _>>()?;
        PortSpec::from_ranges(ranges)
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, range) in self.ranges.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{range}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ports_and_services_parse() {
        assert_eq!(parse_port("22"), Ok(22));
        assert_eq!(parse_port("ssh"), Ok(22));
        assert_eq!(parse_port("HTTPS"), Ok(443));
        assert_eq!(parse_port("65535"), Ok(65535));
        assert!(parse_port("0").is_err());
        assert!(parse_port("65536").is_err());
        assert!(parse_port("99999999999999999999").is_err());
        assert!(parse_port("-1").is_err());
        assert!(parse_port("no-such-service-here").is_err());
        assert_eq!(parse_port_allow_zero("0"), Ok(0));
    }

    #[test]
    fn ranges_parse_including_open_forms() {
        assert_eq!("8000-8100".parse(), PortRange::new(8000, 8100));
        assert_eq!("-1024".parse(), PortRange::new(1, 1024));
        assert_eq!("60000-".parse(), PortRange::new(60000, 65535));
        assert_eq!("-".parse(), Ok(PortRange::ALL));
        assert_eq!("ssh-http".parse(), PortRange::new(22, 80));
        let reversed = "100-10".parse::<PortRange>().unwrap_err();
        assert!(reversed.contains("reversed"), "{reversed}");
        assert!("0-10".parse::<PortRange>().is_err());
    }

    #[test]
    fn port_lists_parse_and_dedup() {
        let spec: PortSpec = "22,80,8000-8002,ssh".parse().unwrap();
        assert_eq!(spec.ports(), vec![22, 80, 8000, 8001, 8002]);
        assert_eq!(spec.to_string(), "22,80,8000-8002,22");
        assert_eq!("all".parse::<PortSpec>().unwrap().ports().len(), 65535);
        assert!("22,,80".parse::<PortSpec>().is_err());
        assert!("".parse::<PortSpec>().is_err());
        assert!("22,0".parse::<PortSpec>().is_err());
    }

    proptest! {
        #[test]
        fn range_round_trips(a in 1u16.., b in 1u16..) {
            let range = PortRange::new(a.min(b), a.max(b)).unwrap();
            prop_assert_eq!(range.to_string().parse::<PortRange>(), Ok(range));
            prop_assert_eq!(range.iter().count(), usize::from(a.max(b) - a.min(b)) + 1);
        }

        #[test]
        fn spec_round_trips(bounds in prop::collection::vec((1u16.., 1u16..), 1..8)) {
            let ranges = bounds.iter().map(|&(a, b)| PortRange::new(a.min(b), a.max(b)).unwrap()).collect();
            let spec = PortSpec::from_ranges(ranges).unwrap();
            prop_assert_eq!(spec.to_string().parse::<PortSpec>(), Ok(spec));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,40}") {
            let _ = text.parse::<PortSpec>();
            let _ = parse_port(&text);
        }

        #[test]
        fn parsed_ports_are_never_zero(text in "[0-9,-]{1,20}") {
            if let Ok(spec) = text.parse::<PortSpec>() {
                prop_assert!(!spec.ports().is_empty() && !spec.ports().contains(&0));
            }
        }
    }
}
