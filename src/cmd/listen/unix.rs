//! Binding a Unix socket, stream or datagram: a stale socket file is replaced, a live one is
//! "address in use", `--unix-mode` sets the file's permissions, and the socket owns the file it
//! created (removed when sockx ends).

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;

use crate::error::Error;
use crate::net::cause::describe;
use crate::net::endpoint::UnixAddr;
use crate::net::listener::{BoundUnix, SocketFile};

/// Binds and listens on `addr`, replacing a stale socket file, with `mode` as the file's
/// permissions.
pub fn bind(
    addr: &UnixAddr,
    mode: Option<u32>,
) -> Result<BoundUnix<std::os::unix::net::UnixListener>, Error> {
    bind_with(addr, mode, std::os::unix::net::UnixListener::bind_addr)
}

/// [`bind`] for any kind of Unix socket: `bind` binds it (and listens, for a stream).
pub fn bind_with<S>(
    addr: &UnixAddr,
    mode: Option<u32>,
    bind: impl FnOnce(&std::os::unix::net::SocketAddr) -> io::Result<S>,
) -> Result<BoundUnix<S>, Error> {
    if let Some(path) = addr.file() {
        clear_stale(addr, path)?;
    }
    let socket = addr
        .to_socket_addr()
        .and_then(|sockaddr| bind(&sockaddr))
        .map_err(|err| listen_error(addr, &err))?;
    let file = addr.file().map(SocketFile::new);
    if let (Some(mode), Some(path)) = (mode, addr.file()) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|err| listen_error(addr, &err))?;
    }
    Ok(BoundUnix {
        socket,
        addr: addr.clone(),
        file,
    })
}

/// A socket file nobody listens on any more is removed; one where a server still answers is
/// "address in use"; any other file is left alone. The probe is a stream connect: a live
/// datagram socket refuses it as the wrong type (not "refused"), and bind then says "in use".
fn clear_stale(addr: &UnixAddr, path: &std::path::Path) -> Result<(), Error> {
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
            remove_stale(addr, path, &meta)
        }
        // Another user's file that we may not connect to: the connect cannot tell a live
        // socket from a stale one, the kernel's socket table can.
        #[cfg(target_os = "linux")]
        Err(err)
            if err.kind() == io::ErrorKind::PermissionDenied
                && crate::os::holders::nothing_bound_at(addr) =>
        {
            remove_stale(addr, path, &meta)
        }
        // Let bind say what is wrong.
        Err(_) => Ok(()),
    }
}

/// Removes the stale socket file at `path`; where this user may not (another user's file in
/// a sticky directory such as /tmp), says that it is stale and whose it is.
fn remove_stale(addr: &UnixAddr, path: &std::path::Path, meta: &fs::Metadata) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt as _;
    fs::remove_file(path).map_err(|err| {
        if err.kind() != io::ErrorKind::PermissionDenied {
            return listen_error(addr, &err);
        }
        let owner = crate::os::processes::UserNames::default()
            .name(meta.uid())
            .unwrap_or_else(|| format!("uid {}", meta.uid()));
        Error::failure(format!(
            "cannot listen on {addr}: a stale socket file is there (nothing is bound to it) \
             and this user may not remove it"
        ))
        .with_hint(format!(
            "remove it as its owner ({}) or choose another path",
            crate::output::escape::escape_text(&owner)
        ))
    })
}

fn listen_error(addr: &UnixAddr, err: &io::Error) -> Error {
    let error = Error::failure(format!("cannot listen on {addr}: {}", describe(err)));
    if err.kind() == io::ErrorKind::AddrInUse {
        error.with_hint(super::bind_error::unix_in_use_hint(addr))
    } else {
        error
    }
}
