//! `-e/--exec CMD` and `--sh-exec CMD`: each connection becomes a command's stdin and stdout.
//!
//! The socket itself is the child's stdin and stdout (two descriptors for it, made blocking).
//! sockx keeps a third one but does not touch the connection while the child runs; when the
//! child exits, the connection ends at once, gracefully: sockx shuts down the write side (the
//! peer sees EOF after all of the child's output) and reads and discards what the peer still
//! sends, for up to [`LINGER`], before closing. Closing a socket with unread data in it would
//! send a reset, and the peer would lose the child's output still in flight. Children are
//! reaped as they exit. With `--hex` the child gets pipes instead and sockx relays (and
//! dumps) between them and the connection, see [`exec_piped`](super::exec_piped).
//!
//! Out of descriptors or processes, a connection waits until its child can be started (one
//! connection at a time waits; the listener accepts no other meanwhile), and is never dropped.
//!
//! Without `-k` sockx serves one connection and exits with the child's status: 0 when it
//! succeeded, its exit code when it failed, 128+N when signal N killed it; 0 when `-w` ended
//! an idle command (see [`exec_idle`](super::exec_idle)).

use std::io;
use std::net::Shutdown;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};

use super::ListenConfig;
use super::server::{self, Gate, Peer, Slot};
use super::{exec_idle, exec_piped};
use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::async_stream::AsyncStream;
use crate::net::cause::describe as describe_error;
use crate::net::listener::Listener;
use crate::net::stream::Stream;
use crate::output::escape::quote_arg;
use crate::output::notes;

/// How long a connection whose child has exited reads (and discards) what the peer still
/// sends before it is closed.
pub const LINGER: Duration = Duration::from_secs(2);

/// The command to run for each connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    argv: Vec<String>,
}

impl Program {
    /// The command from `--exec` (split with shell quoting rules) or `--sh-exec`, if either
    /// is given. Bad quoting or an empty command is a usage error (exit 2).
    pub fn from_args(args: &ListenArgs) -> Result<Option<Program>, Error> {
        if let Some(line) = &args.exec {
            let argv = shlex::split(line).ok_or_else(|| {
                Error::usage(format!(
                    "cannot split --exec '{}' into words",
                    quote_arg(line)
                ))
                .with_hint("check the quotes; or use --sh-exec to run it through /bin/sh")
            })?;
            if argv.is_empty() {
                return Err(Error::usage("--exec needs a command"));
            }
            return Ok(Some(Program { argv }));
        }
        if let Some(line) = &args.sh_exec {
            if line.trim().is_empty() {
                return Err(Error::usage("--sh-exec needs a command"));
            }
            let argv = vec!["/bin/sh".to_string(), "-c".to_string(), line.clone()];
            return Ok(Some(Program { argv }));
        }
        Ok(None)
    }

    /// The program's name as given (`argv[0]`).
    pub fn name(&self) -> &str {
        &self.argv[0]
    }

    /// Fails (exit 1) when the program cannot be found or is not executable, so that the
    /// mistake shows before any client connects.
    pub fn check(&self) -> Result<(), Error> {
        crate::cmd::program::ensure_runnable(self.name(), "--sh-exec")
    }

    /// Starts the command with `socket` (blocking: the child expects ordinary stdin and
    /// stdout) as its stdin and stdout. The caller keeps `socket`.
    fn spawn_on(&self, socket: &Stream, peer: &Peer) -> io::Result<tokio::process::Child> {
        let stdin = socket.try_clone_fd()?;
        let stdout = stdin.try_clone()?;
        self.spawn(Stdio::from(stdin), Stdio::from(stdout), peer)
    }

    /// Starts the command with `stdin` and `stdout` and the connection's environment.
    pub fn spawn(
        &self,
        stdin: Stdio,
        stdout: Stdio,
        peer: &Peer,
    ) -> io::Result<tokio::process::Child> {
        let mut command = tokio::process::Command::new(&self.argv[0]);
        command
            .args(&self.argv[1..])
            .stdin(stdin)
            .stdout(stdout)
            .envs(environment(peer));
        let child = command.spawn();
        // The Command holds the parent's copies of the socket until it is dropped.
        drop(command);
        child
    }

    /// Starts the command with `start`, waiting out a shortage of descriptors or processes
    /// (never dropping the connection); once it runs, the slot is told and `-v` names it.
    /// `Ok(None)`: this connection's command could not start (said in a warning); `Err`: no
    /// connection's command ever will (fatal).
    pub async fn start(
        &self,
        slot: &mut Slot,
        peer: &Peer,
        mut start: impl FnMut() -> io::Result<tokio::process::Child>,
    ) -> anyhow::Result<Option<tokio::process::Child>> {
        loop {
            match start() {
                Ok(child) => {
                    slot.started();
                    notes::verbose(format_args!(
                        "{peer}: started {} (pid {})",
                        quote_arg(self.name()),
                        child.id().unwrap_or_default()
                    ));
                    return Ok(Some(child));
                }
                Err(err) if is_shortage(&err) => {
                    let what = format!(
                        "cannot run '{}': {}",
                        quote_arg(self.name()),
                        describe_error(&err)
                    );
                    slot.wait_for_resources(&what).await;
                }
                Err(err) if is_permanent(&err) => {
                    let name = quote_arg(self.name());
                    return Err(Error::failure(format!("cannot run '{name}': {err}")).into());
                }
                Err(err) => {
                    notes::warn(format_args!(
                        "cannot run '{}' for {peer}: {}",
                        quote_arg(self.name()),
                        describe_error(&err)
                    ));
                    return Ok(None);
                }
            }
        }
    }
}

/// What the child learns of its connection: `SOCKX_PEER_ADDR`, `SOCKX_PEER_PORT`,
/// `SOCKX_LOCAL_ADDR`, `SOCKX_LOCAL_PORT` for an IP peer; `SOCKX_PEER_PID`, `SOCKX_PEER_UID`
/// for a Unix peer whose credentials the kernel gave (a Unix peer has no address or port; its
/// PID is unknown when it runs in a PID namespace that ours cannot see into).
fn environment(peer: &Peer) -> Vec<(&'static str, String)> {
    match peer {
        Peer::Inet { remote, local } => vec![
            ("SOCKX_PEER_ADDR", remote.ip().to_string()),
            ("SOCKX_PEER_PORT", remote.port().to_string()),
            ("SOCKX_LOCAL_ADDR", local.ip().to_string()),
            ("SOCKX_LOCAL_PORT", local.port().to_string()),
        ],
        // The PID is left out when the peer is in a PID namespace we cannot see into.
        Peer::Unix { cred, .. } => cred
            .iter()
            .flat_map(|cred| {
                let pid = cred.pid.map(|pid| ("SOCKX_PEER_PID", pid.to_string()));
                pid.into_iter()
                    .chain([("SOCKX_PEER_UID", cred.uid.to_string())])
            })
            .collect(),
    }
}

/// Serves `--exec`/`--sh-exec` on a bound listener (TCP or Unix): one connection, or every
/// connection with `-k` (children run concurrently and are reaped as they exit).
pub fn run(
    listener: Listener,
    program: Program,
    config: &ListenConfig,
    context: &Context,
) -> anyhow::Result<Status> {
    let gate = Gate::new(config, context).one_start_at_a_time();
    let keep_open = config.keep_open;
    let idle = config.idle_timeout;
    let hex = config.hex;
    let runtime = server::runtime()?;
    let status = runtime.block_on(server::serve_connections(
        listener,
        gate,
        keep_open,
        server::CHILD_GRACE,
        std::future::pending(),
        move |stream, peer, slot| {
            let program = program.clone();
            async move {
                // `--hex` must see the bytes, and only a plain socket can be the child's own
                // stdin and stdout (a TLS session is relayed through pipes).
                if hex || stream.plain().is_none() {
                    exec_piped::serve(program, stream, peer, slot, idle).await
                } else {
                    serve(program, stream, peer, slot, idle).await
                }
            }
        },
    ));
    runtime.shutdown_background();
    status
}

async fn serve(
    program: Program,
    stream: AsyncStream,
    peer: Peer,
    mut slot: Slot,
    idle: Option<Duration>,
) -> anyhow::Result<Status> {
    let started = Instant::now();
    // The child expects ordinary blocking stdin/stdout; the flag lives on the shared open
    // file, so it holds for the child's copies too.
    let socket = stream.into_std()?;
    let Some(mut child) = program
        .start(&mut slot, &peer, || program.spawn_on(&socket, &peer))
        .await?
    else {
        close_gracefully(socket).await;
        return Ok(Status::Negative);
    };
    let pid = child.id().unwrap_or_default();
    let (status, idled) = wait(&mut child, pid, idle).await?;
    report(&program, &peer, pid, status, idled, started);
    close_gracefully(socket).await;
    drop(slot);
    Ok(outcome(status, idled))
}

/// Waits for the child to exit, or (`-w`) for its process tree to stay idle, which kills
/// it. True with the exit status when it was killed for idling.
pub async fn wait(
    child: &mut tokio::process::Child,
    pid: u32,
    idle: Option<Duration>,
) -> io::Result<(ExitStatus, bool)> {
    tokio::select! {
        status = child.wait() => Ok((status?, false)),
        quiet = exec_idle::idle_tree(pid, idle) => {
            exec_idle::kill_all(&quiet);
            Ok((child.wait().await?, true))
        }
    }
}

/// The `-v` line at the end of an `--exec` connection's command.
pub fn report(
    program: &Program,
    peer: &Peer,
    pid: u32,
    status: ExitStatus,
    idled: bool,
    started: Instant,
) {
    let outcome = if idled {
        "killed after the idle timeout".to_string()
    } else {
        describe(status)
    };
    notes::verbose(format_args!(
        "{peer} closed: {} (pid {pid}) {outcome} after {:.3}s",
        quote_arg(program.name()),
        started.elapsed().as_secs_f64()
    ));
}

/// The connection's status: the child's, or success when `-w` ended it.
pub fn outcome(status: ExitStatus, idled: bool) -> Status {
    if idled {
        Status::Success
    } else {
        exit_status(status)
    }
}

/// Ends a connection whose child is done: the write side is shut down at once (the peer
/// gets EOF after everything the child wrote), then what the peer still sends is read and
/// discarded until it closes too or [`LINGER`] has passed, so that the close sends no reset
/// that would destroy output still on its way.
async fn close_gracefully(socket: Stream) {
    let _ = socket.shutdown(Shutdown::Write);
    if let Ok(mut stream) = AsyncStream::from_std(socket) {
        discard_until_closed(&mut stream).await;
    }
}

/// Reads and drops what the peer sends until it closes its side, fails, or [`LINGER`]
/// passes (the caller has shut down our write side).
pub async fn discard_until_closed(stream: &mut (impl AsyncRead + Unpin)) {
    let mut sink = vec![0u8; 64 * 1024];
    let draining = async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, draining).await;
}

/// Out of descriptors, memory or processes (`fork` says EAGAIN): wait, then try again.
fn is_shortage(err: &io::Error) -> bool {
    server::is_out_of_descriptors(err) || err.raw_os_error() == Some(nix::libc::EAGAIN)
}

fn is_permanent(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
    ) || err.raw_os_error() == Some(nix::libc::ENOEXEC)
}

/// The child's outcome as sockx's own: 0, its exit code, or 128+signal as shells do.
fn exit_status(status: ExitStatus) -> Status {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => Status::Success,
        (Some(code), _) => Status::Child(u8::try_from(code).unwrap_or(1)),
        (None, Some(signal)) => Status::Child(u8::try_from(128 + signal).unwrap_or(1)),
        (None, None) => Status::Negative,
    }
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn listen_args(words: &[&str]) -> ListenArgs {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ListenArgs,
        }
        let mut argv = vec!["listen"];
        argv.extend_from_slice(words);
        Wrapper::try_parse_from(argv).unwrap().args
    }

    #[test]
    fn exec_is_split_with_shell_quoting_and_no_shell() {
        let args = listen_args(&["-e", "printf '%s\\n' \"a b\" c", "0"]);
        let program = Program::from_args(&args).unwrap().unwrap();
        assert_eq!(program.argv, ["printf", "%s\\n", "a b", "c"]);
    }

    #[test]
    fn sh_exec_goes_through_bin_sh() {
        let args = listen_args(&["--sh-exec", "echo $HOME | wc -c", "0"]);
        let program = Program::from_args(&args).unwrap().unwrap();
        assert_eq!(program.argv, ["/bin/sh", "-c", "echo $HOME | wc -c"]);
    }

    #[test]
    fn bad_quoting_and_empty_commands_are_usage_errors() {
        for words in [
            &["-e", "echo 'unclosed", "0"][..],
            &["-e", "  ", "0"],
            &["--sh-exec", "", "0"],
        ] {
            let err = Program::from_args(&listen_args(words)).unwrap_err();
            assert_eq!(err.status, Status::Usage, "{words:?}");
        }
        assert_eq!(Program::from_args(&listen_args(&["0"])).unwrap(), None);
    }

    #[test]
    fn missing_programs_are_found_before_listening() {
        let missing = Program {
            argv: vec!["sockx-no-such-program-xyz".into()],
        };
        assert_eq!(missing.check().unwrap_err().status, Status::Negative);
        let sh = Program {
            argv: vec!["/bin/sh".into()],
        };
        assert!(sh.check().is_ok());
    }

    #[test]
    fn child_statuses_map_like_a_shell() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_status(ExitStatus::from_raw(0)), Status::Success);
        assert_eq!(exit_status(ExitStatus::from_raw(3 << 8)), Status::Child(3));
        assert_eq!(exit_status(ExitStatus::from_raw(9)), Status::Child(137));
    }
}
