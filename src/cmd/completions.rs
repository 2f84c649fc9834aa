//! `sockx completions SHELL` and the hidden `sockx manpage`: generated from the CLI definition.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Status;

/// Prints the completion script for the shell.
pub fn run(args: CompletionsArgs) -> anyhow::Result<Status> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "sockx", &mut script);
    io::stdout().lock().write_all(&script)?;
    Ok(Status::Success)
}

/// Prints the man page in roff.
pub fn manpage() -> anyhow::Result<Status> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    io::stdout().lock().write_all(&page)?;
    Ok(Status::Success)
}
