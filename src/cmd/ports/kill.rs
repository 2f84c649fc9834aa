//! `sockx ports --kill`: signal the owners of the matched sockets.

use std::io::{self, BufRead, IsTerminal, Write};

use serde::Serialize;

use super::rows::PortRow;
use crate::error::{Error, Status};
use crate::output::escape::quote_arg;
use crate::output::{Format, json};

/// What `--kill` does.
#[derive(Debug, Clone, Copy)]
pub struct KillPlan {
    /// The signal to send.
    pub signal: Signal,
    /// `--yes`: do not ask.
    pub yes: bool,
}

/// A signal, by number, with its name for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    #[cfg(unix)]
    inner: nix::sys::signal::Signal,
}

impl Signal {
    /// `TERM`, `SIGTERM`, `term` or `15`; anything else is a usage error (exit 2).
    #[cfg(unix)]
    pub fn parse(text: &str) -> Result<Signal, Error> {
        use nix::sys::signal::Signal as Nix;
        let text = text.trim();
        let parsed = if let Ok(number) = text.parse::<i32>() {
            Nix::try_from(number).ok()
        } else {
            let upper = text.to_ascii_uppercase();
            let name = if upper.starts_with("SIG") {
                upper
            } else {
                format!("SIG{upper}")
            };
            name.parse::<Nix>().ok()
        };
        parsed.map(|inner| Signal { inner }).ok_or_else(|| {
            Error::usage(format!("unknown signal '{}'", quote_arg(text)))
                .with_hint("use a name such as TERM, KILL, HUP, INT or a number such as 9")
        })
    }

    /// No signals here.
    #[cfg(not(unix))]
    pub fn parse(_text: &str) -> Result<Signal, Error> {
        Err(Error::usage("--kill is not supported on this platform"))
    }

    /// `SIGTERM`, `SIGKILL`, ...
    pub fn name(self) -> &'static str {
        #[cfg(unix)]
        {
            self.inner.as_str()
        }
        #[cfg(not(unix))]
        {
            "SIGTERM"
        }
    }

    #[cfg(unix)]
    fn send(self, pid: u32) -> io::Result<()> {
        let pid = i32::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), self.inner)
            .map_err(|errno| io::Error::from_raw_os_error(errno as i32))
    }

    #[cfg(not(unix))]
    fn send(self, _pid: u32) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// A process to signal.
#[derive(Debug, Clone, Serialize)]
struct Target {
    pid: u32,
    name: String,
    user: Option<String>,
    #[serde(skip)]
    sockets: Vec<String>,
}

/// What `--kill --json` prints per process.
#[derive(Debug, Serialize)]
struct Signalled<'a> {
    pid: u32,
    name: &'a str,
    signal: &'static str,
}

/// Signals the owners of `rows` (never sockx itself), asking first on a terminal.
pub fn run(
    rows: &[PortRow],
    plan: KillPlan,
    format: Format,
    chatty: bool,
) -> anyhow::Result<Status> {
    let targets = targets(rows);
    if targets.is_empty() {
        return Err(Error::failure(
            "no process to signal: the owners of the matched sockets are unknown",
        )
        .with_hint("run as root to see every socket's owner")
        .into());
    }
    let signal = plan.signal.name();
    if !plan.yes && io::stdin().is_terminal() && !confirm(&targets, signal)? {
        if chatty {
            let _ = writeln!(io::stderr(), "sockx: nothing signalled");
        }
        return Ok(Status::Negative);
    }

    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut failures = Vec::new();
    for target in &targets {
        match plan.signal.send(target.pid) {
            Ok(()) => {
                if format == Format::Json {
                    let done = Signalled {
                        pid: target.pid,
                        name: &target.name,
                        signal,
                    };
                    json::write_line(&mut out, &done)?;
                } else {
                    writeln!(out, "sent {signal} to {} (pid {})", target.name, target.pid)?;
                }
            }
            Err(err) => failures.push(format!("{} (pid {}): {err}", target.name, target.pid)),
        }
    }
    out.flush()?;
    if failures.is_empty() {
        return Ok(Status::Success);
    }
    let denied = failures.iter().any(|f| f.contains("not permitted"));
    let mut error = Error::failure(format!("cannot send {signal} to {}", failures.join(", ")));
    if denied {
        error = error.with_hint("the process belongs to another user; run as root");
    }
    Err(error.into())
}

/// The distinct holders of `rows`, by PID, without our own process.
fn targets(rows: &[PortRow]) -> Vec<Target> {
    let me = std::process::id();
    let mut targets: Vec<Target> = Vec::new();
    for row in rows {
        let socket = format!(
            "{} {}",
            row.proto,
            std::net::SocketAddr::new(row.local_addr, row.local_port)
        );
        for process in row.processes.iter().filter(|p| p.pid != me) {
            match targets.iter_mut().find(|t| t.pid == process.pid) {
                Some(target) => target.sockets.push(socket.clone()),
                None => targets.push(Target {
                    pid: process.pid,
                    name: process.name.to_string(),
                    user: row.user.clone(),
                    sockets: vec![socket.clone()],
                }),
            }
        }
    }
    targets.sort_by_key(|target| target.pid);
    targets
}

/// Lists the targets on stderr and asks y/N on the terminal.
fn confirm(targets: &[Target], signal: &str) -> io::Result<bool> {
    let mut err = io::stderr().lock();
    for target in targets {
        writeln!(
            err,
            "  {:>7}  {}  ({})  {}",
            target.pid,
            target.name,
            target.user.as_deref().unwrap_or("?"),
            target.sockets.join(", ")
        )?;
    }
    let count = targets.len();
    let noun = if count == 1 { "process" } else { "processes" };
    write!(err, "send {signal} to {count} {noun}? [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_and_number() {
        for text in ["TERM", "term", "SIGTERM", "15"] {
            assert_eq!(Signal::parse(text).unwrap().name(), "SIGTERM", "{text}");
        }
        assert_eq!(Signal::parse("9").unwrap().name(), "SIGKILL");
        assert_eq!(Signal::parse("hup").unwrap().name(), "SIGHUP");
        for bad in ["", "0", "999", "NOPE", "-1"] {
            let err = Signal::parse(bad).unwrap_err();
            assert_eq!(err.status, Status::Usage, "{bad}");
        }
    }
}
