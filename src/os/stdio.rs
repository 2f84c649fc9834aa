//! This process's standard streams.

use std::fs::OpenOptions;
use std::io;

/// Closes stdout for its reader (a pipe's reader sees EOF) while the process goes on: fd 1
/// is pointed at `/dev/null`, so that nothing later written to it lands on a descriptor that
/// happens to reuse the number.
pub fn close_stdout() -> io::Result<()> {
    let null = OpenOptions::new().write(true).open("/dev/null")?;
    nix::unistd::dup2_stdout(&null)?;
    Ok(())
}
