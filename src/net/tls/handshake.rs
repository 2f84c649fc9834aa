//! Driving one client handshake over any `Read + Write`: step by step on a non-blocking
//! socket (the probe's poller), or to the end on a blocking one ([`Handshake::complete`],
//! which returns a `rustls::StreamOwned` for the relay). With `--starttls` the protocol's
//! plaintext dialogue ([`Upgrade`]) runs first, in the same steps. Either way the result is
//! the session's [`TlsFacts`] or a [`TlsFailure`] that names its cause.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::ClientConnection;

use super::client::ClientCert;
use super::facts::{CertFacts, TlsFacts};
use super::failure::{self, TlsFailure, certificate_problem};
use super::starttls::{Dialogue, Upgrade};
use super::verify::RecordingVerifier;

/// What an error rustls raised after the handshake but before the server's first data comes
/// to: the server's verdict on the handshake (a TLS 1.3 server refuses a client certificate
/// only after its last handshake message). `asked`/`present`: the server asked for a client
/// certificate, and we had one.
pub fn late_failure(error: &rustls::Error, asked: bool, present: bool) -> TlsFailure {
    let failure = failure::classify(error, None, b"");
    if asked {
        return failure::about_client_cert(failure, present);
    }
    failure
}

/// How many of the peer's first bytes are kept to recognise a plaintext answer.
const FIRST_BYTES: usize = 256;

/// One client handshake in progress.
#[derive(Debug)]
pub struct Handshake {
    conn: ClientConnection,
    verifier: Arc<RecordingVerifier>,
    first_bytes: Vec<u8>,
    /// The peer answered in plaintext: read the rest of its first line, to quote it.
    plaintext: bool,
    client_cert: Arc<ClientCert>,
    /// After a TLS 1.3 handshake in which the server asked for a client certificate, wait for
    /// its next record: a session ticket (accepted) or an alert (refused).
    await_verdict: bool,
    /// The handshake is done; waiting for that record.
    settling: bool,
    /// `--starttls`: the plaintext dialogue still to run before the handshake.
    upgrade: Option<Upgrade>,
}

/// A session whose handshake [`Handshake::complete`] finished.
#[derive(Debug)]
pub struct Established {
    /// The session.
    pub conn: ClientConnection,
    /// What the handshake told.
    pub facts: TlsFacts,
    /// The server asked for a client certificate.
    pub client_cert_asked: bool,
    /// We had one to send.
    pub client_cert_present: bool,
}

/// Where a handshake stands after [`Handshake::step`].
#[derive(Debug)]
pub enum Progress {
    /// Blocked: wait until the socket is readable (and writable, when `write`).
    Pending {
        /// Output is waiting to be written.
        write: bool,
    },
    /// Finished.
    Done(Result<TlsFacts, TlsFailure>),
}

impl Handshake {
    pub(super) fn new(
        conn: ClientConnection,
        verifier: Arc<RecordingVerifier>,
        client_cert: Arc<ClientCert>,
        await_verdict: bool,
        upgrade: Option<Upgrade>,
    ) -> Handshake {
        Handshake {
            conn,
            verifier,
            first_bytes: Vec::new(),
            plaintext: false,
            client_cert,
            await_verdict,
            settling: false,
            upgrade,
        }
    }

    /// Moves the handshake (and first the STARTTLS dialogue) on as far as `io` allows
    /// without blocking.
    pub fn step(&mut self, io: &mut (impl Read + Write)) -> Progress {
        if let Some(upgrade) = &mut self.upgrade {
            match upgrade.step(io) {
                Dialogue::Pending { write } => return Progress::Pending { write },
                Dialogue::Failed(failure) => return Progress::Done(Err(failure)),
                Dialogue::Done => self.upgrade = None,
            }
        }
        let mut buf = [0u8; 16 * 1024];
        loop {
            while !self.plaintext && self.conn.wants_write() {
                match self.conn.write_tls(io) {
                    Ok(_) => {}
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        return Progress::Pending { write: true };
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        return Progress::Done(Err(failure::io_failure(&err, &self.first_bytes)));
                    }
                }
            }
            if !self.plaintext && !self.settling && !self.conn.is_handshaking() {
                let tls13 = self.conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
                if !(self.await_verdict && tls13 && self.client_cert.asked()) {
                    return Progress::Done(Ok(self.facts()));
                }
                self.settling = true;
            }
            let n = match io.read(&mut buf) {
                Ok(0) if self.settling => {
                    return Progress::Done(Err(
                        self.refused_client_cert("it closed the connection after the handshake")
                    ));
                }
                Ok(0) => return Progress::Done(Err(failure::closed_early(&self.first_bytes))),
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    return Progress::Pending { write: false };
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Progress::Done(Err(failure::io_failure(&err, &self.first_bytes)));
                }
            };
            let keep = n.min(FIRST_BYTES.saturating_sub(self.first_bytes.len()));
            self.first_bytes.extend_from_slice(&buf[..keep]);
            if self.plaintext {
                if self.first_bytes.len() >= FIRST_BYTES || self.first_bytes.contains(&b'\n') {
                    return Progress::Done(Err(failure::closed_early(&self.first_bytes)));
                }
                continue;
            }
            let mut unread = &buf[..n];
            while !unread.is_empty() {
                let processed = self
                    .conn
                    .read_tls(&mut unread)
                    .map_err(|err| failure::io_failure(&err, &self.first_bytes))
                    .and_then(|_| {
                        self.conn.process_new_packets().map_err(|err| {
                            failure::classify(
                                &err,
                                self.verifier.seen().as_ref(),
                                &self.first_bytes,
                            )
                        })
                    });
                if processed.is_err() && failure::is_plaintext(&self.first_bytes) {
                    // Quote the whole first line, which may still be on its way.
                    self.plaintext = true;
                    if self.first_bytes.contains(&b'\n') {
                        return Progress::Done(Err(failure::closed_early(&self.first_bytes)));
                    }
                    break;
                }
                if let Err(mut failure) = processed {
                    if self.client_cert.asked() {
                        failure = failure::about_client_cert(failure, self.client_cert.present());
                    }
                    // Tell the peer why (the alert rustls queued), best effort.
                    let _ = self.conn.write_tls(io);
                    return Progress::Done(Err(failure));
                }
            }
            if self.settling {
                // The server's next record after the handshake, and no alert: accepted.
                return Progress::Done(Ok(self.facts()));
            }
        }
    }

    /// The session, once the handshake is done (for what is said over it next).
    pub fn into_connection(self) -> ClientConnection {
        self.conn
    }

    /// Ends a finished session politely (close_notify), best effort: a probe that got what it
    /// came for leaves no error in the server's log.
    pub fn close(&mut self, io: &mut impl Write) {
        self.conn.send_close_notify();
        while self.conn.wants_write() {
            if self.conn.write_tls(io).is_err() {
                break;
            }
        }
    }

    /// What a handshake whose deadline passed comes to: a failure, unless it was complete
    /// and only the server's word on the client certificate was awaited (silence: accepted).
    pub fn deadline(&self) -> Result<TlsFacts, TlsFailure> {
        if self.settling {
            return Ok(self.facts());
        }
        Err(self.timed_out())
    }

    /// The failure to report when the handshake's deadline passed.
    pub fn timed_out(&self) -> TlsFailure {
        match &self.upgrade {
            Some(upgrade) => upgrade.timed_out(),
            None => failure::timed_out(&self.first_bytes),
        }
    }

    /// The server asked for a client certificate and then ended the connection (`cause`).
    fn refused_client_cert(&self, cause: &str) -> TlsFailure {
        failure::client_cert_refused(self.client_cert.present(), cause)
    }

    /// Runs the handshake to its end on a blocking stream: the session the relay (`connect
    /// --tls`) then reads and writes over that stream. A read timeout set on the socket
    /// bounds it.
    pub fn complete(mut self, stream: &mut (impl Read + Write)) -> Result<Established, TlsFailure> {
        match self.step(stream) {
            Progress::Done(Ok(facts)) => Ok(Established {
                client_cert_asked: self.client_cert.asked(),
                client_cert_present: self.client_cert.present(),
                conn: self.conn,
                facts,
            }),
            Progress::Done(Err(failure)) => Err(failure),
            // On a blocking socket only a read timeout (SO_RCVTIMEO) stops a step early.
            Progress::Pending { .. } => Err(self.timed_out()),
        }
    }

    /// The facts of the finished handshake, judged by the verifier's record.
    fn facts(&self) -> TlsFacts {
        judged_facts(&self.conn, &self.verifier)
    }
}

/// The facts of a finished client handshake on `conn`, judged by what `verifier` recorded.
pub(super) fn judged_facts(conn: &ClientConnection, verifier: &RecordingVerifier) -> TlsFacts {
    let mut facts = TlsFacts::of_session(conn);
    let Some(seen) = verifier.seen() else {
        return facts;
    };
    let cert = CertFacts::parse(&seen.leaf);
    facts.chain_len = seen.chain_len;
    facts.pinned = seen.pin_matches == Some(true);
    let mismatch = || {
        certificate_problem(
            &rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ),
            cert.as_ref(),
            Some(false),
        )
    };
    let problem = match (&seen.webpki, seen.pin_matches) {
        (Ok(()), Some(false)) => Some(mismatch()),
        (Ok(()), _) => None,
        // The pin decides: say that first, and what verification found too.
        (Err(err), Some(false)) => {
            let (verdict, _) = certificate_problem(err, cert.as_ref(), None);
            let (reason, hint) = mismatch();
            Some((format!("{reason} (and {verdict})"), hint))
        }
        (Err(err), _) => Some(certificate_problem(err, cert.as_ref(), seen.pin_matches)),
    };
    if let Some((reason, hint)) = problem {
        facts.verify_error = Some(reason);
        facts.verify_hint = hint;
    }
    facts.cert = cert.map(Box::new);
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::TlsArgs;
    use crate::net::tls::{Policy, TlsClient};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    #[test]
    fn a_blocking_handshake_with_a_plaintext_server_names_it() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut peer, _) = listener.accept().unwrap();
            peer.write_all(b"220 mail.example ESMTP ready\r\n").unwrap();
            let mut sink = [0u8; 4096];
            let _ = peer.read(&mut sink);
        });
        let args = TlsArgs {
            tls: true,
            ..TlsArgs::default()
        };
        let client = TlsClient::from_args(&args, Policy::Enforce).unwrap();
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let failure = client
            .session("127.0.0.1")
            .unwrap()
            .complete(&mut stream)
            .unwrap_err();
        server.join().unwrap();
        assert_eq!(
            failure.reason,
            "peer offered no TLS: it answered \"220 mail.example ESMTP ready…\""
        );
    }
}
