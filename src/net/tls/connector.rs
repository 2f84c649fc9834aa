//! Client handshakes on tokio streams (`listen --forward-tls`): the same configuration,
//! verification and failure reasons as the blocking [`Handshake`](super::Handshake), through
//! tokio-rustls.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::client::TlsClient;
use super::facts::TlsFacts;
use super::failure::{self, TlsFailure};
use super::handshake::judged_facts;
use super::setup_error::TlsSetupError;

/// Why [`TlsClient::connect_async`] gave no session.
#[derive(Debug)]
pub enum ConnectFailure {
    /// This connection's session could not be set up (before a byte was sent).
    Setup(TlsSetupError),
    /// The handshake failed.
    Handshake(TlsFailure),
}

impl TlsClient {
    /// Runs a client handshake with the server named `host` over `stream`: the session and its
    /// facts (what failed verification too, under `--insecure`), or, when a certificate does
    /// not verify (under [`Policy::Enforce`](super::Policy)) or anything else fails, the reason.
    pub async fn connect_async<S>(
        &self,
        host: &str,
        stream: S,
    ) -> Result<(TlsStream<S>, TlsFacts), ConnectFailure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let one = self.connection(host).map_err(ConnectFailure::Setup)?;
        let connector = TlsConnector::from(one.config);
        let session = connector.connect(one.name, stream).await.map_err(|err| {
            let tls_error = err
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            ConnectFailure::Handshake(match tls_error {
                Some(tls_error) => failure::classify(tls_error, one.verifier.seen().as_ref(), &[]),
                None if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                    failure::closed_early(&[])
                }
                None => failure::io_failure(&err, &[]),
            })
        })?;
        let facts = judged_facts(session.get_ref().1, &one.verifier);
        Ok((session, facts))
    }
}
