//! The client-certificate check of `--client-ca`: WebPKI's verdict, unchanged, with the leaf
//! the client presented kept for that one connection, so that a refusal can say whose
//! certificate it was (`client certificate CN=mallory (issuer CN=…) refused: unknown issuer`).

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

/// One connection's client-certificate verifier.
#[derive(Debug)]
pub struct SeenClient {
    webpki: Arc<dyn ClientCertVerifier>,
    leaf: Mutex<Option<CertificateDer<'static>>>,
}

impl SeenClient {
    /// Verifies with `webpki`, keeping the leaf.
    pub fn new(webpki: Arc<dyn ClientCertVerifier>) -> SeenClient {
        SeenClient {
            webpki,
            leaf: Mutex::new(None),
        }
    }

    /// The certificate the client presented, once it has.
    pub fn leaf(&self) -> Option<CertificateDer<'static>> {
        self.leaf
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ClientCertVerifier for SeenClient {
    fn offer_client_auth(&self) -> bool {
        self.webpki.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.webpki.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        *self.leaf.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(end_entity.clone().into_owned());
        self.webpki
            .verify_client_cert(end_entity, intermediates, now)
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
