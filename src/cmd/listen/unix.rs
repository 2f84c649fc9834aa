//! Unix stream sockets: binding (a stale socket file is replaced, a live one is "address in
//! use"), the socket file removed when sockx ends, and the one-shot relay mode.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use super::single;
use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::cause::describe;
use crate::net::endpoint::UnixAddr;
use crate::net::relay::Input;
use crate::os::interrupt::{Interrupt, RemoveAtExit};
use crate::os::peer_cred::PeerCred;
use crate::output::notes;

/// The socket file this process created: removed when dropped, and when Ctrl-C ends the run.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    _at_exit: RemoveAtExit,
}

impl SocketFile {
    fn new(path: &Path) -> SocketFile {
        SocketFile {
            path: path.to_path_buf(),
            _at_exit: Interrupt::handler().remove_at_exit(path),
        }
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Flags that only make sense for IP sockets or for modes not served over Unix sockets yet:
/// exit 2 with a Unix address.
pub fn check_args(args: &ListenArgs, addr: &UnixAddr) -> Result<(), Error> {
    let inet_only = if !args.allow.is_empty() || !args.deny.is_empty() {
        Some("--allow/--deny")
    } else if args.reuseport {
        Some("--reuseport")
    } else if args.broadcast {
        Some("--broadcast")
    } else {
        None
    };
    if let Some(flag) = inet_only {
        return Err(Error::usage(format!(
            "{flag} makes no sense with a Unix socket ({addr})"
        )));
    }
    if args.keep_open || args.echo || args.exec.is_some() || args.sh_exec.is_some() {
        return Err(Error::usage(format!(
            "-k, --echo and --exec are not served over Unix sockets yet ({addr})"
        )));
    }
    if args.unix_mode.is_some() && addr.file().is_none() {
        return Err(Error::usage(
            "--unix-mode needs a socket file; an abstract name has no permissions",
        ));
    }
    Ok(())
}

/// Binds and listens on `addr`, replacing a stale socket file, with `mode` as the file's
/// permissions.
pub fn bind(
    addr: &UnixAddr,
    mode: Option<u32>,
) -> Result<(UnixListener, Option<SocketFile>), Error> {
    if let Some(path) = addr.file() {
        clear_stale(addr, path)?;
    }
    let listener = addr
        .to_socket_addr()
        .and_then(|sockaddr| UnixListener::bind_addr(&sockaddr))
        .map_err(|err| listen_error(addr, &err))?;
    let file = addr.file().map(SocketFile::new);
    if let (Some(mode), Some(path)) = (mode, addr.file()) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|err| listen_error(addr, &err))?;
    }
    Ok((listener, file))
}

/// A socket file nobody listens on any more is removed; one where a server still answers is
/// "address in use"; any other file is left alone.
fn clear_stale(addr: &UnixAddr, path: &Path) -> Result<(), Error> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(Error::failure(format!(
            "cannot listen on {addr}: the file exists and is not a socket"
        ))
        .with_hint("remove it or choose another path"));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(listen_error(addr, &io::ErrorKind::AddrInUse.into())),
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
            fs::remove_file(path).map_err(|err| listen_error(addr, &err))
        }
        // Let bind say what is wrong.
        Err(_) => Ok(()),
    }
}

fn listen_error(addr: &UnixAddr, err: &io::Error) -> Error {
    let error = Error::failure(format!("cannot listen on {addr}: {}", describe(err)));
    if err.kind() == io::ErrorKind::AddrInUse {
        error.with_hint(super::bind_error::unix_in_use_hint(addr))
    } else {
        error
    }
}

/// Prints the ready line `listening on unix:PATH (unix)`.
pub fn announce(addr: &UnixAddr) {
    notes::ready(format_args!("listening on {addr} (unix)"));
}

/// The one-shot mode over a Unix socket: accept one peer, relay, remove the socket file.
pub fn run_single(
    addr: &UnixAddr,
    args: &ListenArgs,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    // Ctrl-C while waiting for the peer: the run's default, exit 130, removes the file too.
    let (listener, file) = bind(addr, args.unix_mode)?;
    announce(addr);
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(err) => {
                return Err(Error::failure(format!(
                    "cannot accept a connection on {addr}: {}",
                    describe(&err)
                ))
                .into());
            }
        }
    };
    // One connection only: later clients find nothing there.
    drop(listener);
    drop(file);
    let peer = match PeerCred::of(&stream) {
        Some(cred) => cred.to_string(),
        None => "unix peer".to_string(),
    };
    if context.verbose() {
        notes::verbose(format_args!("connection from {peer} on {addr}"));
    }
    single::relay(
        stream.into(),
        &peer,
        args,
        context,
        interrupt,
        Input::stdin(),
    )
}
