//! What can be wrong with the TLS settings, said as facts (which file, which value, what
//! rustls or rcgen answered); `cmd` words them for the user with the flags they came from.

use std::path::PathBuf;

use rustls::client::VerifierBuilderError;
use rustls::pki_types::pem;

/// Which of the files the TLS settings name a PEM problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemFile {
    /// The certificate chain (`--cert`).
    Cert,
    /// The private key (`--key`).
    Key,
    /// A client's trust anchors (`--ca`).
    Ca,
    /// A server's trust anchors for client certificates (`--client-ca`).
    ClientCa,
}

/// A TLS client or server that cannot be set up from what it was given.
#[derive(Debug)]
pub enum TlsSetupError {
    /// The file cannot be read or is not PEM of the right kind.
    Pem {
        file: PemFile,
        path: PathBuf,
        error: pem::Error,
    },
    /// The file holds no certificate.
    NoCertificate { file: PemFile, path: PathBuf },
    /// The file holds certificates, none of them usable as a trust anchor.
    NoUsableCa {
        file: PemFile,
        path: PathBuf,
        rejected: usize,
    },
    /// The client-CA verifier cannot be built from the file's anchors.
    ClientCa {
        path: PathBuf,
        error: VerifierBuilderError,
    },
    /// The server verifier cannot be built from the trusted roots.
    Roots(VerifierBuilderError),
    /// The private key is not one rustls can sign with.
    UnusableKey(rustls::Error),
    /// The key's public key is not the certificate's.
    KeyMismatch,
    /// A certificate was given without its key.
    CertWithoutKey,
    /// A key was given without its certificate.
    KeyWithoutCert,
    /// The SNI name given is neither a DNS name nor an IP address.
    Sni(String),
    /// The pin given is not a fingerprint (the reason in words).
    Pin(String),
    /// An ALPN protocol name that is empty or longer than 255 bytes.
    Alpn(String),
    /// A host that cannot be verified by name (and no SNI name was given).
    Unverifiable(String),
    /// rustls refused the protocol versions or the provider.
    Config(rustls::Error),
    /// A self-signed certificate could not be made.
    SelfSigned(rcgen::Error),
    /// One connection's session could not be started.
    Session(rustls::Error),
}
