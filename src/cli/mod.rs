//! The command line, clap derive only. Value parsers come from `net`, so that bad input fails
//! at parse time with exit 2.

mod connect;
mod listen;
mod ports;
mod probe;
mod tls;

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};

use crate::output::ColorChoice;

pub use connect::ConnectArgs;
pub use listen::ListenArgs;
pub use ports::{GroupBy, PortFilter, PortsArgs};
pub use probe::ProbeArgs;
pub use tls::{ServeTlsArgs, TlsArgs};

/// Parses the command line of this process ([`parse_from`]).
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// Parses a command line (program name first). The one reading clap cannot do alone:
/// `probe --http TARGET` is a TARGET after a bare `--http`
/// ([`probe::http_flag_before_target`]).
pub fn parse_from(args: impl IntoIterator<Item = impl Into<OsString>>) -> Result<Cli, clap::Error> {
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if let Some(flag) = probe::http_flag_before_target(&args) {
        args[flag] = OsString::from("--http=/");
    }
    Cli::try_parse_from(args)
}

/// Network diagnostics in one binary: netcat-style listen/connect, which process holds which
/// port, and a port prober.
#[derive(Debug, Parser)]
#[command(
    name = "sockx",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
#[command(
    after_help = "Examples:\n  sockx listen 9000                 serve one connection on port 9000\n  sockx ports 8080                  who holds port 8080\n  sockx probe 127.0.0.1:22,80,443   are these ports open?\n  sockx probe --wait 30s localhost:5432 -- ./migrate\n  sockx help probe                  more about a subcommand\n\nDurations (-w, -t, --wait, ...): 250ms, 2s, 1m30s, or a number of seconds; at most 365 days.\n\nExit codes: 0 success, 1 negative answer or network failure, 2 invalid usage, 130 interrupted\n(Ctrl-C)."
)]
pub struct Cli {
    /// Options every subcommand takes.
    #[command(flatten, next_help_heading = "Global options")]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options common to every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Diagnostics on stderr (connections, addresses, byte counts, timings)
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Nothing on stderr but errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// IPv4 only
    #[arg(short = '4', global = true, conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// IPv6 only
    #[arg(short = '6', global = true)]
    pub ipv6: bool,

    /// When to use colour
    #[arg(long, value_name = "WHEN", value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Listen for a connection and relay it to stdin/stdout (like nc -l)
    #[command(visible_alias = "l")]
    Listen(ListenArgs),

    /// Connect to a peer and relay stdin/stdout (like nc HOST PORT)
    #[command(visible_alias = "c")]
    Connect(ConnectArgs),

    /// Which process holds which port (like ss -tulnp, lsof -i, fuser)
    #[command(visible_alias = "p")]
    Ports(PortsArgs),

    /// Is it open? Scan, wait for, or time TCP and UDP ports
    Probe(Box<ProbeArgs>),

    /// Print the completion script for a shell
    #[command(
        after_help = "Examples:\n  sockx completions bash > ~/.local/share/bash-completion/completions/sockx\n  sockx completions zsh > ~/.zfunc/_sockx\n  sockx completions fish > ~/.config/fish/completions/sockx.fish"
    )]
    Completions(CompletionsArgs),

    /// Print a man page (roff), or write every page into a directory
    #[command(hide = true)]
    Manpage(ManpageArgs),
}

/// `sockx completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `sockx manpage [SUBCOMMAND]`, `sockx manpage --out-dir DIR` (hidden; for packagers).
#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// The subcommand whose page to print [default: the page of sockx itself]
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "out_dir")]
    pub page: Option<String>,

    /// Write every page (sockx.1 and one sockx-SUBCOMMAND.1 per subcommand) into DIR
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<std::path::PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    /// `probe`'s targets and `--http` path as parsed from `words` (after `sockx probe`).
    fn probe_http(words: &[&str]) -> (Vec<String>, Option<String>) {
        let args = ["sockx", "probe"].iter().chain(words);
        match parse_from(args).expect("parses").command {
            Command::Probe(probe) => (probe.targets, probe.http),
            other => panic!("not probe: {other:?}"),
        }
    }

    #[test]
    fn a_target_right_after_http_is_a_target() {
        let targets = |list: &[&str]| list.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let root = Some("/".to_string());
        assert_eq!(
            probe_http(&["--http", "web:80"]),
            (targets(&["web:80"]), root.clone())
        );
        assert_eq!(
            probe_http(&["a:1", "--http", "b:2", "c:3", "-t", "2s"]),
            (targets(&["a:1", "b:2", "c:3"]), root.clone())
        );
        assert_eq!(
            probe_http(&["-v", "--http", "./app.sock", "--json"]),
            (targets(&["./app.sock"]), root.clone())
        );
        assert_eq!(
            probe_http(&["web:80", "--http"]),
            (targets(&["web:80"]), root)
        );
        assert_eq!(
            probe_http(&["--http", "/health", "web:80"]),
            (targets(&["web:80"]), Some("/health".to_string()))
        );
        // Written with `=`, the word is the path (refused later as not starting with /).
        assert_eq!(
            probe_http(&["--http=web:80", "db:5432"]),
            (targets(&["db:5432"]), Some("web:80".to_string()))
        );
        // After `--`, the words are the command's.
        let (_, http) = probe_http(&[
            "--wait", "1s", "--http", "/", "web:80", "--", "x", "--http", "y",
        ]);
        assert_eq!(http, Some("/".to_string()));
    }

    #[test]
    fn a_path_after_http_still_needs_a_target() {
        let err = parse_from(["sockx", "probe", "--http", "/health"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
