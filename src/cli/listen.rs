//! `sockx listen` arguments.

use std::time::Duration;

use clap::Args;

use super::ServeTlsArgs;
use crate::net::{Cidr, parse_timeout};

/// Serve one connection (or many with -k), relaying between the peer and stdin/stdout.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sockx listen 9000                     one connection on every interface, port 9000\n  sockx listen 127.0.0.1:0              a free port; stderr says which\n  sockx listen -k --echo 7000           an echo server for many clients\n  sockx listen -k -e 'cat /etc/motd' 2323\n  sockx listen -u 5353                  print datagrams\n  sockx listen 9000 > file              receive a file\n  sockx listen unix:/tmp/app.sock       a Unix stream socket (removed at exit)\n  sockx listen -k --sh-exec 'echo \"hello uid $SOCKX_PEER_UID\"' unix:/tmp/app.sock\n  sockx listen -u unix:/tmp/log.sock    a Unix datagram socket\n  sockx listen --tls -k --echo 8443     a TLS echo server (self-signed; stderr gives its sha256)\n  sockx listen --tls --cert c.pem --key k.pem 443   with your certificate\n  sockx listen -k 8080 --forward 127.0.0.1:80            a port forwarder\n  sockx listen -k 2375 --forward unix:/run/docker.sock   a Unix socket on a TCP port\n\nEnd of session: the peer's FIN ends its direction (stdout is then closed), stdin's EOF\nhalf-closes ours; the session ends when both have ended, or with the peer alone when stdin is\na terminal or with --recv-only. With -k the same holds per client; a client that takes no\npending stdin for 5s is disconnected.\n\nReady signal: once listening, stderr gets one line 'listening on ADDR (tcp|udp|tls|unix|unix-dgram)';\nwith --tls and no --cert, the line 'tls certificate sha256 FINGERPRINT (self-signed for\nNAMES)' comes before it.\n\nExit status: 0 when the session ended normally, 1 when the address cannot be bound or the\nconnection fails (reset by the peer), 2 on invalid usage, 130 on Ctrl-C; with --exec and\nwithout -k, the command's exit status; with --forward and without -k, 1 when the target cannot\nbe reached or a side was reset."
)]
pub struct ListenArgs {
    /// Where to listen: [HOST:]PORT, [IPv6]:PORT, HOST PORT, unix:PATH or unix:@NAME; port 0
    /// picks a free port
    #[arg(value_name = "ADDR", num_args = 1..=2, required = true)]
    pub addr: Vec<String>,

    /// Keep accepting connections and serve them concurrently
    #[arg(short, long)]
    pub keep_open: bool,

    /// Never read stdin: only print what the peer sends; the session ends when the peer is done
    /// (without it, a session whose stdin is not a terminal lasts until stdin ends too)
    #[arg(long)]
    pub recv_only: bool,

    /// Send every byte back to its sender
    #[arg(long, conflicts_with_all = ["exec", "sh_exec"])]
    pub echo: bool,

    /// Run CMD for each connection with the connection as its stdin and stdout (no shell)
    #[arg(short, long, value_name = "CMD", conflicts_with = "sh_exec")]
    pub exec: Option<String>,

    /// Run CMD through /bin/sh -c for each connection
    #[arg(long, value_name = "CMD")]
    pub sh_exec: Option<String>,

    /// At most N connections at once; the rest are closed at once
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_conns: Option<u32>,

    /// Accept only peers in this block (repeatable)
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<Cidr>,

    /// Refuse peers in this block (repeatable)
    #[arg(long, value_name = "CIDR")]
    pub deny: Vec<Cidr>,

    /// UDP instead of TCP (with a Unix address: a datagram socket)
    #[arg(short, long)]
    pub udp: bool,

    /// Close a connection after DUR without traffic
    #[arg(short = 'w', long, value_name = "DUR", value_parser = parse_timeout)]
    pub idle_timeout: Option<Duration>,

    /// Hex dump of the traffic on stderr
    #[arg(long)]
    pub hex: bool,

    /// Send line endings from stdin as CRLF
    #[arg(short = 'C', long)]
    pub crlf: bool,

    /// Allow sending to broadcast addresses (SO_BROADCAST)
    #[arg(long)]
    pub broadcast: bool,

    /// Share the port with other sockets (SO_REUSEPORT)
    #[arg(long)]
    pub reuseport: bool,

    /// Read ADDR as a Unix socket path
    #[arg(short = 'U', long)]
    pub unix: bool,

    /// Connect each accepted connection to TARGET (HOST:PORT or a Unix address; with -u, each
    /// client address to HOST:PORT over UDP) and relay both ways; stdin is not read
    #[arg(
        long,
        value_name = "TARGET",
        conflicts_with_all = ["echo", "exec", "sh_exec", "crlf"],
        help_heading = "Forwarding"
    )]
    pub forward: Option<String>,

    /// Speak TLS to the --forward target (verified as connect --tls verifies)
    #[arg(long, requires = "forward", help_heading = "Forwarding")]
    pub forward_tls: bool,

    /// Server name sent to and verified for the --forward target [default: its host name]
    #[arg(
        long,
        value_name = "NAME",
        requires = "forward_tls",
        help_heading = "Forwarding"
    )]
    pub forward_sni: Option<String>,

    /// Trust the PEM certificates in FILE for the --forward target
    #[arg(
        long,
        value_name = "FILE",
        requires = "forward_tls",
        help_heading = "Forwarding"
    )]
    pub forward_ca: Option<std::path::PathBuf>,

    /// Do not verify the --forward target's certificate (what failed is said with -v)
    #[arg(long, requires = "forward_tls", help_heading = "Forwarding")]
    pub forward_insecure: bool,

    /// Accept only the --forward target certificate with this SHA-256 fingerprint
    #[arg(
        long,
        value_name = "FINGERPRINT",
        requires = "forward_tls",
        help_heading = "Forwarding"
    )]
    pub forward_pin: Option<String>,

    /// Permissions of the Unix socket file (octal, e.g. 660)
    #[arg(long, value_name = "OCTAL", value_parser = parse_mode)]
    pub unix_mode: Option<u32>,

    /// `--tls` and its flags.
    #[command(flatten)]
    pub tls: ServeTlsArgs,
}

/// An octal file mode such as `660` or `0600`.
fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|mode| *mode <= 0o7777)
        .ok_or_else(|| format!("'{text}' is not an octal file mode (e.g. 660)"))
}
