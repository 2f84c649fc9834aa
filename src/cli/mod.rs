//! The command line, clap derive only. Value parsers come from `net`, so that bad input fails
//! at parse time with exit 2.

mod connect;
mod listen;
mod ports;
mod probe;
mod tls;

use clap::{Args, Parser, Subcommand};

use crate::output::ColorChoice;

pub use connect::ConnectArgs;
pub use listen::ListenArgs;
pub use ports::{GroupBy, PortFilter, PortsArgs};
pub use probe::ProbeArgs;
pub use tls::{ServeTlsArgs, TlsArgs};

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
}
