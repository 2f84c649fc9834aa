//! `-e/--exec CMD` and `--sh-exec CMD`: each connection becomes a command's stdin and stdout.
//!
//! The socket itself is the child's stdin and stdout (two descriptors for it, made blocking);
//! sockx closes its own copy right after the spawn, so the peer sees the connection end when
//! the child (and anything it passed the socket to) is done, and the child's output reaches
//! the peer before that. Children are reaped as they exit.
//!
//! Without `-k` sockx serves one connection and exits with the child's status: 0 when it
//! succeeded, its exit code when it failed, 128+N when signal N killed it; 0 when `-w` ended
//! an idle command (see [`exec_idle`](super::exec_idle)).

use std::io;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::exec_idle;
use super::server::{self, Gate, Peer, Slot, say};
use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};

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
                Error::usage(format!("cannot split --exec '{line}' into words"))
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
        crate::os::program::ensure_runnable(self.name(), "--sh-exec")
    }

    /// Starts the command on `stream`. The stream is consumed: sockx keeps no descriptor of it.
    fn spawn(&self, stream: TcpStream, peer: &Peer) -> io::Result<tokio::process::Child> {
        let std_stream = stream.into_std()?;
        // The child expects ordinary blocking stdin/stdout; the flag lives on the shared
        // open file, so this also changes the copies below.
        std_stream.set_nonblocking(false)?;
        let stdin = OwnedFd::from(std_stream);
        let stdout = stdin.try_clone()?;
        let mut command = tokio::process::Command::new(&self.argv[0]);
        command
            .args(&self.argv[1..])
            .stdin(Stdio::from(stdin))
            .stdout(Stdio::from(stdout))
            .env("SOCKX_PEER_ADDR", peer.remote.ip().to_string())
            .env("SOCKX_PEER_PORT", peer.remote.port().to_string())
            .env("SOCKX_LOCAL_ADDR", peer.local.ip().to_string())
            .env("SOCKX_LOCAL_PORT", peer.local.port().to_string());
        let child = command.spawn();
        // The Command holds the parent's copies of the socket until it is dropped.
        drop(command);
        child
    }
}

/// Serves `--exec`/`--sh-exec` on a bound TCP listener: one connection, or every connection
/// with `-k` (children run concurrently and are reaped as they exit).
pub fn run(
    listener: TcpListener,
    program: Program,
    args: &ListenArgs,
    context: &Context,
) -> anyhow::Result<Status> {
    program.check()?;
    let gate = Gate::new(args, context);
    let verbose = context.verbose();
    let keep_open = args.keep_open;
    let idle = args.idle_timeout;
    let runtime = server::runtime()?;
    let status = runtime.block_on(server::serve_connections(
        listener,
        gate,
        keep_open,
        std::future::pending(),
        move |stream, peer, slot| serve(program.clone(), stream, peer, slot, idle, verbose),
    ));
    runtime.shutdown_background();
    status
}

async fn serve(
    program: Program,
    stream: TcpStream,
    peer: Peer,
    slot: Slot,
    idle: Option<Duration>,
    verbose: bool,
) -> anyhow::Result<Status> {
    let started = Instant::now();
    let mut child = match program.spawn(stream, &peer) {
        Ok(child) => child,
        Err(err) if is_permanent(&err) => {
            return Err(Error::failure(format!("cannot run '{}': {err}", program.name())).into());
        }
        Err(err) => {
            crate::output::notes::warn(format_args!(
                "cannot run '{}' for {}: {err}",
                program.name(),
                peer.remote
            ));
            return Ok(Status::Negative);
        }
    };
    let pid = child.id().unwrap_or_default();
    if verbose {
        say(format_args!(
            "{}: started {} (pid {pid})",
            peer.remote,
            program.name()
        ));
    }
    let (status, idled) = tokio::select! {
        status = child.wait() => (status?, false),
        quiet = exec_idle::idle_tree(pid, idle) => {
            exec_idle::kill_all(&quiet);
            (child.wait().await?, true)
        }
    };
    drop(slot);
    if verbose {
        let outcome = if idled {
            "killed after the idle timeout".to_string()
        } else {
            describe(status)
        };
        say(format_args!(
            "{} closed: {} (pid {pid}) {outcome} after {:.3}s",
            peer.remote,
            program.name(),
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(if idled {
        Status::Success
    } else {
        exit_status(status)
    })
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
