//! sockx: network diagnostics in one binary.

mod cli;
mod cmd;
mod error;
mod net;
mod os;
mod output;

use std::process::ExitCode;

use clap::CommandFactory;

fn main() -> ExitCode {
    match cli::parse() {
        Ok(cli) => error::report(cmd::run(cli)),
        Err(err) => error::report_usage(&err, &cli::Cli::command()),
    }
}
