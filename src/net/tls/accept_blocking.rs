//! One client's handshake on a blocking socket, for the one-shot `listen --tls` (whose relay
//! is threads over blocking I/O): the same timeout, failure words and `-v` facts as the async
//! [`TlsServer::accept`], with the socket's own timeouts bounding each wait.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use rustls::ServerConnection;

use super::accept::{ClientFailure, ClientSession, FIRST_BYTES, client_leaf, peek};
use super::client_failure;
use super::server::TlsServer;
use crate::net::stream::Stream;

impl TlsServer {
    /// Runs the server side of the handshake on the blocking plain `stream` within `limit`,
    /// and gives the session (to run the connection over) with its facts. The socket's read
    /// and write timeouts are left as they were found: none.
    pub fn accept_blocking(
        &self,
        stream: &Stream,
        limit: Duration,
    ) -> Result<(ServerConnection, ClientSession), ClientFailure> {
        let Some(fd) = stream.fd() else {
            return Err(ClientFailure("TLS inside TLS is not served".into()));
        };
        let sock = &mut { stream };
        let deadline = Instant::now() + limit;
        let timed_out = || ClientFailure(client_failure::timed_out(limit));
        let mut first = [0u8; FIRST_BYTES];
        let shown = set_timeouts(&fd, deadline)
            .and_then(|()| peek(&fd, &mut first, true))
            .map_err(|err| match err.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(),
                _ => ClientFailure(client_failure::describe(&err, &[], self, None)),
            })?;
        let first = &first[..shown];
        let (config, seen) = self.session_config().map_err(ClientFailure::cannot_start)?;
        let failed = |err: io::Error| match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(),
            _ => {
                let leaf = client_leaf(seen.as_deref());
                ClientFailure(client_failure::describe(&err, first, self, leaf.as_ref()))
            }
        };
        let mut conn = ServerConnection::new(config).map_err(ClientFailure::cannot_start)?;
        let shaken = handshake(&mut conn, sock, &fd, deadline);
        let _ = clear_timeouts(&fd);
        shaken.map_err(failed)?;
        let session = ClientSession::of(&conn);
        Ok((conn, session))
    }
}

/// Steps the handshake until it is done, then writes what it left (TLS 1.3's tickets). A
/// rustls error comes back as `InvalidData` carrying it, after the alert that says it to the
/// client is sent, as tokio-rustls reports it.
fn handshake(
    conn: &mut ServerConnection,
    sock: &mut (impl Read + Write),
    fd: &impl AsFd,
    deadline: Instant,
) -> io::Result<()> {
    loop {
        while conn.wants_write() {
            set_timeouts(fd, deadline)?;
            conn.write_tls(sock)?;
        }
        if !conn.is_handshaking() {
            return Ok(());
        }
        set_timeouts(fd, deadline)?;
        if conn.read_tls(sock)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if let Err(err) = conn.process_new_packets() {
            // The alert for the client, as far as it takes it.
            while conn.wants_write() {
                if conn.write_tls(sock).is_err() {
                    break;
                }
            }
            return Err(io::Error::new(io::ErrorKind::InvalidData, err));
        }
    }
}

/// Bounds the next read or write by what is left until `deadline`.
fn set_timeouts(sock: &impl AsFd, deadline: Instant) -> io::Result<()> {
    let left = deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
        .ok_or(io::ErrorKind::TimedOut)?;
    let sock = socket2::SockRef::from(sock);
    sock.set_read_timeout(Some(left))?;
    sock.set_write_timeout(Some(left))
}

fn clear_timeouts(sock: &impl AsFd) -> io::Result<()> {
    let sock = socket2::SockRef::from(sock);
    sock.set_read_timeout(None)?;
    sock.set_write_timeout(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::server::ServerSettings;
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_plaintext_client_fails_with_what_it_sent() {
        let server =
            TlsServer::new(ServerSettings::default(), || vec!["localhost".into()]).unwrap();
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let failure = server
            .accept_blocking(&Stream::Unix(ours), Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(
            failure.0,
            "client offered no TLS: it sent \"GET / HTTP/1.0…\""
        );
    }

    #[test]
    fn a_silent_client_times_out() {
        let server =
            TlsServer::new(ServerSettings::default(), || vec!["localhost".into()]).unwrap();
        let (ours, _theirs) = UnixStream::pair().unwrap();
        let failure = server
            .accept_blocking(&Stream::Unix(ours), Duration::from_millis(100))
            .unwrap_err();
        assert!(
            failure.0.starts_with("no TLS handshake within"),
            "{failure}"
        );
    }
}
