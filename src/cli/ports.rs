//! `sockx ports` arguments.

use std::time::Duration;

use clap::Args;

use crate::net::{PortRange, SocketState, parse_duration};

/// Which process holds which port. Listening TCP and bound UDP sockets by default.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sockx ports                 every listening socket and its owner\n  sockx ports 8080            who holds port 8080\n  sockx ports 8000-8100 -t    TCP listeners in a range\n  sockx ports -a --state established --process nginx\n  sockx ports --exposed       reachable from other hosts\n  sockx ports 8080 --kill     stop whatever holds 8080\n  sockx ports -a --by remote 443   who is connected to my 443, and how often\n  sockx ports -r 192.0.2.10:5432   which process talks to that server\n  sockx ports -a -i 443       RTT, retransmits and queues of each connection\n  sockx ports --watch         a line for each listener that comes or goes\n  sockx ports /run/docker.sock     who holds that Unix socket (-x: every Unix listener)\n  sockx ports -a /run/docker.sock  who is connected to it (PEER: the process on the other end)\n\nExit status: 0 when a socket matched, 1 when none did, 2 on invalid usage, 130 on Ctrl-C\n(--watch runs until then; the --kill prompt)."
)]
pub struct PortsArgs {
    /// Ports or ranges to show: 8080, :8080, 8000-8100; or a Unix socket's PATH (any argument
    /// with a `/`, or unix:PATH) or @NAME (abstract), which implies --unix
    #[arg(value_name = "PORT|RANGE|PATH", value_parser = parse_port_filter)]
    pub ports: Vec<PortFilter>,

    /// Unix-domain sockets instead of TCP and UDP (with --all, connected ones and their peers)
    #[arg(short = 'x', long)]
    pub unix: bool,

    /// TCP sockets only
    #[arg(short, long)]
    pub tcp: bool,

    /// UDP sockets only
    #[arg(short, long)]
    pub udp: bool,

    /// Every socket in every TCP state, connected UDP sockets too
    #[arg(short, long)]
    pub all: bool,

    /// Only sockets in this TCP state (repeatable; implies --all), e.g. established, time-wait
    #[arg(long, value_name = "STATE")]
    pub state: Vec<SocketState>,

    /// Only sockets owned by this process ID
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,

    /// Only sockets whose process name or command line contains NAME
    #[arg(long, value_name = "NAME")]
    pub process: Option<String>,

    /// Only sockets owned by this user (name or UID)
    #[arg(long, value_name = "USER|UID")]
    pub user: Option<String>,

    /// Only sockets bound to a non-loopback address (reachable from other hosts)
    #[arg(long)]
    pub exposed: bool,

    /// Only sockets whose remote end matches: ports (5432, 5000-6000), an address
    /// (192.0.2.10, 192.0.2.10:5432, [::1]:5432) or a CIDR block (repeatable; implies --all)
    #[arg(short, long, value_name = "PORTS|ADDR|CIDR")]
    pub remote: Vec<String>,

    /// One row per distinct KEY with its COUNT, largest first, instead of one per socket
    /// (remote implies --all)
    #[arg(long, value_name = "KEY", value_enum, conflicts_with = "kill")]
    pub by: Option<GroupBy>,

    /// JSON lines on stdout, one object per socket
    #[arg(long)]
    pub json: bool,

    /// Send a signal to the owners of the matched sockets (asks first on a terminal; needs
    /// --yes without one; never PID 1)
    #[arg(long)]
    pub kill: bool,

    /// The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number
    #[arg(long, value_name = "SIG", default_value = "TERM", requires = "kill")]
    pub signal: String,

    /// With --kill: do not ask for confirmation
    #[arg(short, long, requires = "kill")]
    pub yes: bool,

    /// TCP internals of each TCP socket, as `ss -ti`: RTT, RTTVAR (ms), CWND, RETRANS, SEND-Q,
    /// RECV-Q (for a listener: the accept backlog and its limit)
    #[arg(short, long, conflicts_with = "by")]
    pub info: bool,

    /// Print the matching sockets, then a line for each one that appears or goes away, until
    /// Ctrl-C
    #[arg(long, conflicts_with_all = ["kill", "by"])]
    pub watch: bool,

    /// How often --watch looks: 200ms, 2s, ...
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "1s", requires = "watch")]
    pub interval: Duration,
}

/// What `--by` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    /// The processes holding the sockets (PID and name)
    Process,
    /// The remote address (not address and port)
    Remote,
    /// The local port
    Port,
    /// The socket state
    State,
}

/// A positional filter: local ports, or a Unix socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortFilter {
    /// `8080`, `:8080`, `8000-8100`.
    Ports(PortRange),
    /// A socket path (`/run/x.sock`, `./x.sock`, `unix:x.sock`).
    UnixPath(std::path::PathBuf),
    /// An abstract name, without the `@`.
    UnixAbstract(String),
}

/// `8080`, `:8080` or `8000-8100`; a path (with a `/`, or `unix:PATH`) or `@name`.
fn parse_port_filter(text: &str) -> Result<PortFilter, String> {
    let unix = text.strip_prefix("unix:");
    let name = unix.unwrap_or(text);
    if let Some(abstract_name) = name.strip_prefix('@') {
        if abstract_name.is_empty() {
            return Err("an abstract Unix socket needs a name (@NAME)".to_string());
        }
        return Ok(PortFilter::UnixAbstract(abstract_name.to_string()));
    }
    if unix.is_some() || text.contains('/') {
        if name.is_empty() {
            return Err("a Unix socket path must not be empty".to_string());
        }
        return Ok(PortFilter::UnixPath(name.into()));
    }
    text.strip_prefix(':')
        .unwrap_or(text)
        .parse()
        .map(PortFilter::Ports)
}

impl PortFilter {
    /// The port range, for a port filter.
    pub fn into_ports(self) -> Option<PortRange> {
        match self {
            PortFilter::Ports(range) => Some(range),
            _ => None,
        }
    }

    /// Whether it names a Unix socket (and so implies `--unix`).
    pub fn is_unix(&self) -> bool {
        !matches!(self, PortFilter::Ports(_))
    }
}
