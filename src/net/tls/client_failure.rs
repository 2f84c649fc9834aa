//! Why a client's handshake with `listen --tls` failed, in the words of the client side's
//! failures (`failure.rs`): a plaintext client with what it sent, the client's alert by its
//! RFC name, protocol version, ALPN, and the client certificate `--client-ca` asks for.

use std::io;
use std::time::Duration;

use rustls::{AlertDescription, CertificateError, Error, PeerIncompatible};

use super::facts::CertFacts;
use super::failure::{alert_name, first_line, is_plaintext};
use super::server::TlsServer;
use crate::output::escape::escape_text;

/// The reason a client's handshake failed, one line.
/// `client_cert` is the certificate the client presented (with `--client-ca`), to name it.
pub fn describe(
    err: &io::Error,
    first_bytes: &[u8],
    server: &TlsServer,
    client_cert: Option<&CertFacts>,
) -> String {
    if is_plaintext(first_bytes) {
        return format!(
            "client offered no TLS: it sent \"{}\"",
            first_line(first_bytes)
        );
    }
    if let Some(tls) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Error>())
    {
        if let (Error::PeerIncompatible(_), Some(version)) = (tls, old_hello(first_bytes)) {
            return format!(
                "protocol version: the client offers {version} at best; sockx serves TLS 1.2 and 1.3"
            );
        }
        return describe_tls(tls, server, client_cert);
    }
    match err.kind() {
        io::ErrorKind::UnexpectedEof => {
            "the client closed the connection during the handshake".into()
        }
        io::ErrorKind::ConnectionReset => {
            "the client reset the connection during the handshake".into()
        }
        _ => crate::net::cause::describe(err),
    }
}

/// The version of a ClientHello from before TLS 1.2 (`TLS 1.1`, `TLS 1.0`, `SSL 3.0`), read
/// from its first bytes: record type 22, handshake type 1, then `client_version` (a TLS 1.3
/// client says 1.2 there).
fn old_hello(first_bytes: &[u8]) -> Option<&'static str> {
    match first_bytes {
        [22, 3, _, _, _, 1, _, _, _, 3, minor, ..] => match minor {
            0 => Some("SSL 3.0"),
            1 => Some("TLS 1.0"),
            2 => Some("TLS 1.1"),
            _ => None,
        },
        _ => None,
    }
}

impl TlsServer {
    /// A TLS error from a client after its handshake (a bad record, its fatal alert), in the
    /// words of a failed handshake.
    pub fn describe_client_error(&self, err: &Error) -> String {
        describe_tls(err, self, None)
    }
}

/// The handshake did not finish in time.
pub fn timed_out(limit: Duration) -> String {
    format!(
        "no TLS handshake within {}",
        humantime::format_duration(limit)
    )
}

fn describe_tls(err: &Error, server: &TlsServer, client_cert: Option<&CertFacts>) -> String {
    match err {
        Error::AlertReceived(alert) => {
            let name = alert_name(*alert);
            match alert {
                AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateExpired => {
                    let why = match server.identity {
                        super::server::Identity::SelfSigned(_) => format!(
                            "; it is self-signed: pin sha256 {} (or skip verification)",
                            server.fingerprint
                        ),
                        super::server::Identity::Files => String::new(),
                    };
                    format!("the client refused our certificate (alert {name}){why}")
                }
                AlertDescription::ProtocolVersion => {
                    format!("protocol version: the client refused TLS 1.2 and 1.3 (alert {name})")
                }
                _ => format!("the client sent alert {name}"),
            }
        }
        Error::PeerIncompatible(incompatible) => match incompatible {
            PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::SupportedVersionsExtensionRequired => {
                "protocol version: the client offers neither TLS 1.2 nor 1.3".into()
            }
            PeerIncompatible::NoCipherSuitesInCommon => "no cipher suite in common".into(),
            PeerIncompatible::NoKxGroupsInCommon => "no key exchange group in common".into(),
            PeerIncompatible::NoSignatureSchemesInCommon => "no signature scheme in common".into(),
            other => format!("the client is incompatible: {other:?}"),
        },
        Error::NoApplicationProtocol => format!(
            "no ALPN protocol in common: the client offered none of {} (--alpn)",
            escape_text(&server.alpn.join(", "))
        ),
        Error::NoCertificatesPresented => {
            "the client presented no certificate (--client-ca requires one)".into()
        }
        Error::InvalidCertificate(cert_err) => {
            let whose = client_cert.map_or_else(String::new, |cert| {
                escape_text(&format!(
                    " {} (issuer {})",
                    cert.short_subject(),
                    cert.issuer
                ))
            });
            format!(
                "client certificate{whose} refused: {}",
                client_certificate_problem(cert_err)
            )
        }
        other => format!("{other}"),
    }
}

fn client_certificate_problem(err: &CertificateError) -> String {
    match err {
        CertificateError::UnknownIssuer => "unknown issuer (not signed by a --client-ca CA)".into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired".into(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "not yet valid".into()
        }
        CertificateError::BadSignature => "bad signature".into(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "not for TLS clients (extended key usage)".into()
        }
        CertificateError::Revoked => "revoked".into(),
        // webpki's word for a CA certificate (as `openssl req -x509` makes by default)
        // presented as a client's own.
        CertificateError::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "it is a CA certificate, not a client's (self-signed?), and not signed by a --client-ca CA"
                .into()
        }
        other => Error::InvalidCertificate(other.clone()).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::server::ServerSettings;

    fn server() -> TlsServer {
        TlsServer::new(ServerSettings::default(), || vec!["localhost".into()]).unwrap()
    }

    #[test]
    fn a_plaintext_client_is_shown_with_what_it_sent() {
        let err = io::Error::new(io::ErrorKind::InvalidData, "x");
        assert_eq!(
            describe(&err, b"GET / HTTP/1.1\r\nHost: x\r\n", &server(), None),
            "client offered no TLS: it sent \"GET / HTTP/1.1…\""
        );
    }

    #[test]
    fn a_tls_1_1_client_is_a_protocol_version_failure() {
        let err = io::Error::new(
            io::ErrorKind::InvalidData,
            Error::PeerIncompatible(PeerIncompatible::SignatureAlgorithmsExtensionRequired),
        );
        let hello = [22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 2, 0, 0];
        assert_eq!(
            describe(&err, &hello, &server(), None),
            "protocol version: the client offers TLS 1.1 at best; sockx serves TLS 1.2 and 1.3"
        );
    }

    #[test]
    fn a_refused_self_signed_certificate_says_how_to_pin_it() {
        let server = server();
        let err = io::Error::new(
            io::ErrorKind::InvalidData,
            Error::AlertReceived(AlertDescription::UnknownCA),
        );
        let reason = describe(&err, b"\x16\x03\x01", &server, None);
        assert!(
            reason.starts_with("the client refused our certificate (alert unknown_ca)"),
            "{reason}"
        );
        assert!(reason.contains(&server.fingerprint.to_string()), "{reason}");
    }
}
