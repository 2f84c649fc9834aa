//! `sockx connect` arguments.

use std::time::Duration;

use clap::Args;

use super::TlsArgs;
use crate::net::proxy::ProxySpec;
use crate::net::{Host, parse_duration, parse_port, parse_timeout};

/// Connect to a peer and relay stdin to it and its replies to stdout.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sockx connect example.com:80 --send 'GET / HTTP/1.0\\r\\n\\r\\n'\n  sockx connect localhost 9000 < file        send a file\n  sockx connect --retry 30s db:5432           wait for a server that is still starting\n  sockx connect -u 127.0.0.1:53 --send '...'  UDP: print the replies\n  sockx connect /run/docker.sock --send 'GET /_ping HTTP/1.0\\r\\n\\r\\n'\n  sockx connect --proxy socks5h://127.0.0.1:1080 db.internal:5432\n  sockx connect --tls example.com:443 --send 'GET / HTTP/1.0\\r\\nHost: example.com\\r\\n\\r\\n'\n  sockx connect --tls --pin AB:CD:... 127.0.0.1:8443   a self-signed server, pinned\n  sockx connect --starttls smtp mail.example.com:587   SMTP, upgraded to TLS\n\nEnd of session: the peer's FIN ends its direction (stdout is then closed), stdin's EOF\nhalf-closes ours; the session ends when both have ended, or with the peer alone when stdin is\na terminal or with --recv-only. Over TLS, stdin's EOF sends close_notify and then the FIN.\n\nExit status: 0 when the session ended normally (both directions ended, or --idle-timeout passed),\n1 on refused, timed out, unreachable or unresolvable peers, on a connection reset by the\npeer and on a failed TLS handshake or verification, 2 on invalid usage, 130 on Ctrl-C."
)]
pub struct ConnectArgs {
    /// The peer: HOST:PORT, [IPv6]:PORT, HOST PORT, unix:PATH, unix:@NAME, or a path
    #[arg(value_name = "PEER", num_args = 1..=2, required = true)]
    pub peer: Vec<String>,

    /// Connect timeout per attempt
    #[arg(short = 'w', long, value_name = "DUR", value_parser = parse_timeout, default_value = "10s")]
    pub timeout: Duration,

    /// Exit after DUR without traffic (UDP default: 2s)
    #[arg(short, long, value_name = "DUR", value_parser = parse_timeout)]
    pub idle_timeout: Option<Duration>,

    /// Keep retrying a refused or timed-out connect until DUR has passed
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub retry: Option<Duration>,

    /// Send DATA instead of reading stdin, then half-close and print the reply (repeatable;
    /// escapes \r \n \t \0 \\ \xHH)
    #[arg(long, value_name = "DATA")]
    pub send: Vec<String>,

    /// Keep the write side open after stdin EOF
    #[arg(long)]
    pub no_shutdown: bool,

    /// Never read stdin: only print what the peer sends; the session ends when the peer is done
    /// (without it, a session whose stdin is not a terminal lasts until stdin ends too)
    #[arg(long, conflicts_with = "send")]
    pub recv_only: bool,

    /// UDP instead of TCP (with a Unix address: a datagram socket, replies come back to a
    /// socket of its own)
    #[arg(short, long)]
    pub udp: bool,

    /// Read PEER as a Unix socket path
    #[arg(short = 'U', long)]
    pub unix: bool,

    /// Local address to send from
    #[arg(short, long, value_name = "ADDR")]
    pub source: Option<Host>,

    /// Local port to send from
    #[arg(short = 'p', long, value_name = "PORT", value_parser = parse_port)]
    pub source_port: Option<u16>,

    /// Send line endings from stdin as CRLF
    #[arg(short = 'C', long)]
    pub crlf: bool,

    /// Hex dump of the traffic on stderr
    #[arg(long)]
    pub hex: bool,

    /// Disable Nagle's algorithm (TCP_NODELAY)
    #[arg(long)]
    pub nodelay: bool,

    /// Allow sending to broadcast addresses (SO_BROADCAST)
    #[arg(long)]
    pub broadcast: bool,

    /// Reach the peer through a proxy: socks5://[USER:PASS@]HOST:PORT (names resolved here),
    /// socks5h:// (names resolved by the proxy), socks4://, socks4a://, or
    /// http://[USER:PASS@]HOST:PORT (HTTP CONNECT); default port 1080 (SOCKS), 3128 (HTTP)
    #[arg(long, value_name = "URL", conflicts_with = "udp")]
    pub proxy: Option<ProxySpec>,

    /// TLS: the handshake, then the relay through the session
    #[command(flatten)]
    pub tls: TlsArgs,
}
