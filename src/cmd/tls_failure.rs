//! `net::tls`'s typed failures in the user's words: a bad TLS setting is a usage error (exit 2)
//! that names its flag and file; a failed handshake or a certificate that cannot be made is a
//! failure (exit 1).

use std::path::Path;

use rustls::pki_types::pem;

use crate::error::Error;
use crate::net::tls::{PemFile, TlsFailure, TlsSetupError};
use crate::output::escape::quote_arg;

impl From<TlsSetupError> for Error {
    fn from(err: TlsSetupError) -> Error {
        match err {
            TlsSetupError::Pem { file, path, error } => {
                let error = Error::usage(format!(
                    "{} {}: {}",
                    flag(file),
                    shown(&path),
                    pem_problem(&error)
                ));
                match file {
                    PemFile::Key => error.with_hint(
                        "a PEM private key: PKCS#8 (BEGIN PRIVATE KEY), PKCS#1 (BEGIN RSA PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY)",
                    ),
                    _ => error,
                }
            }
            TlsSetupError::NoCertificate { file, path } => Error::usage(format!(
                "{} {}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)",
                flag(file),
                shown(&path)
            )),
            TlsSetupError::NoUsableCa {
                file,
                path,
                rejected,
            } => Error::usage(format!(
                "{} {}: no usable CA certificate ({rejected} rejected)",
                flag(file),
                shown(&path)
            )),
            TlsSetupError::ClientCa { path, error } => {
                Error::usage(format!("--client-ca {}: {error}", shown(&path)))
            }
            TlsSetupError::Roots(err) => {
                Error::usage(format!("cannot use the trusted roots: {err}"))
            }
            TlsSetupError::UnusableKey(err) => {
                Error::usage(format!("--key: cannot use this key: {err}"))
            }
            TlsSetupError::KeyMismatch => {
                Error::usage("--key does not go with --cert: their public keys differ")
            }
            TlsSetupError::CertWithoutKey => Error::usage("--cert needs --key"),
            TlsSetupError::KeyWithoutCert => Error::usage("--key needs --cert"),
            TlsSetupError::Sni(name) => Error::usage(format!("--sni: {}", not_a_name(&name))),
            TlsSetupError::Pin(reason) => Error::usage(format!("--pin: {reason}")),
            TlsSetupError::Alpn(proto) => Error::usage(format!(
                "--alpn: '{}' is not a protocol name (1 to 255 bytes)",
                quote_arg(&proto)
            )),
            TlsSetupError::Unverifiable(host) => Error::usage(format!(
                "cannot verify '{}' by name: {}",
                quote_arg(&host),
                not_a_name(&host)
            ))
            .with_hint("name the server with --sni NAME"),
            TlsSetupError::Config(err) => Error::usage(format!("cannot configure TLS: {err}")),
            TlsSetupError::SelfSigned(err) => {
                Error::failure(format!("cannot make a self-signed certificate: {err}"))
            }
            TlsSetupError::Session(err) => {
                Error::failure(format!("cannot start a TLS session: {err}"))
            }
        }
    }
}

/// The error for a failed handshake with `peer`: `TLS handshake with HOST:PORT failed: REASON`
/// (exit 1), with the failure's hint.
pub fn handshake_failure(failure: TlsFailure, peer: &str) -> Error {
    let error = Error::failure(format!(
        "TLS handshake with {peer} failed: {}",
        failure.reason
    ));
    match failure.hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// A connection whose session cannot even be set up, reported as its handshake's failure
/// (a probe's verdict, a forwarded connection's end).
pub fn setup_as_handshake(err: TlsSetupError) -> TlsFailure {
    let error = Error::from(err);
    TlsFailure {
        reason: error.message,
        hint: error.hint,
        cert: None,
    }
}

/// The flag that names `file`.
fn flag(file: PemFile) -> &'static str {
    match file {
        PemFile::Cert => "--cert",
        PemFile::Key => "--key",
        PemFile::Ca => "--ca",
        PemFile::ClientCa => "--client-ca",
    }
}

fn shown(path: &Path) -> String {
    quote_arg(&path.display().to_string())
}

fn not_a_name(text: &str) -> String {
    format!("'{}' is not a valid server name", quote_arg(text))
}

fn pem_problem(err: &pem::Error) -> String {
    match err {
        pem::Error::Io(io) => io.to_string(),
        pem::Error::NoItemsFound => "no PEM item of the right kind in it".to_string(),
        other => format!("not valid PEM ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn a_bad_key_file_names_its_flag_and_the_key_formats() {
        let err = Error::from(TlsSetupError::Pem {
            file: PemFile::Key,
            path: "/no/key.pem".into(),
            error: pem::Error::NoItemsFound,
        });
        assert_eq!(err.status, Status::Usage);
        assert_eq!(
            err.message,
            "--key /no/key.pem: no PEM item of the right kind in it"
        );
        assert!(err.hint.unwrap().starts_with("a PEM private key"));
    }

    #[test]
    fn an_unverifiable_host_points_at_sni_and_a_handshake_names_its_peer() {
        let err = Error::from(TlsSetupError::Unverifiable("bad name".into()));
        assert_eq!(
            err.message,
            "cannot verify 'bad name' by name: 'bad name' is not a valid server name"
        );
        assert_eq!(err.hint.as_deref(), Some("name the server with --sni NAME"));
        let failure = TlsFailure {
            reason: "unknown issuer".into(),
            hint: None,
            cert: None,
        };
        let err = handshake_failure(failure, "127.0.0.1:443");
        assert_eq!(err.status, Status::Negative);
        assert_eq!(
            err.message,
            "TLS handshake with 127.0.0.1:443 failed: unknown issuer"
        );
    }
}
