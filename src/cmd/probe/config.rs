//! `sockx probe` arguments turned into a validated config before any I/O.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::attempt::AttemptSpec;
use super::check::{Check, CheckKind};
use super::outcome::PortState;
use super::tls::ProbeTls;
use crate::cli::ProbeArgs;
use crate::error::Error;
use crate::net::endpoint::UnixAddr;
use crate::net::escape::unescape;
use crate::net::socket::Proto;
use crate::net::{Host, HostSpec, PortSpec, Target};
use crate::output::escape::quote_arg;

/// The most address × port probes one run may make: a /16 on a few ports, or 16 hosts on
/// every port. Beyond that the run would take hours and the results would not fit in memory.
pub const MAX_PROBES: u64 = 1 << 20;

/// The largest UDP payload over IPv4 (65,535 minus the IP and UDP headers).
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// Most probes in flight at once by default, however high the open-file limit.
pub const MAX_DEFAULT_CONCURRENCY: usize = 5000;

/// What `probe` was asked to do.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Probe every port once and report.
    Scan,
    /// Re-probe until all are open, then maybe run a command.
    Wait {
        /// Give up after this long.
        limit: Duration,
        /// Time between rounds.
        interval: Duration,
        /// What to run once everything is open.
        command: Vec<String>,
    },
    /// Time N connects per target.
    Latency {
        /// Attempts per target; `None` runs until Ctrl-C.
        count: Option<u64>,
        /// Time between attempts.
        interval: Duration,
    },
}

/// One target with its ports settled.
#[derive(Debug, Clone)]
pub struct TargetPorts {
    /// The host or block.
    pub hosts: HostSpec,
    /// The distinct ports, in the order given.
    pub ports: Vec<u16>,
}

/// Which states the output lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateFilter {
    /// Every port up to [`StateFilter::AUTO_LIMIT`] probes, only open ones above.
    Auto,
    /// Exactly these states.
    Only(Vec<PortState>),
}

impl StateFilter {
    /// Up to this many probed ports, every port is listed by default.
    pub const AUTO_LIMIT: usize = 32;

    /// Whether a port in `state` is listed when `probed` ports were probed.
    pub fn shows(&self, state: PortState, probed: usize) -> bool {
        match self {
            StateFilter::Auto => probed <= Self::AUTO_LIMIT || state == PortState::Open,
            StateFilter::Only(states) => states.contains(&state),
        }
    }

    /// Parses `open,closed`, `filtered`, `open|filtered` or `all`.
    pub fn parse(text: &str) -> Result<StateFilter, String> {
        let mut states = Vec::new();
        for word in text.split(',') {
            if word.trim().eq_ignore_ascii_case("all") {
                return Ok(StateFilter::Only(PortState::ALL.to_vec()));
            }
            let state = PortState::parse(word).ok_or_else(|| {
                let word = quote_arg(word);
                format!("unknown state '{word}' (open, closed, filtered, open|filtered, all)")
            })?;
            states.push(state);
        }
        Ok(StateFilter::Only(states))
    }
}

/// The targets of a run: hosts with ports, and Unix sockets.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Hosts, addresses and blocks with their ports.
    pub ip: Vec<TargetPorts>,
    /// Unix stream sockets.
    pub unix: Vec<UnixAddr>,
}

impl Targets {
    fn extend(&mut self, more: Targets) {
        self.ip.extend(more.ip);
        self.unix.extend(more.unix);
    }

    fn is_empty(&self) -> bool {
        self.ip.is_empty() && self.unix.is_empty()
    }
}

/// The validated `probe` config.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// What to probe: hosts and ports.
    pub targets: Vec<TargetPorts>,
    /// What to probe: Unix sockets.
    pub unix: Vec<UnixAddr>,
    /// Scan, wait or latency.
    pub mode: Mode,
    /// What each attempt does.
    pub spec: AttemptSpec,
    /// Timeout per attempt.
    pub timeout: Duration,
    /// Extra attempts after a timeout.
    pub retries: u32,
    /// `-c`, when given.
    pub concurrency: Option<usize>,
    /// Which states to list.
    pub filter: StateFilter,
    /// JSON lines output.
    pub json: bool,
    /// `--any`: one open port is enough.
    pub any: bool,
    /// Scan controls: `--exclude`, `--exclude-ports`, `--random`, `--rate`.
    pub controls: ScanControls,
    /// `--prometheus`: the text exposition format instead of lines.
    pub prometheus: bool,
}

/// What takes targets out of a scan, and how it is paced.
#[derive(Debug, Clone, Default)]
pub struct ScanControls {
    /// Hosts, addresses and blocks left out.
    pub exclude: Vec<HostSpec>,
    /// Ports left out.
    pub exclude_ports: Vec<u16>,
    /// Hosts and ports in random order.
    pub random: bool,
    /// Most probes started per second.
    pub rate: Option<f64>,
}

impl ScanControls {
    fn from_args(args: &ProbeArgs) -> Result<ScanControls, Error> {
        let exclude = args
            .exclude
            .iter()
            .map(|word| {
                word.parse::<HostSpec>()
                    .map_err(|err| Error::usage(format!("--exclude '{word}': {err}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(ScanControls {
            exclude,
            exclude_ports: args
                .exclude_ports
                .as_ref()
                .map(PortSpec::ports)
                .unwrap_or_default(),
            random: args.random,
            rate: args.rate,
        })
    }
}

/// The words of `--targets-file` (`-`: stdin): each line's words, `#` to the end of a line a
/// comment. Each line is parsed on its own, so `HOST PORTS` works there as on the command line.
fn targets_file_lines(path: &std::path::Path) -> Result<Vec<Vec<String>>, Error> {
    let text = if path == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin().lock())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|err| {
        Error::usage(format!(
            "cannot read --targets-file {}: {err}",
            path.display()
        ))
    })?;
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .map(|line| {
            line.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty())
        .collect())
}

impl ProbeConfig {
    /// Validates the arguments; every error here is a usage error (exit 2).
    pub fn from_args(args: ProbeArgs) -> Result<ProbeConfig, Error> {
        let mut targets =
            parse_targets(&args.targets, args.ports.as_ref(), args.unix).map_err(Error::usage)?;
        if let Some(path) = &args.targets_file {
            for (index, words) in targets_file_lines(path)?.iter().enumerate() {
                let more = parse_targets(words, args.ports.as_ref(), args.unix).map_err(|err| {
                    Error::usage(format!("{} line {}: {err}", path.display(), index + 1))
                })?;
                targets.extend(more);
            }
            if targets.is_empty() {
                return Err(Error::usage(format!("{}: no targets", path.display())));
            }
        }
        check_unix_flags(&args, &targets)?;
        let controls = ScanControls::from_args(&args)?;
        let proto = if args.udp { Proto::Udp } else { Proto::Tcp };
        if args.banner && args.udp {
            return Err(Error::usage("--banner works with TCP only"));
        }
        if args.timeout.is_zero() {
            return Err(Error::usage("--timeout must be longer than 0"));
        }
        let payload = match &args.payload {
            Some(text) => {
                Some(unescape(text).map_err(|err| Error::usage(format!("--payload: {err}")))?)
            }
            None => None,
        };
        if let Some(payload) = payload.as_ref().filter(|p| p.len() > MAX_UDP_PAYLOAD) {
            return Err(Error::usage(format!(
                "--payload is {} bytes; a UDP datagram holds at most {MAX_UDP_PAYLOAD}",
                payload.len()
            )));
        }
        let check = check_from_args(&args)?;
        if args.tls.enabled() && args.udp {
            return Err(Error::usage("--tls works with TCP only (no DTLS)"));
        }
        if args.tls.enabled() && args.banner {
            return Err(Error::usage(
                "--banner reads what a plaintext service says first; with --tls there is none",
            ));
        }
        let tls = ProbeTls::from_args(&args.tls, args.min_days)?.map(Arc::new);
        if check.is_some() && args.udp {
            return Err(Error::usage(
                "--send, --expect and --http check TCP services; they do not work with -u",
            ));
        }
        let filter = match &args.state {
            Some(text) => StateFilter::parse(text).map_err(Error::usage)?,
            None => StateFilter::Auto,
        };
        let mode = match (args.wait, args.count) {
            (Some(limit), _) => Mode::Wait {
                limit,
                interval: args.interval.unwrap_or(Duration::from_millis(250)),
                command: args.command,
            },
            (None, Some(count)) => Mode::Latency {
                count: (count > 0).then_some(count),
                interval: args.interval.unwrap_or(Duration::from_secs(1)),
            },
            (None, None) => Mode::Scan,
        };
        Ok(ProbeConfig {
            targets: targets.ip,
            unix: targets.unix,
            mode,
            spec: AttemptSpec {
                proto,
                payload,
                banner: args.banner,
                reset_on_close: false,
                check: check.map(Arc::new),
                tls,
            },
            timeout: args.timeout,
            retries: args.retries,
            concurrency: args.concurrency.map(|n| n as usize),
            filter,
            json: args.json,
            any: args.any,
            controls,
            prometheus: args.prometheus,
        })
    }
}

/// Flags that do not apply to a Unix socket target: exit 2 rather than ignored.
fn check_unix_flags(args: &ProbeArgs, targets: &Targets) -> Result<(), Error> {
    let Some(first) = targets.unix.first() else {
        return Ok(());
    };
    let (flag, hint) = if args.tls.enabled() {
        (
            "--tls/--starttls",
            "TLS checks are for TCP ports; connect --tls speaks TLS over a Unix socket",
        )
    } else if args.ports.is_some() && targets.ip.is_empty() {
        ("-p", "a Unix socket has no ports: drop -p")
    } else if args.payload.is_some() && targets.ip.is_empty() {
        (
            "--payload",
            "-u with a Unix socket only connects (nothing is sent): drop --payload",
        )
    } else {
        return Ok(());
    };
    Err(Error::usage(format!("{flag} does not apply to a Unix socket ({first})")).with_hint(hint))
}

/// The application check the arguments ask for, if any.
fn check_from_args(args: &ProbeArgs) -> Result<Option<Check>, Error> {
    if let Some(path) = &args.http {
        if !path.starts_with('/')
            || path
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(Error::usage(format!(
                "--http: '{}' is not a request path (it starts with / and has no spaces)",
                crate::output::escape::quote_arg(path)
            ))
            .with_hint("write the target apart from --http: `sockx probe web:80 --http` or `--http /health web:80`"));
        }
        let statuses = match &args.http_status {
            Some(text) => text
                .parse()
                .map_err(|err| Error::usage(format!("--http-status: {err}")))?,
            None => Default::default(),
        };
        return Ok(Some(Check::new(CheckKind::Http {
            path: path.clone(),
            statuses,
        })));
    }
    if args.send.is_none() && args.expect.is_none() {
        return Ok(None);
    }
    let send = match &args.send {
        Some(text) => unescape(text).map_err(|err| Error::usage(format!("--send: {err}")))?,
        None => Vec::new(),
    };
    let expect = match &args.expect {
        Some(pattern) => Some(
            regex::bytes::Regex::new(pattern)
                .map_err(|err| Error::usage(format!("--expect: invalid regex: {err}")))?,
        ),
        None => None,
    };
    Ok(Some(Check::new(CheckKind::Expect { send, expect })))
}

/// Parses the positional words: `HOST:PORTS`, `[v6]:PORTS`, `CIDR:PORTS`, `HOST` (ports from
/// `-p`), the netcat form `HOST PORTS` (a word of digits, commas and dashes, or without
/// `-p` also service names, after a host named without ports), and Unix sockets
/// (`unix:PATH`, `unix:@NAME`, a path; every word with `-U`).
pub fn parse_targets(
    words: &[String],
    default_ports: Option<&PortSpec>,
    unix: bool,
) -> Result<Targets, String> {
    let mut parsed: Vec<(Target, bool)> = Vec::new();
    let mut sockets = Vec::new();
    for word in words {
        if let Some(socket) = unix_target(word, unix) {
            sockets.push(socket?);
            continue;
        }
        // Service names count too (`127.0.0.1 ssh`, as nc takes them), but only without -p:
        // with -p, every bare word is a host.
        let looks_like_ports = !word.is_empty()
            && (word
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b',' || b == b'-')
                || (default_ports.is_none() && word.parse::<PortSpec>().is_ok()));
        if looks_like_ports
            && let Some((target, netcat_ports)) = parsed.last_mut()
            && target.ports.is_none()
            && !*netcat_ports
        {
            target.ports = Some(word.parse()?);
            *netcat_ports = true;
            continue;
        }
        let target: Target = word
            .parse()
            .map_err(|err| format!("invalid target '{}': {err}", quote_arg(word)))?;
        parsed.push((target, false));
    }
    let ip = parsed
        .into_iter()
        .map(|(target, _)| {
            let spec = target.ports.as_ref().or(default_ports).ok_or_else(|| {
                // `::1:80` is a valid IPv6 address: say how to attach a port to one.
                let form = match &target.hosts {
                    HostSpec::Host(Host::Ip(IpAddr::V6(_))) => "[IPv6]:PORTS",
                    _ => "HOST:PORTS",
                };
                let target = quote_arg(&target.to_string());
                format!("no ports for '{target}': write {form} or use -p PORTS")
            })?;
            Ok(TargetPorts {
                hosts: target.hosts,
                ports: spec.ports(),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Targets { ip, unix: sockets })
}

/// `word` as a Unix socket target: `unix:…`, every word with `-U`, or a word with a `/`
/// that is not a CIDR block (whose part before the `/` is an IP address).
fn unix_target(word: &str, forced: bool) -> Option<Result<UnixAddr, String>> {
    let block = word
        .split_once('/')
        .is_some_and(|(head, _)| head.trim_matches(['[', ']']).parse::<IpAddr>().is_ok());
    if block && !forced {
        return None;
    }
    UnixAddr::parse(word, forced)
        .map(|parsed| parsed.map_err(|err| format!("invalid target '{}': {err}", quote_arg(word))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn targets_in_every_form() {
        let spec: PortSpec = "22,80".parse().unwrap();
        let targets = parse_targets(
            &words(&[
                "127.0.0.1:1-3",
                "::1",
                "localhost",
                "8080",
                "10.0.0.0/30:ssh",
            ]),
            Some(&spec),
            false,
        )
        .unwrap()
        .ip;
        assert_eq!(targets.len(), 4);
        assert_eq!(targets[0].ports, vec![1, 2, 3]);
        assert_eq!(targets[1].ports, vec![22, 80]);
        assert_eq!(targets[2].ports, vec![8080]);
        assert!(matches!(targets[3].hosts, HostSpec::Block(_)));
        assert_eq!(targets[3].ports, vec![22]);

        let netcat = parse_targets(&words(&["127.0.0.1", "ssh,http"]), None, false)
            .unwrap()
            .ip;
        assert_eq!(netcat.len(), 1);
        assert_eq!(netcat[0].ports, vec![22, 80]);
    }

    #[test]
    fn malformed_targets_are_rejected() {
        for bad in [
            &["127.0.0.1:0"][..],
            &["127.0.0.1:65536"],
            &["127.0.0.1:90-80"],
            &["127.0.0.1:nosuchservice"],
            &["bad host:80"],
            &["127.0.0.1"],
            &["127.0.0.1", "0"],
            &["10.0.0.0/33:80"],
            &["[::1:80"],
        ] {
            assert!(
                parse_targets(&words(bad), None, false).is_err(),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn unix_sockets_beside_hosts() {
        let targets = parse_targets(
            &words(&[
                "unix:/run/app.sock",
                "127.0.0.1:80",
                "./app.sock",
                "unix:@name",
                "10.0.0.0/30:ssh",
            ]),
            None,
            false,
        )
        .unwrap();
        assert_eq!(targets.ip.len(), 2);
        assert_eq!(
            targets.unix,
            vec![
                UnixAddr::Path("/run/app.sock".into()),
                UnixAddr::Path("./app.sock".into()),
                UnixAddr::Abstract(b"name".to_vec()),
            ]
        );
        let forced = parse_targets(&words(&["app.sock"]), None, true).unwrap();
        assert_eq!(forced.unix, vec![UnixAddr::Path("app.sock".into())]);
        assert!(parse_targets(&words(&["unix:"]), None, false).is_err());
    }

    #[test]
    fn the_auto_filter_follows_the_32_rule() {
        let auto = StateFilter::Auto;
        assert!(auto.shows(PortState::Closed, 32));
        assert!(!auto.shows(PortState::Closed, 33));
        assert!(auto.shows(PortState::Open, 65535));
        let only = StateFilter::parse("closed,filtered").unwrap();
        assert!(only.shows(PortState::Closed, 65535));
        assert!(!only.shows(PortState::Open, 1));
        assert_eq!(
            StateFilter::parse("all").unwrap(),
            StateFilter::Only(PortState::ALL.to_vec())
        );
        assert!(StateFilter::parse("opened").is_err());
    }
}
