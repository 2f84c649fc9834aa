//! `sockx probe` arguments.

use std::time::Duration;

use std::ffi::OsString;

use clap::{Args, CommandFactory};

use super::TlsArgs;
use crate::net::{PortSpec, parse_timeout};

/// Is it open? Scan, wait for, or time TCP (and UDP) ports.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sockx probe 127.0.0.1:22,80,443          three ports\n  sockx probe db.internal -p 5432 -t 300ms  one port, short timeout\n  sockx probe 127.0.0.1 -p all             every port (only open ones are listed)\n  sockx probe 192.0.2.0/29:ssh --any       is ssh open anywhere in the block?\n  sockx probe --wait 30s db:5432 cache:6379 -- ./migrate   wait for both, then run\n  sockx probe --count 10 web:443           connect latency, 10 attempts\n  sockx probe --wait 30s redis:6379 --send 'PING\\r\\n' --expect '^\\+PONG'   ready, not just open\n  sockx probe --wait 1m web:8080 --http /health           until /health answers 2xx/3xx\n  sockx probe -u 127.0.0.1:53,123,161                    UDP, with a request per service\n  sockx probe --tls --min-days 14 web:443                 certificate valid 14 more days?\n  sockx probe --targets-file hosts.txt -p 22 --exclude 192.0.2.0/28   from a file\n  sockx probe 198.51.100.0/24:80 --random --rate 200   shuffled, 200 probes/s\n  sockx probe db:5432 --prometheus > sockx.prom    for node_exporter's textfile collector\n  sockx probe unix:/run/docker.sock --http /_ping  a Unix socket, and an HTTP check over it\n\nStates: open (syn-ack), closed (conn-refused), filtered (timeout, host-unreach, ...);\nUDP: open (udp-response), closed (port-unreach), open|filtered (no-response);\nUnix: open (connected), closed (conn-refused, no-such-file, not-a-socket, wrong-type:\na datagram socket probed without -u, or a stream socket with it), filtered\n(permission-denied, timeout: the accept queue stayed full).\n\nExit status: 0 when every probed port is open and passes its check (--any: at least one),\n1 otherwise, 2 on invalid usage, 130 on Ctrl-C (after the summary);\nwith --wait -- CMD, the command's exit status."
)]
pub struct ProbeArgs {
    /// What to probe: HOST:PORTS, [IPv6]:PORTS, CIDR:PORTS, HOST (with -p), HOST PORTS, or a
    /// Unix socket: unix:PATH, unix:@NAME, or a path
    #[arg(value_name = "TARGET", required_unless_present = "targets_file")]
    pub targets: Vec<String>,

    /// Read every TARGET as a Unix socket path (as nc -U does)
    #[arg(short = 'U', long)]
    pub unix: bool,

    /// Ports for targets named without ports: 22,80,8000-8100, service names, or all
    #[arg(short, long, value_name = "PORTS", value_parser = parse_port_spec)]
    pub ports: Option<PortSpec>,

    /// Timeout per attempt
    #[arg(short, long, value_name = "DUR", value_parser = parse_timeout, default_value = "1s")]
    pub timeout: Duration,

    /// Extra attempts after a timeout (a refusal is final). Within one attempt the kernel
    /// already resends an unanswered SYN (after 1s, then 3s, ...)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,

    /// Probes in flight at once [default: from the open-file limit]
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,

    /// Which states to list: open, closed, filtered, open|filtered (comma list) or all
    /// [default: every port up to 32 probes, only open ones above]
    #[arg(long, value_name = "STATES")]
    pub state: Option<String>,

    /// JSON lines on stdout: one object per reported port
    #[arg(long)]
    pub json: bool,

    /// After connecting, read what the service says first (up to 1 KiB) and show it escaped
    #[arg(long)]
    pub banner: bool,

    /// Succeed when at least one probed port is open (default: all of them)
    #[arg(long)]
    pub any: bool,

    /// Re-probe until every target is open or DUR has passed
    #[arg(long, value_name = "DUR", value_parser = parse_timeout, conflicts_with = "count")]
    pub wait: Option<Duration>,

    /// Time between rounds [default: 250ms with --wait, 1s with --count]
    #[arg(long, value_name = "DUR", value_parser = parse_timeout)]
    pub interval: Option<Duration>,

    /// Latency mode: N connects per target (0: until Ctrl-C), a line each and a summary; with
    /// a check, each attempt is timed to its passing reply
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// UDP instead of TCP (with a Unix target: a datagram socket)
    #[arg(short, long)]
    pub udp: bool,

    /// UDP datagram to send (escapes \r \n \t \0 \\ \xHH) [default: a request for the
    /// port's service (DNS, NTP, SNMP, NetBIOS, SSDP, mDNS, memcached), else empty]
    #[arg(long, value_name = "DATA", requires = "udp")]
    pub payload: Option<String>,

    /// Read targets from FILE (- for stdin): one TARGET a line, # starts a comment
    #[arg(long, value_name = "FILE", help_heading = "Scan controls")]
    pub targets_file: Option<std::path::PathBuf>,

    /// Leave out this host, address or CIDR block (repeatable)
    #[arg(long, value_name = "HOST|CIDR", conflicts_with_all = ["wait", "count"], help_heading = "Scan controls")]
    pub exclude: Vec<String>,

    /// Leave out these ports (same syntax as -p)
    #[arg(long, value_name = "PORTS", value_parser = parse_port_spec, conflicts_with_all = ["wait", "count"], help_heading = "Scan controls")]
    pub exclude_ports: Option<PortSpec>,

    /// Probe hosts and ports in random order
    #[arg(long, conflicts_with_all = ["wait", "count"], help_heading = "Scan controls")]
    pub random: bool,

    /// Start at most N probes per second, evenly spaced
    #[arg(long, value_name = "N", value_parser = parse_rate, help_heading = "Scan controls")]
    pub rate: Option<f64>,

    /// Prometheus text exposition format on stdout (node_exporter textfile collector,
    /// Pushgateway) instead of lines
    #[arg(long, conflicts_with_all = ["json", "count"])]
    pub prometheus: bool,

    /// Check every open TCP port: send DATA (escapes \r \n \t \0 \\ \xHH), then read the reply
    /// (with --expect: until it matches; without: any reply passes)
    #[arg(long, value_name = "DATA", conflicts_with = "http")]
    pub send: Option<String>,

    /// Check every open TCP port: the reply (or banner) must match REGEX, a bytes regex; read
    /// until a match, EOF, 64 KiB or the timeout
    #[arg(long, value_name = "REGEX", conflicts_with = "http")]
    pub expect: Option<String>,

    /// Check every open TCP port with an HTTP/1.1 GET of PATH, which starts with / (a word
    /// right after --http that does not is a TARGET) [default: /]
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "/")]
    pub http: Option<String>,

    /// Statuses that pass --http: codes, ranges and classes, e.g. 200,204,3xx,500-502
    /// [default: 200-399]
    #[arg(long, value_name = "LIST", requires = "http")]
    pub http_status: Option<String>,

    /// TLS: a handshake on every open TCP port, with the certificate's facts
    #[command(flatten)]
    pub tls: TlsArgs,

    /// With --tls: fail a certificate with fewer than N days left
    #[arg(long, value_name = "N", requires = "tls_on", help_heading = "TLS")]
    pub min_days: Option<u64>,

    /// With --wait: the command to run once every target is open; sockx exits with its status
    #[arg(last = true, value_name = "CMD", requires = "wait")]
    pub command: Vec<String>,
}

/// Where `probe --http TARGET` was written: the index in `args` of an `--http` whose own word
/// after it does not start with `/`. clap takes that word as the optional PATH, but a request
/// path starts with `/` (probe takes no `*` or absolute-form), so it is the next TARGET and the
/// path is `/`. `--http=WORD` stays a PATH, to be refused as one.
pub fn http_flag_before_target(args: &[OsString]) -> Option<usize> {
    // No option takes a value starting with `-`, so a word `--http` before `--` is the flag.
    let words = args.iter().take_while(|arg| *arg != "--");
    let mut flags = words.enumerate().filter(|(_, arg)| *arg == "--http");
    let (flag, _) = flags.next()?;
    if flags.next().is_some() {
        return None; // clap's own error says it
    }
    let word = args.get(flag + 1)?.to_str()?;
    if word.starts_with(['/', '-']) {
        return None;
    }
    // That it is probe's --http and clap took the word as its PATH: a first pass that
    // tolerates every error (a missing TARGET above all) only to find out; the real parse
    // comes after.
    let matches = super::Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(args)
        .ok()?;
    let ("probe", probe) = matches.subcommand()? else {
        return None;
    };
    let path = probe.try_get_one::<String>("http").ok()??;
    (path == word).then_some(flag)
}

fn parse_port_spec(text: &str) -> Result<PortSpec, String> {
    text.parse()
}

/// A probe rate: probes per second, from 0.001 (one every 1000 s) to 10,000,000; fractions
/// allowed (`0.5`).
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if (0.001..=10_000_000.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "'{}' is not a rate (probes per second, from 0.001 to 10000000)",
            crate::output::escape::quote_arg(text)
        )),
    }
}
