//! `sockx ports --kill`: signal the owners of the matched sockets.

use std::io::{self, BufRead, IsTerminal, Write};

use serde::Serialize;

use super::held::Held;
use crate::error::{Error, Status};
use crate::output::escape::{escape_text, quote_arg};
use crate::output::{Format, json, notes};

/// What `--kill` does.
#[derive(Debug, Clone, Copy)]
pub struct KillPlan {
    /// The signal to send.
    signal: Signal,
    /// `--yes`, or nobody to ask: do not ask.
    yes: bool,
}

impl KillPlan {
    /// `--kill --signal SIG [--yes]`. Without a terminal on stdin nobody can answer the
    /// prompt, and acting at once would surprise a script: `--yes` is required then (exit 2).
    pub fn new(signal: &str, yes: bool) -> Result<KillPlan, Error> {
        let signal = Signal::parse(signal)?;
        if !yes && !io::stdin().is_terminal() {
            return Err(Error::usage(
                "--kill without a terminal needs --yes (nobody can answer y/N)",
            )
            .with_hint("add --yes to signal the owners without asking"));
        }
        Ok(KillPlan { signal, yes })
    }
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

impl Target {
    /// `nginx (pid 812)`, with the name made safe for a terminal.
    fn label(&self) -> String {
        format!("{} (pid {})", escape_text(&self.name), self.pid)
    }
}

/// What `--kill --json` prints per process.
#[derive(Debug, Serialize)]
struct Signalled<'a> {
    pid: u32,
    name: &'a str,
    signal: &'static str,
}

/// How signalling one process went.
#[derive(Debug, PartialEq, Eq)]
enum Delivery {
    Sent,
    /// It exited between the scan and the signal (a master that stops its workers first):
    /// what `--kill` wanted anyway.
    AlreadyGone,
    Failed(io::ErrorKind, String),
}

impl Delivery {
    fn of(result: io::Result<()>) -> Delivery {
        match result {
            Ok(()) => Delivery::Sent,
            Err(err) if err.raw_os_error() == Some(ESRCH) => Delivery::AlreadyGone,
            Err(err) => Delivery::Failed(err.kind(), err.to_string()),
        }
    }
}

#[cfg(unix)]
const ESRCH: i32 = nix::libc::ESRCH;
#[cfg(not(unix))]
const ESRCH: i32 = 3;

/// The process that must never be signalled: init (systemd) holds sockets for socket
/// activation, and a TERM to it would stop the system.
const INIT: u32 = 1;

/// Signals the owners of `rows` (never sockx itself, never PID 1), asking first on a terminal.
pub fn run<R: Held>(rows: &[R], plan: KillPlan, format: Format) -> anyhow::Result<Status> {
    let (targets, init) = targets(rows);
    let init_error = || {
        let name = init
            .as_ref()
            .map_or_else(|| "init".to_string(), Target::label);
        Error::failure(format!("not signalling {name}: PID 1 is never signalled"))
            .with_hint(
                "PID 1 holds such a socket for socket activation; stop the unit instead \
                 (systemctl list-sockets shows which one, then systemctl stop UNIT.socket UNIT.service)",
            )
    };
    if targets.is_empty() {
        if init.is_some() {
            return Err(init_error().into());
        }
        return Err(Error::failure(
            "no process to signal: the owners of the matched sockets are unknown",
        )
        .with_hint("run as root to see every socket's owner")
        .into());
    }
    let signal = plan.signal.name();
    if !plan.yes && !confirm(&targets, signal)? {
        notes::ready(format_args!("sockx: nothing signalled"));
        return Ok(Status::Negative);
    }

    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut failures = Vec::new();
    let mut denied = false;
    for target in &targets {
        match Delivery::of(plan.signal.send(target.pid)) {
            Delivery::Sent => {
                if format == Format::Json {
                    let done = Signalled {
                        pid: target.pid,
                        name: &target.name,
                        signal,
                    };
                    json::write_line(&mut out, &done)?;
                } else {
                    writeln!(out, "sent {signal} to {}", target.label())?;
                }
            }
            Delivery::AlreadyGone => {
                out.flush()?;
                notes::ready(format_args!("sockx: {} had already exited", target.label()));
            }
            Delivery::Failed(kind, err) => {
                denied |= kind == io::ErrorKind::PermissionDenied;
                failures.push(format!("{}: {err}", target.label()));
            }
        }
    }
    out.flush()?;
    if !failures.is_empty() {
        let mut error = Error::failure(format!("cannot send {signal} to {}", failures.join(", ")));
        if denied {
            error = error.with_hint("the process belongs to another user; run as root");
        }
        return Err(error.into());
    }
    if init.is_some() {
        return Err(init_error().into());
    }
    Ok(Status::Success)
}

/// The distinct holders of `rows`, by PID, without our own process; PID 1, when it holds one,
/// apart.
fn targets<R: Held>(rows: &[R]) -> (Vec<Target>, Option<Target>) {
    let me = std::process::id();
    let mut targets: Vec<Target> = Vec::new();
    for row in rows {
        let socket = row.label();
        for process in row.holders().iter().filter(|p| p.pid != me) {
            match targets.iter_mut().find(|t| t.pid == process.pid) {
                Some(target) => target.sockets.push(socket.clone()),
                None => targets.push(Target {
                    pid: process.pid,
                    name: process.name.to_string(),
                    user: row.user().map(str::to_string),
                    sockets: vec![socket.clone()],
                }),
            }
        }
    }
    targets.sort_by_key(|target| target.pid);
    let init = targets
        .iter()
        .position(|target| target.pid == INIT)
        .map(|index| targets.remove(index));
    (targets, init)
}

/// Lists the targets on stderr and asks y/N on the terminal; Ctrl-C there exits 130.
fn confirm(targets: &[Target], signal: &str) -> anyhow::Result<bool> {
    #[cfg(unix)]
    {
        // The prompt line has no newline yet: end it, so the shell's prompt starts on its own.
        let interrupt = crate::os::interrupt::Interrupt::handler();
        interrupt.on_interrupt(move || {
            let _ = writeln!(io::stderr());
            interrupt.exit();
        });
    }
    let mut err = io::stderr().lock();
    for target in targets {
        writeln!(
            err,
            "  {:>7}  {}  ({})  {}",
            target.pid,
            escape_text(&target.name),
            escape_text(target.user.as_deref().unwrap_or("?")),
            target.sockets.join(", ")
        )?;
    }
    let count = targets.len();
    let noun = if count == 1 { "process" } else { "processes" };
    write!(err, "send {signal} to {count} {noun}? [y/N] ")?;
    err.flush()?;
    drop(err);
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

    #[test]
    fn an_owner_already_gone_counts_as_done() {
        assert_eq!(Delivery::of(Ok(())), Delivery::Sent);
        let gone = Err(io::Error::from_raw_os_error(nix::libc::ESRCH));
        assert_eq!(Delivery::of(gone), Delivery::AlreadyGone);
        let denied = Err(io::Error::from_raw_os_error(nix::libc::EPERM));
        assert!(matches!(
            Delivery::of(denied),
            Delivery::Failed(io::ErrorKind::PermissionDenied, _)
        ));
        // A real one: a child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let probe = Signal {
            inner: nix::sys::signal::Signal::SIGCONT,
        };
        // Its PID may have been reused at once; then the signal is a harmless SIGCONT.
        let outcome = Delivery::of(probe.send(pid));
        assert!(
            matches!(outcome, Delivery::AlreadyGone | Delivery::Sent),
            "{outcome:?}"
        );
    }

    #[test]
    fn pid_1_is_set_apart_and_names_are_escaped() {
        use super::super::rows::{PortRow, ProcessRow};
        use crate::net::SocketState;
        use crate::net::socket::Proto;
        let row = PortRow {
            proto: Proto::Tcp,
            local_addr: "0.0.0.0".parse().unwrap(),
            local_port: 22,
            remote_addr: None,
            remote_port: None,
            state: SocketState::Listen,
            exposed: true,
            uid: Some(0),
            user: Some("root".into()),
            processes: vec![
                ProcessRow {
                    pid: 1,
                    name: "systemd",
                    cmd: None,
                    cmd_cell: None,
                },
                ProcessRow {
                    pid: 700,
                    name: "ev\x1b[31mil\nx",
                    cmd: None,
                    cmd_cell: None,
                },
            ],
            tcp_info: None,
            with_connection: false,
        };
        let (targets, init) = targets(&[row]);
        assert_eq!(init.map(|t| t.pid), Some(1));
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].pid, 700);
        assert!(!targets[0].label().contains(['\x1b', '\n']));
    }
}
