//! Every line for a person on stderr that is not an error goes through here, so that `-q` and
//! `-v` mean the same everywhere: [`ready`] and [`warn`] are silenced by `-q`, [`verbose`] needs
//! `-v`. The level is set once at start-up ([`set_verbosity`]); errors are `error.rs`'s.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

/// How much to say on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors only.
    Quiet,
    /// The default: errors, warnings and ready lines.
    Normal,
    /// `-v`: diagnostics too.
    Verbose,
}

static LEVEL: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Sets the level for the whole process (once, before any subcommand runs).
pub fn set_verbosity(verbosity: Verbosity) {
    LEVEL.store(verbosity as u8, Ordering::Relaxed);
}

/// The level in force.
#[allow(dead_code)]
pub fn verbosity() -> Verbosity {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// True with `-v`.
#[allow(dead_code)]
pub fn is_verbose() -> bool {
    verbosity() == Verbosity::Verbose
}

/// False with `-q`.
pub fn is_chatty() -> bool {
    verbosity() >= Verbosity::Normal
}

/// A line that is part of the normal conversation (the ready line, a summary): not with `-q`.
/// Flushed, since scripts wait for the ready line.
pub fn ready(line: std::fmt::Arguments<'_>) {
    if is_chatty() {
        emit(None, line);
    }
}

/// `sockx: warning: …`: not with `-q`.
pub fn warn(line: std::fmt::Arguments<'_>) {
    if is_chatty() {
        emit(Some("sockx: warning: "), line);
    }
}

/// A diagnostic line: only with `-v`.
pub fn verbose(line: std::fmt::Arguments<'_>) {
    if is_verbose() {
        emit(None, line);
    }
}

/// Writes one line to stderr; stderr going away is not a failure of ours.
fn emit(prefix: Option<&str>, line: std::fmt::Arguments<'_>) {
    let mut stderr = io::stderr().lock();
    if let Some(prefix) = prefix {
        let _ = stderr.write_all(prefix.as_bytes());
    }
    let _ = stderr.write_fmt(line);
    let _ = stderr.write_all(b"\n");
    let _ = stderr.flush();
}

/// A warning said once per shortage: [`warn`] the first time [`Once::warn`] is called after
/// construction or after [`Once::reset`] (the shortage is over), and nothing in between.
#[derive(Debug, Default)]
pub struct Once {
    said: std::sync::atomic::AtomicBool,
}

impl Once {
    /// A warning not said yet.
    pub const fn new() -> Once {
        Once {
            said: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Says `line` unless it was said since the last reset.
    pub fn warn(&self, line: std::fmt::Arguments<'_>) {
        if !self.said.swap(true, Ordering::Relaxed) {
            warn(line);
        }
    }

    /// The shortage is over: the next [`Once::warn`] speaks again.
    pub fn reset(&self) {
        self.said.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_speaks_once_per_shortage() {
        let once = Once::new();
        assert!(!once.said.load(Ordering::Relaxed));
        once.warn(format_args!("x"));
        assert!(once.said.load(Ordering::Relaxed));
        once.reset();
        assert!(!once.said.load(Ordering::Relaxed));
    }
}
