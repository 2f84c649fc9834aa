//! The server side of TLS (`listen --tls`): one rustls [`ServerConfig`] built from the flags,
//! with the certificate of `--cert`/`--key` or a fresh self-signed one, `--client-ca` for
//! mutual TLS and `--alpn` (chosen in our order among the client's offers).

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ConfigBuilder, ServerConfig, WantsVerifier};

use super::client_verify::SeenClient;
use super::facts::{CertFacts, date};
use super::pem::{alpn_protocols, certs_from_file, key_from_file, roots_from_file};
use super::pin::Fingerprint;
use super::provider::provider;
use super::self_signed;
use super::setup_error::{PemFile, TlsSetupError};
use crate::output::escape::{escape_text, quote_arg};
use crate::output::notes;

/// What `listen --tls` was given.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerSettings<'a> {
    /// `--cert FILE`: the certificate chain, leaf first (with `key`).
    pub cert: Option<&'a Path>,
    /// `--key FILE`.
    pub key: Option<&'a Path>,
    /// `--client-ca FILE`: require a client certificate signed by these CAs.
    pub client_ca: Option<&'a Path>,
    /// `--alpn PROTO`, in our order of preference.
    pub alpn: &'a [String],
}

/// Where the served certificate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Made at start-up for these names.
    SelfSigned(Vec<String>),
    /// `--cert`.
    Files,
}

/// Everything needed to serve TLS, validated once.
#[derive(Debug, Clone)]
pub struct TlsServer {
    config: Arc<ServerConfig>,
    /// `--client-ca`'s verifier; each connection's config wraps it ([`SeenClient`]).
    client_ca: Option<Arc<dyn ClientCertVerifier>>,
    /// The served leaf's SHA-256 fingerprint.
    pub fingerprint: Fingerprint,
    /// Self-signed or from `--cert`.
    pub identity: Identity,
    /// `--alpn`, for the report of a client that offered none of them.
    pub alpn: Vec<String>,
}

impl TlsServer {
    /// Builds the server from the flags. `names` gives the self-signed certificate's names
    /// (see [`self_signed::names_for`]); it is called only without `--cert`. Bad files and
    /// values are a [`TlsSetupError`].
    pub fn new(
        settings: ServerSettings<'_>,
        names: impl FnOnce() -> Vec<String>,
    ) -> Result<TlsServer, TlsSetupError> {
        let provider = provider();
        let (chain, key, identity) = match (settings.cert, settings.key) {
            (Some(cert), Some(key)) => {
                let chain = certs_from_file(cert, PemFile::Cert)?;
                warn_if_out_of_date(&chain[0], cert);
                (chain, key_from_file(key)?, Identity::Files)
            }
            (None, None) => {
                let made = self_signed::generate(names())?;
                (vec![made.cert], made.key, Identity::SelfSigned(made.names))
            }
            (Some(_), None) => return Err(TlsSetupError::CertWithoutKey),
            (None, Some(_)) => return Err(TlsSetupError::KeyWithoutCert),
        };
        let fingerprint = Fingerprint::of(&chain[0]);
        let certified = certified_key(chain, key, &provider)?;
        let client_ca = match settings.client_ca {
            Some(path) => {
                let roots = roots_from_file(path, PemFile::ClientCa)?;
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|error| TlsSetupError::ClientCa {
                            path: path.to_path_buf(),
                            error,
                        })?;
                Some(verifier)
            }
            None => None,
        };
        let builder = builder().map_err(TlsSetupError::Config)?;
        let builder = match &client_ca {
            Some(verifier) => builder.with_client_cert_verifier(Arc::clone(verifier)),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
        config.alpn_protocols = alpn_protocols(settings.alpn)?;
        // No TLS 1.3 session tickets: records the client never asked for. A send-only client
        // (`socat -u`, `ncat --send-only`) never reads them, and closing a socket with unread
        // data makes the kernel send a reset and drop what it had not yet sent: the end of
        // the client's data. Resumption is worth little to a listener like this one.
        config.send_tls13_tickets = 0;
        Ok(TlsServer {
            config: Arc::new(config),
            client_ca,
            fingerprint,
            identity,
            alpn: settings.alpn.to_vec(),
        })
    }

    /// The rustls config one connection's session starts from and, with `--client-ca`, the
    /// verifier that keeps that connection's client certificate. Everything but the verifier
    /// is shared (the certificate, ALPN, the session cache).
    pub fn session_config(
        &self,
    ) -> Result<(Arc<ServerConfig>, Option<Arc<SeenClient>>), rustls::Error> {
        let Some(webpki) = &self.client_ca else {
            return Ok((Arc::clone(&self.config), None));
        };
        let seen = Arc::new(SeenClient::new(Arc::clone(webpki)));
        let mut config = builder()?
            .with_client_cert_verifier(seen.clone())
            .with_cert_resolver(Arc::clone(&self.config.cert_resolver));
        config.alpn_protocols = self.config.alpn_protocols.clone();
        config.send_tls13_tickets = self.config.send_tls13_tickets;
        config.session_storage = Arc::clone(&self.config.session_storage);
        config.ticketer = Arc::clone(&self.config.ticketer);
        Ok((Arc::new(config), Some(seen)))
    }

    /// Says before the ready line, so that a client can `--pin` it:
    /// `tls certificate sha256 FINGERPRINT (self-signed for NAMES)`. A certificate from
    /// `--cert` is the operator's own and is named only with `-v`.
    pub fn announce(&self) {
        match &self.identity {
            Identity::SelfSigned(names) => notes::ready(format_args!(
                "tls certificate sha256 {} (self-signed for {})",
                self.fingerprint,
                escape_text(&names.join(", "))
            )),
            Identity::Files => notes::verbose(format_args!(
                "tls certificate sha256 {} (from --cert)",
                self.fingerprint
            )),
        }
    }
}

/// A server config's start: ring, TLS 1.3 and 1.2.
fn builder() -> Result<ConfigBuilder<ServerConfig, WantsVerifier>, rustls::Error> {
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
}

/// The chain and its key as rustls serves them; a key that is not the certificate's is
/// refused here rather than by every client.
fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<CertifiedKey, TlsSetupError> {
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(TlsSetupError::UnusableKey)?;
    let certified = CertifiedKey::new(chain, signing);
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        certified.keys_match()
    {
        return Err(TlsSetupError::KeyMismatch);
    }
    Ok(certified)
}

/// A served certificate that clients will refuse for its dates is worth a warning, not a
/// refusal (a test of exactly that is a fair use).
fn warn_if_out_of_date(leaf: &CertificateDer<'_>, path: &Path) {
    let Some(facts) = CertFacts::parse(leaf) else {
        return;
    };
    let now = super::facts::unix_seconds(SystemTime::now());
    let shown = quote_arg(&path.display().to_string());
    if facts.not_after < now {
        notes::warn(format_args!(
            "--cert {shown} expired on {}: clients that verify will refuse it",
            date(facts.not_after)
        ));
    } else if facts.not_before > now {
        notes::warn(format_args!(
            "--cert {shown} is not valid before {}: clients that verify will refuse it",
            date(facts.not_before)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_server_builds_with_alpn() {
        let alpn = ["h2".to_string(), "http/1.1".to_string()];
        let settings = ServerSettings {
            alpn: &alpn,
            ..ServerSettings::default()
        };
        let server = TlsServer::new(settings, || vec!["localhost".into()]).unwrap();
        assert_eq!(
            server.identity,
            Identity::SelfSigned(vec!["localhost".into()])
        );
        let (config, seen) = server.session_config().unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");
        assert!(seen.is_none());
    }

    #[test]
    fn a_key_without_a_certificate_is_refused() {
        let settings = ServerSettings {
            key: Some(Path::new("/nonexistent")),
            ..ServerSettings::default()
        };
        let err = TlsServer::new(settings, Vec::new).unwrap_err();
        assert!(matches!(err, TlsSetupError::KeyWithoutCert), "{err:?}");
    }
}
