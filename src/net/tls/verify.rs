//! The server-certificate verifier: the real WebPKI verification always runs and its verdict
//! is recorded (with the leaf), so that `--insecure`, `--pin` and `probe` still know what
//! failed; the policy then decides whether the handshake goes on.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};

use super::pin::Fingerprint;

/// Whether a certificate that fails verification may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The connection goes on only with a verified certificate (or `--insecure`, or a
    /// matching `--pin`): `connect --tls`.
    Enforce,
    /// Every certificate is accepted and judged afterwards (`probe`, which reports the facts
    /// of a certificate that does not verify).
    Record,
}

/// What the verifier saw of the server's certificate.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The leaf certificate.
    pub leaf: CertificateDer<'static>,
    /// Certificates the server sent (the leaf and its intermediates).
    pub chain_len: usize,
    /// The WebPKI verdict.
    pub webpki: Result<(), Error>,
    /// With `--pin`: whether the leaf is the pinned one.
    pub pin_matches: Option<bool>,
}

/// One connection's verifier (it records what it saw for that connection only).
#[derive(Debug)]
pub struct RecordingVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    policy: Policy,
    insecure: bool,
    pin: Option<Fingerprint>,
    seen: Mutex<Option<Seen>>,
}

impl RecordingVerifier {
    /// A verifier for one connection.
    pub fn new(
        webpki: Arc<WebPkiServerVerifier>,
        policy: Policy,
        insecure: bool,
        pin: Option<Fingerprint>,
    ) -> RecordingVerifier {
        RecordingVerifier {
            webpki,
            policy,
            insecure,
            pin,
            seen: Mutex::new(None),
        }
    }

    /// What was seen, once the server's certificate arrived.
    pub fn seen(&self) -> Option<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether a certificate with this verdict is good enough for the connection.
    pub fn accepts(&self, seen: &Seen) -> bool {
        match seen.pin_matches {
            Some(matches) => matches,
            None => seen.webpki.is_ok() || self.insecure,
        }
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let webpki = self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ());
        let seen = Seen {
            leaf: end_entity.clone().into_owned(),
            chain_len: 1 + intermediates.len(),
            webpki,
            pin_matches: self.pin.map(|pin| Fingerprint::of(end_entity) == pin),
        };
        let accepted = self.policy == Policy::Record || self.accepts(&seen);
        let verdict = seen.webpki.clone();
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(seen);
        match (accepted, verdict) {
            (true, _) => Ok(ServerCertVerified::assertion()),
            (false, Err(err)) => Err(err),
            // Verified, but not the pinned certificate.
            (false, Ok(())) => Err(Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
