//! `sockx ports`: which process holds which port.

use crate::cli::PortsArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};

/// Runs `sockx ports`.
pub fn run(_args: PortsArgs, _context: &Context) -> anyhow::Result<Status> {
    Err(Error::failure("ports is being built").into())
}
