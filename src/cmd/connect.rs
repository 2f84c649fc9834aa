//! `sockx connect`: connect to a peer and relay stdin/stdout.

use crate::cli::ConnectArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};

/// Runs `sockx connect`.
pub fn run(_args: ConnectArgs, _context: &Context) -> anyhow::Result<Status> {
    Err(Error::failure("connect is being built").into())
}
