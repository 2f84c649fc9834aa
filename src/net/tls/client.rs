//! The client side of TLS built from the contract's flags: trust (the system's store, the
//! Mozilla roots where it has none, or `--ca`), SNI, ALPN, a client certificate, `--insecure`
//! and `--pin`. One [`TlsClient`] per run; [`TlsClient::session`] starts one connection's
//! handshake.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rustls::client::{ResolvesClientCert, Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ClientConnection, RootCertStore, SignatureScheme};

use super::handshake::Handshake;
use super::pem::{alpn_protocols, certs_from_file, key_from_file, roots_from_file};
use super::pin::Fingerprint;
use super::provider::provider;
use super::setup_error::{PemFile, TlsSetupError};
use super::starttls::{StartTls, Upgrade};
use super::verify::{Policy, RecordingVerifier};
use crate::cli::TlsArgs;

/// Where the trusted roots came from, for `-v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustSource {
    /// `--ca FILE`.
    CaFile,
    /// The operating system's store.
    System,
    /// The built-in Mozilla roots (the system has none).
    Mozilla,
}

/// Everything needed to start client handshakes, validated once.
#[derive(Debug, Clone)]
pub struct TlsClient {
    provider: Arc<CryptoProvider>,
    webpki: Arc<WebPkiServerVerifier>,
    client_key: Option<Arc<CertifiedKey>>,
    alpn: Vec<Vec<u8>>,
    sni: Option<ServerName<'static>>,
    insecure: bool,
    pin: Option<Fingerprint>,
    policy: Policy,
    starttls: Option<StartTls>,
    /// Where the roots came from.
    pub trust: TrustSource,
}

impl TlsClient {
    /// Builds the client from the flags; bad files or values are a [`TlsSetupError`].
    /// `policy` says whether a certificate that does not verify ends the handshake
    /// ([`Policy::Enforce`], for connections) or is reported ([`Policy::Record`], for probes).
    pub fn from_args(args: &TlsArgs, policy: Policy) -> Result<TlsClient, TlsSetupError> {
        let provider = provider();
        let (roots, trust) = match &args.ca {
            Some(path) => (roots_from_file(path, PemFile::Ca)?, TrustSource::CaFile),
            None => system_roots(),
        };
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(TlsSetupError::Roots)?;
        let client_key = match (&args.cert, &args.key) {
            (Some(cert), Some(key)) => {
                let certs = certs_from_file(cert, PemFile::Cert)?;
                let key = key_from_file(key)?;
                let signing = provider
                    .key_provider
                    .load_private_key(key)
                    .map_err(TlsSetupError::UnusableKey)?;
                let certified = CertifiedKey::new(certs, signing);
                // Only a proven mismatch is refused: a certificate rustls cannot parse for
                // the comparison (an X.509 v1 one, say) is still the server's to judge.
                if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
                    certified.keys_match()
                {
                    return Err(TlsSetupError::KeyMismatch);
                }
                Some(Arc::new(certified))
            }
            _ => None,
        };
        let sni = match &args.sni {
            Some(name) => Some(server_name(name).ok_or_else(|| TlsSetupError::Sni(name.clone()))?),
            None => None,
        };
        let pin = match &args.pin {
            Some(text) => Some(text.parse().map_err(TlsSetupError::Pin)?),
            None => None,
        };
        let alpn = alpn_protocols(&args.alpn)?;
        let client = TlsClient {
            provider,
            webpki,
            client_key,
            alpn,
            sni,
            insecure: args.insecure,
            pin,
            policy,
            starttls: args.starttls,
            trust,
        };
        Ok(client)
    }

    /// `--pin` was given.
    pub fn pin(&self) -> Option<Fingerprint> {
        self.pin
    }

    /// `--insecure` was given.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// The name sent and verified for a peer named `host`: `--sni`, else the host name; an
    /// IP address is verified against IP SANs and sends no SNI.
    pub fn server_name_for(&self, host: &str) -> Result<ServerName<'static>, TlsSetupError> {
        match &self.sni {
            Some(name) => Ok(name.clone()),
            None => server_name(host).ok_or_else(|| TlsSetupError::Unverifiable(host.to_string())),
        }
    }

    /// Starts one connection's handshake with the server named `host` (for SNI and
    /// verification; see [`TlsClient::server_name_for`]).
    pub fn session(&self, host: &str) -> Result<Handshake, TlsSetupError> {
        let one = self.connection(host)?;
        let conn = ClientConnection::new(one.config, one.name).map_err(TlsSetupError::Session)?;
        // A probe waits for the server's word on its client certificate (TLS 1.3 gives it
        // after the handshake); a connection learns it from its first read.
        let await_verdict = self.policy == Policy::Record;
        let upgrade = self
            .starttls
            .map(|proto| Upgrade::new(proto, &client_name()));
        Ok(Handshake::new(
            conn,
            one.verifier,
            one.client_cert,
            await_verdict,
            upgrade,
        ))
    }

    /// What one connection's handshake with the server named `host` needs: its config (whose
    /// verifier records that connection's certificate), the name, and the recorders.
    pub(super) fn connection(&self, host: &str) -> Result<OneConnection, TlsSetupError> {
        let name = self.server_name_for(host)?;
        let verifier = Arc::new(RecordingVerifier::new(
            self.webpki.clone(),
            self.policy,
            self.insecure,
            self.pin,
        ));
        let client_cert = Arc::new(ClientCert {
            key: self.client_key.clone(),
            asked: AtomicBool::new(false),
        });
        let mut config = self.config_with(verifier.clone(), client_cert.clone())?;
        config.alpn_protocols = self.alpn.clone();
        Ok(OneConnection {
            config: Arc::new(config),
            name,
            verifier,
            client_cert,
        })
    }

    /// A config per connection: the verifier records that connection's certificate, and no
    /// session is resumed (every probe is a full handshake, as `--count` means to time). With
    /// resumption off the client neither keeps a session cache per connection nor asks for a
    /// ticket, so the server does not make one (a TLS 1.2 server's NewSessionTicket, which
    /// the probe would only throw away).
    fn config_with(
        &self,
        verifier: Arc<RecordingVerifier>,
        client_cert: Arc<ClientCert>,
    ) -> Result<ClientConfig, TlsSetupError> {
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(TlsSetupError::Config)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(client_cert);
        config.resumption = Resumption::disabled();
        Ok(config)
    }
}

/// One connection's handshake material, see [`TlsClient::connection`].
pub(super) struct OneConnection {
    pub config: Arc<ClientConfig>,
    pub name: ServerName<'static>,
    pub verifier: Arc<RecordingVerifier>,
    pub client_cert: Arc<ClientCert>,
}

/// The client certificate of one connection (if any), and whether the server asked for one.
#[derive(Debug)]
pub struct ClientCert {
    key: Option<Arc<CertifiedKey>>,
    asked: AtomicBool,
}

impl ClientCert {
    /// The server sent a CertificateRequest.
    pub fn asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed)
    }

    /// A client certificate was there to send.
    pub fn present(&self) -> bool {
        self.key.is_some()
    }
}

impl ResolvesClientCert for ClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// The name this host gives itself in SMTP's EHLO: its host name, `localhost` when it has
/// none fit to send.
fn client_name() -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        sysinfo::System::host_name()
            .ok()
            .filter(|name| {
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            })
            .unwrap_or_else(|| "localhost".to_string())
    })
    .clone()
}

/// `--sni` or a host: a DNS name or an IP address; `None` when it is neither.
fn server_name(text: &str) -> Option<ServerName<'static>> {
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(text.to_string()).ok()
}

/// The system's roots; the built-in Mozilla roots when it has none.
fn system_roots() -> (RootCertStore, TrustSource) {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added > 0 {
        return (roots, TrustSource::System);
    }
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    (roots, TrustSource::Mozilla)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_literal_is_verified_as_an_address() {
        assert!(matches!(
            server_name("127.0.0.1"),
            Some(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("[::1]"),
            Some(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("localhost"),
            Some(ServerName::DnsName(_))
        ));
        assert!(server_name("bad name").is_none());
    }

    #[test]
    fn a_client_without_files_builds() {
        let args = TlsArgs {
            tls: true,
            insecure: true,
            ..TlsArgs::default()
        };
        let client = TlsClient::from_args(&args, Policy::Record).unwrap();
        assert!(client.session("localhost").is_ok());
    }
}
