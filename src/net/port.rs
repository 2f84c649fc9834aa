//! Ports, port ranges and port lists (`22,80,8000-8100,ssh,all`).

use std::fmt;
use std::str::FromStr;

use crate::output::escape::quote_arg;

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
            .ok_or_else(|| format!("port {} is out of range (1-65535)", quote_arg(text)));
    }
    service_port(text).ok_or_else(|| format!("unknown port or service name '{}'", quote_arg(text)))
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

    /// `80`, `ssh`, `8000-8100`, `ssh-http`, nmap's open forms `-1024`, `60000-` and `-`, and
    /// hyphenated service names (`http-alt`, `ftp-data`): the whole word is tried as a service
    /// name first, then each `-` as the split of a range whose ends are numbers or names.
    fn from_str(text: &str) -> Result<PortRange, String> {
        let text = text.trim();
        if !text.contains('-') {
            return PortRange::single(parse_port(text)?);
        }
        let named = text.bytes().any(|b| b.is_ascii_alphabetic());
        if named && let Some(port) = service_port(text) {
            return PortRange::single(port);
        }
        let mut found: Option<PortRange> = None;
        // The error of a split whose ends both parse (a reversed range, a port 0).
        let mut range_error = None;
        let mut first_error = None;
        for (index, _) in text.match_indices('-') {
            let (start, end) = (&text[..index], &text[index + 1..]);
            let ends = range_end(start, 1).and_then(|start| Ok((start, range_end(end, 65535)?)));
            match ends.map(|(start, end)| (start, end, PortRange::new(start, end))) {
                Ok((_, _, Ok(range))) => {
                    if found.is_some_and(|other| other != range) {
                        return Err(format!(
                            "'{}' is ambiguous: it splits into more than one port range",
                            quote_arg(text)
                        ));
                    }
                    found = Some(range);
                }
                Ok((_, _, Err(err))) => range_error = range_error.or(Some(err)),
                Err(err) => first_error = first_error.or(Some(err)),
            }
        }
        if let Some(range) = found {
            return Ok(range);
        }
        if let Some(err) = range_error {
            return Err(err);
        }
        if named || text.matches('-').count() > 1 {
            return Err(format!(
                "unknown port, service name or port range '{}'",
                quote_arg(text)
            ));
        }
        Err(first_error.unwrap_or_else(|| format!("'{}' is not a port range", quote_arg(text))))
    }
}

/// One end of a range: a port, or `open` when the end is left out (`-1024`, `60000-`).
fn range_end(text: &str, open: u16) -> Result<u16, String> {
    if text.is_empty() {
        Ok(open)
    } else {
        parse_port(text)
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
                "" => Err(format!("empty item in port list '{}'", quote_arg(text))),
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
    fn hyphenated_service_names_are_services_not_ranges() {
        assert_eq!("http-alt".parse(), PortRange::single(8080));
        assert_eq!("ftp-data".parse(), PortRange::single(20));
        assert_eq!("HTTPS-ALT".parse(), PortRange::single(8443));
        // A range whose ends are hyphenated names.
        assert_eq!("ftp-data-http-alt".parse(), PortRange::new(20, 8080));
        assert_eq!("ssh-http-alt".parse(), PortRange::new(22, 8080));
        assert_eq!("ftp-data-22".parse(), PortRange::new(20, 22));
        assert_eq!("22-http-alt".parse(), PortRange::new(22, 8080));
        assert_eq!("-http".parse(), PortRange::new(1, 80));
        assert_eq!("http-alt-".parse(), PortRange::new(8080, 65535));
        let spec: PortSpec = "http-alt,ftp-data,https-alt".parse().unwrap();
        assert_eq!(spec.ports(), vec![8080, 20, 8443]);
    }

    #[test]
    fn bad_ranges_say_what_is_wrong() {
        let unknown = "no-such-service-here".parse::<PortRange>().unwrap_err();
        assert!(unknown.contains("'no-such-service-here'"), "{unknown}");
        let reversed = "http-alt-ssh".parse::<PortRange>().unwrap_err();
        assert!(
            reversed.contains("reversed port range 8080-22"),
            "{reversed}"
        );
        let out_of_range = "1-99999".parse::<PortRange>().unwrap_err();
        assert!(
            out_of_range.contains("99999 is out of range"),
            "{out_of_range}"
        );
        assert!("-5-".parse::<PortRange>().is_err());
        assert!("1--2".parse::<PortRange>().is_err());
        assert!("--".parse::<PortRange>().is_err());
        let long = format!("{}-1", "9".repeat(128 * 1024));
        assert!(long.parse::<PortRange>().unwrap_err().len() < 300);
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
