//! One module per subcommand; each turns its arguments into a validated config, then runs.

mod completions;
mod connect;
mod failure;
mod listen;
mod ports;
mod probe;
mod program;
mod tls_failure;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::Status;
use crate::net::Family;
use crate::output::{Colors, Verbosity};

/// What every subcommand needs from the global options.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// How much to say on stderr.
    pub verbosity: Verbosity,
    /// Whether stdout and stderr get colour.
    pub colors: Colors,
    /// `-4` / `-6`.
    pub family: Family,
}

impl Context {
    fn new(global: &GlobalArgs) -> Context {
        let verbosity = if global.quiet {
            Verbosity::Quiet
        } else if global.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        crate::output::notes::set_verbosity(verbosity);
        Context {
            verbosity,
            colors: Colors::decide(global.color),
            family: Family::from_flags(global.ipv4, global.ipv6),
        }
    }

    /// True with `-v`.
    pub fn verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// False with `-q`.
    pub fn chatty(&self) -> bool {
        self.verbosity >= Verbosity::Normal
    }
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<Status> {
    let context = Context::new(&cli.global);
    // Before any mode starts: from here on Ctrl-C is exit 130 unless a mode winds down itself.
    #[cfg(unix)]
    crate::os::interrupt::Interrupt::handler();
    match cli.command {
        Command::Listen(args) => listen::run(args, &context),
        Command::Connect(args) => connect::run(args, &context),
        Command::Ports(args) => ports::run(args, &context),
        Command::Probe(args) => probe::run(*args, &context),
        Command::Completions(args) => completions::run(args),
        Command::Manpage(args) => completions::manpage(args),
    }
}
