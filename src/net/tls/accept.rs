//! One client's handshake with `listen --tls`, on the async stream the served modes use:
//! bounded by a timeout, its failure named (with what a plaintext client sent, which is why
//! the first bytes are peeked at before rustls takes them), and its facts kept for `-v`.

use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use rustls::ServerConnection;
use tokio::io::Interest;
use tokio_rustls::TlsAcceptor;

use super::client_failure;
use super::client_verify::SeenClient;
use super::facts::{CertFacts, TlsFacts};
use super::server::TlsServer;
use super::session::ServerSession;
use crate::net::async_stream::AsyncStream;
use crate::output::escape::escape_text;
use crate::output::notes;

/// How long a client has for its handshake when `-w` does not say.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a client's first bytes is kept to show a plaintext client.
pub(super) const FIRST_BYTES: usize = 64;

/// Waits until the client has sent something (or closed), and copies what is there into
/// `buf` without consuming it.
async fn peek_first(stream: &AsyncStream, buf: &mut [u8]) -> io::Result<usize> {
    let Some(socket) = stream.plain() else {
        return Ok(0);
    };
    loop {
        socket.ready(Interest::READABLE).await?;
        match socket.try_io(Interest::READABLE, || peek(&socket, buf, false)) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
            done => return done,
        }
    }
}

/// Copies what the peer has sent into `buf` without taking it (`MSG_PEEK`); with `wait`, blocks
/// until something is there (or the socket's read timeout passes).
pub(super) fn peek(stream: &impl AsFd, buf: &mut [u8], wait: bool) -> io::Result<usize> {
    use nix::sys::socket::{MsgFlags, recv};
    use std::os::fd::AsRawFd;
    let flags = if wait {
        MsgFlags::MSG_PEEK
    } else {
        MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT
    };
    loop {
        match recv(stream.as_fd().as_raw_fd(), buf, flags) {
            Err(nix::errno::Errno::EINTR) => continue,
            done => return done.map_err(io::Error::from),
        }
    }
}

/// What a finished handshake settled, for `-v`.
#[derive(Debug, Clone)]
pub struct ClientSession {
    /// Version, cipher and ALPN.
    pub facts: TlsFacts,
    /// The client's certificate (with `--client-ca`).
    pub client_cert: Option<CertFacts>,
}

impl ClientSession {
    /// What the finished handshake of `conn` settled.
    pub fn of(conn: &ServerConnection) -> ClientSession {
        ClientSession {
            facts: TlsFacts::of_session(conn),
            client_cert: conn
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|leaf| CertFacts::parse(leaf)),
        }
    }

    /// The `-v` lines of a client's session: `PEER tls: TLSv1.3 CIPHER alpn=PROTO` and, with
    /// `--client-ca`, `PEER client certificate: SUBJECT (issuer ISSUER)`.
    pub fn report(&self, peer: &dyn fmt::Display) {
        notes::verbose(format_args!("{peer} {}", self.facts.session_line()));
        if let Some(cert) = &self.client_cert {
            notes::verbose(format_args!(
                "{peer} client certificate: {}",
                escape_text(&format!("{} (issuer {})", cert.subject, cert.issuer))
            ));
        }
    }
}

/// A client's handshake that failed: why, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFailure(pub String);

impl ClientFailure {
    /// `-v`: `TLS handshake with PEER failed: REASON` (the listener goes on).
    pub fn report(&self, peer: &dyn fmt::Display) {
        notes::verbose(format_args!("TLS handshake with {peer} failed: {}", self.0));
    }
}

impl ClientFailure {
    /// rustls refused to start a session (it accepted the same config at start-up).
    pub(super) fn cannot_start(err: rustls::Error) -> ClientFailure {
        ClientFailure(format!("cannot start a TLS session: {err}"))
    }
}

/// The facts of the certificate a client presented, when `--client-ca` saw one.
pub(super) fn client_leaf(seen: Option<&SeenClient>) -> Option<CertFacts> {
    seen.and_then(SeenClient::leaf)
        .and_then(|der| CertFacts::parse(&der))
}

impl fmt::Display for ClientFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TlsServer {
    /// Runs the server side of the handshake with the client `peer` on the plain `stream`
    /// within `limit`; the session, as one more [`AsyncStream`], and what it settled.
    pub async fn accept(
        &self,
        stream: AsyncStream,
        peer: &(dyn fmt::Display + Sync),
        limit: Duration,
    ) -> Result<(AsyncStream, ClientSession), ClientFailure> {
        let (config, seen) = self.session_config().map_err(ClientFailure::cannot_start)?;
        let acceptor = TlsAcceptor::from(config);
        let handshake = async {
            let mut first = [0u8; FIRST_BYTES];
            let shown = peek_first(&stream, &mut first).await.unwrap_or(0);
            let first = first[..shown].to_vec();
            acceptor.accept(stream).await.map_err(|err| {
                let leaf = client_leaf(seen.as_deref());
                ClientFailure(client_failure::describe(&err, &first, self, leaf.as_ref()))
            })
        };
        let stream = tokio::time::timeout(limit, handshake)
            .await
            .map_err(|_| ClientFailure(client_failure::timed_out(limit)))??;
        let session = ClientSession::of(stream.get_ref().1);
        let stream = ServerSession::new(stream, peer.to_string());
        Ok((AsyncStream::Tls(Box::new(stream)), session))
    }
}
