//! `connect --tls` and `--starttls`: on the connected stream (TCP, Unix, or a proxy's tunnel),
//! the protocol's plaintext dialogue and the handshake, bounded by `--timeout`; `-v`'s two
//! lines; then the TLS stream the relay takes. A failure is the contract's one line,
//! `TLS handshake with PEER failed: REASON`, with its hint.

use std::io;
use std::time::{Duration, SystemTime};

use crate::cmd::failure::relay_failure;
use crate::cmd::tls_failure::handshake_failure;
use crate::error::Error;
use crate::net::relay::RelayError;
use crate::net::relay::tls::{TlsDataError, TlsStream};
use crate::net::stream::Stream;
use crate::net::tls::{Established, TlsClient};
use crate::output::notes;

/// A session that is up, and what its handshake said (for errors that surface later).
pub struct Secured {
    /// The TLS stream.
    pub stream: Stream,
    /// What is kept of the handshake.
    pub handshake: HandshakeEnd,
}

/// What is kept of the handshake once the session runs.
pub struct HandshakeEnd {
    client_cert_asked: bool,
    client_cert_present: bool,
}

/// Runs the dialogue and the handshake on `plain`; `host` is the name sent and verified
/// (unless `--sni`), `peer` how errors name the server.
pub fn secure(
    plain: Stream,
    client: &TlsClient,
    host: &str,
    peer: &str,
    timeout: Duration,
) -> anyhow::Result<Secured> {
    let handshake = client.session(host).map_err(Error::from)?;
    set_timeouts(&plain, Some(timeout))
        .map_err(|err| Error::failure(format!("cannot set the handshake's timeout: {err}")))?;
    let established: Established = handshake
        .complete(&mut &plain)
        .map_err(|failure| handshake_failure(failure, peer))?;
    set_timeouts(&plain, None)
        .map_err(|err| Error::failure(format!("cannot clear the handshake's timeout: {err}")))?;
    let now = SystemTime::now();
    notes::verbose(format_args!("{}", established.facts.session_line()));
    notes::verbose(format_args!("{}", established.facts.certificate_line(now)));
    let end = HandshakeEnd {
        client_cert_asked: established.client_cert_asked,
        client_cert_present: established.client_cert_present,
    };
    let tls = TlsStream::new(established.conn, plain)
        .map_err(|err| Error::failure(format!("cannot start the TLS session: {err}")))?;
    Ok(Secured {
        stream: tls.into(),
        handshake: end,
    })
}

impl HandshakeEnd {
    /// A relay error as the user reads it: an error rustls raised before the server's first
    /// data is the end of the handshake (`TLS handshake with PEER failed: …`); the rest as
    /// any relay reports it.
    pub fn relay_error(&self, err: RelayError, peer: &str) -> anyhow::Error {
        let RelayError::Peer(io_err) = &err else {
            return relay_failure(err, peer);
        };
        let Some(data) = TlsDataError::of(io_err) else {
            return relay_failure(err, peer);
        };
        if data.before_data {
            let failure = crate::net::tls::late_failure(
                &data.error,
                self.client_cert_asked,
                self.client_cert_present,
            );
            return handshake_failure(failure, peer).into();
        }
        // Later, a TLS error is the connection's loss, named as a handshake's would be.
        let reason = crate::net::tls::late_failure(&data.error, false, false).reason;
        Error::failure(format!("connection with {peer} lost: TLS: {reason}")).into()
    }
}

/// Bounds every read and write of the handshake (SO_RCVTIMEO, SO_SNDTIMEO); `None` clears.
fn set_timeouts(stream: &Stream, timeout: Option<Duration>) -> io::Result<()> {
    match stream {
        Stream::Tcp(tcp) => {
            tcp.set_read_timeout(timeout)?;
            tcp.set_write_timeout(timeout)
        }
        Stream::Unix(unix) => {
            unix.set_read_timeout(timeout)?;
            unix.set_write_timeout(timeout)
        }
        Stream::Tls(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::AlertDescription;

    fn tls_error(error: rustls::Error, before_data: bool) -> RelayError {
        RelayError::Peer(io::Error::new(
            io::ErrorKind::InvalidData,
            TlsDataError { error, before_data },
        ))
    }

    fn message(err: anyhow::Error) -> String {
        err.downcast::<Error>().expect("a sockx error").message
    }

    #[test]
    fn a_tls_error_before_the_first_data_ends_the_handshake() {
        let end = HandshakeEnd {
            client_cert_asked: true,
            client_cert_present: false,
        };
        let err = tls_error(
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
            true,
        );
        assert_eq!(
            message(end.relay_error(err, "localhost:443")),
            "TLS handshake with localhost:443 failed: the server requires a client certificate (alert certificate_required)"
        );
        let err = tls_error(
            rustls::Error::AlertReceived(AlertDescription::BadRecordMac),
            false,
        );
        assert_eq!(
            message(end.relay_error(err, "localhost:443")),
            "connection with localhost:443 lost: TLS: the server sent alert bad_record_mac"
        );
    }
}
