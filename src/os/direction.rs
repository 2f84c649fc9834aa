//! How one direction of a copy fails: on its reading side or its writing side. The splice
//! loop here and the relay's copy loops above it both report it, so it lives at the bottom.

use std::io;

/// A failure in one direction, on its reading or its writing side.
#[derive(Debug, thiserror::Error)]
pub enum PumpError {
    /// Reading the input failed.
    #[error("read failed")]
    Read(#[source] io::Error),
    /// Writing the output failed.
    #[error("write failed")]
    Write(#[source] io::Error),
}
