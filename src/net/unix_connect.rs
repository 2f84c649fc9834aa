//! Connecting to a Unix stream socket within a time limit. A listener whose accept queue is
//! full makes `connect()` wait on Linux (as a TCP SYN that gets no answer does); SO_SNDTIMEO
//! bounds that wait, after which the kernel says EAGAIN, reported here as a timeout.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};

use super::endpoint::UnixAddr;

/// Connects to `addr`, waiting at most `timeout` for room in a full accept queue (`None`:
/// as long as it takes). A wait that ran out is `TimedOut`.
pub fn connect_unix(addr: &UnixAddr, timeout: Option<Duration>) -> io::Result<UnixStream> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    // A zero timeout would mean "no limit" to the kernel.
    let limit = timeout.map(|timeout| timeout.max(Duration::from_micros(1)));
    socket.set_write_timeout(limit)?;
    match socket.connect(&sock_addr(addr)?) {
        Ok(()) => {}
        Err(err) if timeout.is_some() && err.kind() == io::ErrorKind::WouldBlock => {
            return Err(io::ErrorKind::TimedOut.into());
        }
        Err(err) => return Err(err),
    }
    // The limit was for the connect: writes on the connection wait as usual.
    socket.set_write_timeout(None)?;
    Ok(socket.into())
}

/// `addr` as socket2 takes it: an abstract name is a path starting with a NUL byte.
fn sock_addr(addr: &UnixAddr) -> io::Result<SockAddr> {
    match addr {
        UnixAddr::Path(path) => SockAddr::unix(path),
        UnixAddr::Abstract(name) => {
            let mut bytes = Vec::with_capacity(name.len() + 1);
            bytes.push(0);
            bytes.extend_from_slice(name);
            SockAddr::unix(OsStr::from_bytes(&bytes))
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::time::Instant;

    #[test]
    fn a_full_accept_queue_times_out_and_a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("full.sock");
        let addr = UnixAddr::Path(path.clone());
        // Backlog 0 queues one connection; nobody accepts it.
        let listener = socket2::Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
        listener.bind(&SockAddr::unix(&path).unwrap()).unwrap();
        listener.listen(0).unwrap();
        let _queued = connect_unix(&addr, Some(Duration::from_secs(5))).unwrap();
        let started = Instant::now();
        let err = connect_unix(&addr, Some(Duration::from_millis(100))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(90));

        let missing = UnixAddr::Path(dir.path().join("none.sock"));
        let err = connect_unix(&missing, None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn abstract_names_connect() {
        let name = format!("sockx-test-{}", std::process::id());
        let addr = UnixAddr::Abstract(name.clone().into_bytes());
        let listener = UnixListener::bind_addr(&addr.to_socket_addr().unwrap()).unwrap();
        let stream = connect_unix(&addr, Some(Duration::from_secs(5))).unwrap();
        assert!(listener.accept().is_ok());
        assert_eq!(stream.write_timeout().unwrap(), None);
    }
}
