//! Why a handshake failed, in words: every cause named (expired with the date, unknown
//! issuer, name mismatch with the names, plaintext peer, protocol version, the peer's alert),
//! with a hint where `--insecure`, `--pin`, `--ca` or `--sni` would help.

use std::io;

use rustls::{AlertDescription, CertificateError, Error, PeerIncompatible};

use super::facts::{CertFacts, rfc3339};
use super::verify::Seen;
use crate::output::escape::escape_bytes;

/// A failed handshake: the reason (the contract's REASON) and a hint (`cmd` words the error:
/// `TLS handshake with HOST:PORT failed: REASON`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFailure {
    /// What went wrong, one line.
    pub reason: String,
    /// What to try, when something would help.
    pub hint: Option<String>,
    /// The server's certificate, when it was seen.
    pub cert: Option<Box<CertFacts>>,
}

impl TlsFailure {
    fn new(reason: impl Into<String>) -> TlsFailure {
        TlsFailure {
            reason: reason.into(),
            hint: None,
            cert: None,
        }
    }
}

/// The reason a certificate did not verify, and the hint that goes with it.
pub fn certificate_problem(
    err: &Error,
    cert: Option<&CertFacts>,
    pin_matches: Option<bool>,
) -> (String, Option<String>) {
    let accept_hint = |cert: Option<&CertFacts>| {
        let pin = cert.map_or_else(|| "FINGERPRINT".to_string(), |c| c.sha256.to_string());
        format!("to trust this certificate anyway, pass --pin {pin} (or --insecure)")
    };
    let Error::InvalidCertificate(cert_err) = err else {
        return (describe_error(err), None);
    };
    // A self-signed certificate (made by `openssl req -x509`, a CA certificate) fails as an
    // unknown issuer or as a CA used as an end entity: either way, say what it is.
    if let Some(cert) = cert.filter(|cert| cert.is_self_signed())
        && matches!(
            cert_err,
            CertificateError::UnknownIssuer | CertificateError::Other(_)
        )
    {
        return (
            format!(
                "self-signed certificate ({}): unknown issuer",
                cert.short_subject()
            ),
            Some(format!(
                "to trust this certificate, pass --pin {} (or --insecure)",
                cert.sha256
            )),
        );
    }
    match cert_err {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let when = match (cert_err, cert) {
                (CertificateError::ExpiredContext { not_after, .. }, _) => {
                    Some(rfc3339(not_after.as_secs() as i64))
                }
                (_, Some(cert)) => Some(rfc3339(cert.not_after)),
                _ => None,
            };
            let reason = match when {
                Some(when) => format!("certificate expired on {when}"),
                None => "certificate expired".to_string(),
            };
            (reason, Some(accept_hint(cert)))
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            let when = match (cert_err, cert) {
                (CertificateError::NotValidYetContext { not_before, .. }, _) => {
                    Some(rfc3339(not_before.as_secs() as i64))
                }
                (_, Some(cert)) => Some(rfc3339(cert.not_before)),
                _ => None,
            };
            let reason = match when {
                Some(when) => format!("certificate not yet valid: valid from {when}"),
                None => "certificate not yet valid".to_string(),
            };
            (
                reason,
                Some(format!("check this host's clock; {}", accept_hint(cert))),
            )
        }
        CertificateError::UnknownIssuer => {
            let reason = match cert {
                Some(cert) if cert.is_self_signed() => {
                    format!(
                        "self-signed certificate ({}): unknown issuer",
                        cert.short_subject()
                    )
                }
                Some(cert) => format!("unknown issuer {}", cert.issuer),
                None => "unknown issuer".to_string(),
            };
            (
                reason,
                Some(format!(
                    "pass --ca FILE with the issuing CA, or {}",
                    accept_hint(cert).trim_start_matches("to trust this certificate anyway, ")
                )),
            )
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let (expected, presented) = match cert_err {
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => (Some(server_name_text(expected)), presented.join(", ")),
                _ => (None, cert.map(CertFacts::names).unwrap_or_default()),
            };
            let names = match cert {
                Some(cert) => cert.names(),
                None => presented,
            };
            let reason = match expected {
                Some(expected) => {
                    format!("name mismatch: the certificate is valid for {names}, not {expected}")
                }
                None => format!("name mismatch: the certificate is valid for {names}"),
            };
            (
                reason,
                Some(format!(
                    "name one of those with --sni NAME, or {}",
                    accept_hint(cert).trim_start_matches("to trust this certificate anyway, ")
                )),
            )
        }
        CertificateError::ApplicationVerificationFailure if pin_matches == Some(false) => (
            match cert {
                Some(cert) => format!("certificate sha256 {} does not match --pin", cert.sha256),
                None => "the certificate does not match --pin".to_string(),
            },
            None,
        ),
        CertificateError::Revoked => ("certificate revoked".to_string(), None),
        CertificateError::BadSignature => (
            "certificate has a bad signature".to_string(),
            Some(accept_hint(cert)),
        ),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => (
            "certificate is not for TLS servers (extended key usage)".to_string(),
            Some(accept_hint(cert)),
        ),
        other => (
            format!(
                "invalid certificate: {}",
                Error::InvalidCertificate(other.clone())
            ),
            Some(accept_hint(cert)),
        ),
    }
}

/// Classifies a handshake error. `seen` is what the verifier recorded; `first_bytes` what the
/// peer sent first (a plaintext answer is recognised by it).
pub fn classify(err: &Error, seen: Option<&Seen>, first_bytes: &[u8]) -> TlsFailure {
    if is_decode_error(err) && !first_bytes.is_empty() && !looks_like_tls(first_bytes) {
        return plaintext(first_bytes);
    }
    if let Error::InvalidCertificate(cert_err) = err {
        let cert = seen
            .and_then(|seen| CertFacts::parse(&seen.leaf))
            .map(Box::new);
        // With --pin the pin decides: say that first, and what verification found too.
        if seen.and_then(|seen| seen.pin_matches) == Some(false) {
            let mismatch = match &cert {
                Some(cert) => format!("certificate sha256 {} does not match --pin", cert.sha256),
                None => "the certificate does not match --pin".to_string(),
            };
            let reason = match cert_err {
                CertificateError::ApplicationVerificationFailure => mismatch,
                _ => {
                    let (verdict, _) = certificate_problem(err, cert.as_deref(), None);
                    format!("{mismatch} (and {verdict})")
                }
            };
            return TlsFailure {
                reason,
                hint: None,
                cert,
            };
        }
        let (reason, hint) =
            certificate_problem(err, cert.as_deref(), seen.and_then(|seen| seen.pin_matches));
        return TlsFailure { reason, hint, cert };
    }
    let mut failure = TlsFailure::new(describe_error(err));
    if let Error::AlertReceived(AlertDescription::ProtocolVersion)
    | Error::PeerIncompatible(
        PeerIncompatible::ServerDoesNotSupportTls12Or13 | PeerIncompatible::Tls12NotOffered,
    ) = err
    {
        failure.hint = Some("sockx speaks TLS 1.2 and 1.3; this server offers neither".into());
    }
    failure
}

/// An alert a server sends about the client's certificate (or its absence).
fn is_client_cert_alert(failure: &TlsFailure) -> bool {
    [
        "alert certificate_required",
        "alert bad_certificate",
        "alert unknown_ca",
        "alert certificate_unknown",
        "alert unsupported_certificate",
        "alert certificate_expired",
        "alert certificate_revoked",
        "alert access_denied",
        "alert illegal_parameter",
        "alert decrypt_error",
        "alert handshake_failure",
    ]
    .iter()
    .any(|alert| failure.reason.contains(alert))
}

/// A failure of a handshake in which the server asked for a client certificate: an alert
/// about it says that the server refused ours (or wanted one).
pub fn about_client_cert(failure: TlsFailure, present: bool) -> TlsFailure {
    if !is_client_cert_alert(&failure) {
        return failure;
    }
    let alert = failure.reason.split("alert ").nth(1).unwrap_or_default();
    let alert = alert.split(')').next().unwrap_or_default();
    client_cert_refused(present, &format!("alert {alert}"))
}

/// The server asked for a client certificate and then ended the connection (`cause`).
pub fn client_cert_refused(present: bool, cause: &str) -> TlsFailure {
    let (reason, hint) = if present {
        (
            format!("the server refused our client certificate ({cause})"),
            "check that --cert is signed by a CA the server trusts",
        )
    } else {
        (
            format!("the server requires a client certificate ({cause})"),
            "pass --cert FILE --key FILE",
        )
    };
    TlsFailure {
        reason,
        hint: Some(hint.to_string()),
        cert: None,
    }
}

/// The peer closed the connection before the handshake finished.
pub fn closed_early(first_bytes: &[u8]) -> TlsFailure {
    if !first_bytes.is_empty() && !looks_like_tls(first_bytes) {
        return plaintext(first_bytes);
    }
    TlsFailure::new("the peer closed the connection during the handshake")
}

/// A socket error during the handshake.
pub fn io_failure(err: &io::Error, first_bytes: &[u8]) -> TlsFailure {
    if !first_bytes.is_empty() && !looks_like_tls(first_bytes) {
        return plaintext(first_bytes);
    }
    match err.kind() {
        io::ErrorKind::ConnectionReset => {
            TlsFailure::new("the peer reset the connection during the handshake")
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            TlsFailure::new("timed out waiting for the server's TLS answer")
        }
        _ => TlsFailure::new(format!("{err}")),
    }
}

/// The handshake did not finish within the timeout.
pub fn timed_out(first_bytes: &[u8]) -> TlsFailure {
    if !first_bytes.is_empty() && !looks_like_tls(first_bytes) {
        return plaintext(first_bytes);
    }
    let mut failure = TlsFailure::new("timed out waiting for the server's TLS answer");
    failure.hint = Some("is this a TLS port? a plaintext service may wait for a line".into());
    failure
}

fn plaintext(first_bytes: &[u8]) -> TlsFailure {
    TlsFailure {
        reason: format!(
            "peer offered no TLS: it answered \"{}\"",
            first_line(first_bytes)
        ),
        hint: Some("this port speaks plaintext; drop --tls (or try the service's TLS port)".into()),
        cert: None,
    }
}

/// The first line of what a plaintext peer sent, escaped for a terminal and cut to 48
/// characters (`…` where it was cut), to be shown between double quotes.
pub fn first_line(first_bytes: &[u8]) -> String {
    const SHOWN: usize = 48;
    let line_end = first_bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(first_bytes.len());
    let line = &first_bytes[..line_end];
    let cut = line.len() > SHOWN || line_end < first_bytes.len();
    let shown = escape_bytes(&line[..line.len().min(SHOWN)]).replace('"', "\\\"");
    format!("{shown}{}", if cut { "…" } else { "" })
}

/// The peer's first bytes are not a TLS record.
pub fn is_plaintext(first_bytes: &[u8]) -> bool {
    !first_bytes.is_empty() && !looks_like_tls(first_bytes)
}

/// A TLS record starts with a content type (20–24) and major version 3.
fn looks_like_tls(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(20..=24)) && bytes.get(1).is_none_or(|&major| major == 3)
}

fn is_decode_error(err: &Error) -> bool {
    matches!(
        err,
        Error::InvalidMessage(_)
            | Error::InappropriateMessage { .. }
            | Error::InappropriateHandshakeMessage { .. }
            | Error::PeerSentOversizedRecord
            | Error::PeerMisbehaved(_)
    )
}

fn describe_error(err: &Error) -> String {
    match err {
        Error::AlertReceived(alert) => {
            let name = alert_name(*alert);
            match alert {
                AlertDescription::ProtocolVersion => {
                    format!("protocol version: the server refused TLS 1.2 and 1.3 (alert {name})")
                }
                AlertDescription::HandshakeFailure => {
                    format!("the server found nothing in common with us (alert {name})")
                }
                AlertDescription::CertificateRequired => {
                    format!(
                        "the server requires a client certificate (alert {name}); pass --cert and --key"
                    )
                }
                AlertDescription::UnrecognisedName => {
                    format!("the server does not know this name (alert {name}); try --sni NAME")
                }
                _ => format!("the server sent alert {name}"),
            }
        }
        Error::PeerIncompatible(incompatible) => match incompatible {
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig => {
                "protocol version: the server speaks neither TLS 1.2 nor 1.3".to_string()
            }
            PeerIncompatible::NoCipherSuitesInCommon => "no cipher suite in common".to_string(),
            PeerIncompatible::NoKxGroupsInCommon => "no key exchange group in common".to_string(),
            PeerIncompatible::NoSignatureSchemesInCommon => {
                "no signature scheme in common".to_string()
            }
            other => format!("the server is incompatible: {other:?}"),
        },
        Error::NoApplicationProtocol => "the server accepted none of the --alpn protocols".into(),
        Error::NoCertificatesPresented => "the server presented no certificate".into(),
        other => other.to_string(),
    }
}

/// `HandshakeFailure` → `handshake_failure`, as RFC 8446 names alerts.
pub fn alert_name(alert: AlertDescription) -> String {
    let Some(name) = alert.as_str() else {
        return format!("{alert:?}");
    };
    let mut snake = String::new();
    let mut previous_upper = true;
    for ch in name.chars() {
        if ch.is_ascii_uppercase() {
            // `UnknownCA` is `unknown_ca`: a run of capitals is one word.
            if !previous_upper {
                snake.push('_');
            }
            previous_upper = true;
            snake.push(ch.to_ascii_lowercase());
        } else {
            previous_upper = false;
            snake.push(ch);
        }
    }
    snake
}

fn server_name_text(name: &rustls::pki_types::ServerName<'_>) -> String {
    match name {
        rustls::pki_types::ServerName::DnsName(dns) => dns.as_ref().to_string(),
        rustls::pki_types::ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plaintext_answer_is_recognised_and_escaped() {
        let failure = closed_early(b"HTTP/1.1 400 Bad Request\r\nServer: x\r\n");
        assert_eq!(
            failure.reason,
            "peer offered no TLS: it answered \"HTTP/1.1 400 Bad Request…\""
        );
        let failure = closed_early(b"\x1b[31mred\"q");
        assert_eq!(
            failure.reason,
            "peer offered no TLS: it answered \"\\x1b[31mred\\\"q\""
        );
        assert!(closed_early(b"\x16\x03\x03").reason.contains("closed"));
    }

    #[test]
    fn alerts_are_named_as_the_rfc_does() {
        assert_eq!(
            alert_name(AlertDescription::HandshakeFailure),
            "handshake_failure"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        let failure = classify(
            &Error::AlertReceived(AlertDescription::ProtocolVersion),
            None,
            b"",
        );
        assert!(
            failure.reason.starts_with("protocol version"),
            "{failure:?}"
        );
    }
}
