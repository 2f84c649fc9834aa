//! `sockx completions SHELL`: the completion script, generated from the CLI definition.

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
