//! What a handshake tells: the session's version, cipher and ALPN, and the leaf
//! certificate's names, validity and fingerprint (read with x509-parser). The JSON form is the
//! contract's `tls` object.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::CommonState;
use serde::Serialize;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::pin::Fingerprint;

/// The leaf certificate, as people and scripts want to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// `CN=…, O=…`.
    pub subject: String,
    /// The subject's common name, when it has one.
    pub common_name: Option<String>,
    /// The issuer, in the same form.
    pub issuer: String,
    /// DNS names and IP addresses the certificate is valid for.
    pub sans: Vec<String>,
    /// Start of validity (Unix seconds).
    pub not_before: i64,
    /// End of validity (Unix seconds).
    pub not_after: i64,
    /// The SHA-256 fingerprint of the DER certificate.
    pub sha256: Fingerprint,
}

impl CertFacts {
    /// Reads a DER certificate; `None` when it cannot be parsed.
    pub fn parse(der: &[u8]) -> Option<CertFacts> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        let mut sans = Vec::new();
        if let Ok(Some(extension)) = cert.subject_alternative_name() {
            for name in &extension.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => sans.push((*dns).to_string()),
                    GeneralName::IPAddress(bytes) => sans.extend(ip_text(bytes)),
                    _ => {}
                }
            }
        }
        Some(CertFacts {
            subject: cert.subject().to_string(),
            common_name,
            issuer: cert.issuer().to_string(),
            sans,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            sha256: Fingerprint::of(der),
        })
    }

    /// Whole days from `now` to the end of validity, counted toward zero: 29.9 days left is
    /// 29, expired 1.5 days ago is -1.
    pub fn days_left(&self, now: SystemTime) -> i64 {
        let now = unix_seconds(now);
        (self.not_after - now) / 86_400
    }

    /// `N days` (`1 day`, `-1 day`) until the certificate expires, for the text lines.
    pub fn days_left_phrase(&self, now: SystemTime) -> String {
        match self.days_left(now) {
            days @ (1 | -1) => format!("{days} day"),
            days => format!("{days} days"),
        }
    }

    /// Issued by itself (subject and issuer are the same name).
    pub fn is_self_signed(&self) -> bool {
        self.subject == self.issuer
    }

    /// `CN=localhost` when there is a common name, else the whole subject.
    pub fn short_subject(&self) -> String {
        match &self.common_name {
            Some(cn) => format!("CN={cn}"),
            None if self.subject.is_empty() => "(no subject)".to_string(),
            None => self.subject.clone(),
        }
    }

    /// The names it is valid for, for an error line: the SANs, else the common name.
    pub fn names(&self) -> String {
        if !self.sans.is_empty() {
            return self.sans.join(", ");
        }
        self.common_name
            .clone()
            .unwrap_or_else(|| "no name at all".to_string())
    }
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => {
            let octets: [u8; 4] = bytes.try_into().ok()?;
            Some(std::net::Ipv4Addr::from(octets).to_string())
        }
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            Some(std::net::Ipv6Addr::from(octets).to_string())
        }
        _ => None,
    }
}

/// Seconds since the Unix epoch (negative before it).
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// RFC 3339 in UTC, to the second: `2026-12-31T23:59:59Z`.
pub fn rfc3339(unix: i64) -> String {
    let time = match u64::try_from(unix) {
        Ok(secs) => UNIX_EPOCH + Duration::from_secs(secs),
        Err(_) => UNIX_EPOCH - Duration::from_secs(unix.unsigned_abs()),
    };
    humantime::format_rfc3339_seconds(time).to_string()
}

/// The date part of [`rfc3339`], for text lines: `2026-12-31`.
pub fn date(unix: i64) -> String {
    rfc3339(unix).chars().take(10).collect()
}

/// A completed handshake: the session and, when the server sent one, its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFacts {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The IANA name of the cipher suite, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher: String,
    /// The protocol ALPN settled on.
    pub alpn: Option<String>,
    /// The leaf certificate.
    pub cert: Option<Box<CertFacts>>,
    /// Certificates the server sent.
    pub chain_len: usize,
    /// Why verification failed; `None` when the certificate verified.
    pub verify_error: Option<String>,
    /// What would help when it failed (`--pin`, `--ca`, `--sni`).
    pub verify_hint: Option<String>,
    /// `--pin` was given and the certificate matched it.
    pub pinned: bool,
}

impl TlsFacts {
    /// The session facts of a finished handshake, client or server side (certificate facts
    /// are added by the caller).
    pub fn of_session(conn: &CommonState) -> TlsFacts {
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
            Some(other) => format!("{other:?}"),
            None => "-".to_string(),
        };
        let cipher = conn
            .negotiated_cipher_suite()
            .map(|suite| iana_cipher_name(suite.suite()))
            .unwrap_or_else(|| "-".to_string());
        TlsFacts {
            version,
            cipher,
            alpn: conn
                .alpn_protocol()
                .map(|proto| String::from_utf8_lossy(proto).into_owned()),
            cert: None,
            chain_len: 0,
            verify_error: None,
            verify_hint: None,
            pinned: false,
        }
    }

    /// Whether the certificate verified.
    pub fn verified(&self) -> bool {
        self.verify_error.is_none()
    }

    /// The contract's `tls` object, with days counted from `now`.
    pub fn json(&self, now: SystemTime) -> TlsJson {
        TlsJson {
            version: Some(self.version.clone()),
            cipher: Some(self.cipher.clone()),
            alpn: self.alpn.clone(),
            chain_len: Some(self.chain_len),
            verified: self.verified(),
            verify_error: self.verify_error.clone(),
            ..TlsJson::of_certificate(self.cert.as_deref(), now)
        }
    }

    /// `-v`'s first line: `tls: TLSv1.3 TLS_AES_128_GCM_SHA256 alpn=h2`.
    pub fn session_line(&self) -> String {
        format!(
            "tls: {} {} alpn={}",
            self.version,
            self.cipher,
            crate::output::escape::escape_text(self.alpn.as_deref().unwrap_or("-"))
        )
    }

    /// `-v`'s second line: `certificate: SUBJECT (issuer ISSUER), valid until DATE (N days),
    /// sha256 FINGERPRINT, verify ok|REASON`.
    pub fn certificate_line(&self, now: SystemTime) -> String {
        let verdict = match &self.verify_error {
            None => "verify ok".to_string(),
            Some(reason) if self.pinned => format!("pinned ({reason})"),
            Some(reason) => reason.clone(),
        };
        match &self.cert {
            Some(cert) => crate::output::escape::escape_text(&format!(
                "certificate: {} (issuer {}), valid until {} ({}), sha256 {}, {verdict}",
                cert.subject,
                cert.issuer,
                rfc3339(cert.not_after),
                cert.days_left_phrase(now),
                cert.sha256
            )),
            None => format!("certificate: none presented, {verdict}"),
        }
    }
}

/// The JSON `tls` object. Every field is there; those a failed handshake could not learn are
/// null (`verified` false, `verify_error` says why).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsJson {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: Option<String>,
    /// The cipher suite's IANA name.
    pub cipher: Option<String>,
    /// The ALPN protocol, null when none.
    pub alpn: Option<String>,
    /// The leaf's subject.
    pub subject: Option<String>,
    /// The leaf's issuer.
    pub issuer: Option<String>,
    /// DNS names and IP addresses.
    pub sans: Vec<String>,
    /// RFC 3339.
    pub not_before: Option<String>,
    /// RFC 3339.
    pub not_after: Option<String>,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: Option<i64>,
    /// `AB:CD:…`.
    pub sha256: Option<String>,
    /// Certificates the server sent.
    pub chain_len: Option<usize>,
    /// Whether the certificate verified.
    pub verified: bool,
    /// Why not; null when verified.
    pub verify_error: Option<String>,
}

impl TlsJson {
    /// The object of a handshake that failed for `reason` (the certificate's facts when they
    /// were seen).
    pub fn failed(reason: &str, cert: Option<&CertFacts>, now: SystemTime) -> TlsJson {
        TlsJson {
            verify_error: Some(reason.to_string()),
            ..TlsJson::of_certificate(cert, now)
        }
    }

    /// The certificate's fields (null without one); no session, not verified.
    fn of_certificate(cert: Option<&CertFacts>, now: SystemTime) -> TlsJson {
        TlsJson {
            version: None,
            cipher: None,
            alpn: None,
            subject: cert.map(|c| c.subject.clone()),
            issuer: cert.map(|c| c.issuer.clone()),
            sans: cert.map(|c| c.sans.clone()).unwrap_or_default(),
            not_before: cert.map(|c| rfc3339(c.not_before)),
            not_after: cert.map(|c| rfc3339(c.not_after)),
            days_left: cert.map(|c| c.days_left(now)),
            sha256: cert.map(|c| c.sha256.to_string()),
            chain_len: None,
            verified: false,
            verify_error: None,
        }
    }
}

/// `TLS13_AES_128_GCM_SHA256` → `TLS_AES_128_GCM_SHA256` (the RFC 8446 name); TLS 1.2 names
/// are already IANA's.
fn iana_cipher_name(suite: rustls::CipherSuite) -> String {
    match suite.as_str() {
        Some(name) => match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_string(),
        },
        None => format!("{suite:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_days() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(86_400 * 365), "1971-01-01");
        let cert = CertFacts {
            subject: "CN=a".into(),
            common_name: Some("a".into()),
            issuer: "CN=a".into(),
            sans: vec![],
            not_before: 0,
            not_after: 10 * 86_400 + 5,
            sha256: Fingerprint([0; 32]),
        };
        assert_eq!(cert.days_left(UNIX_EPOCH), 10);
        assert_eq!(
            cert.days_left(UNIX_EPOCH + Duration::from_secs(12 * 86_400)),
            -1
        );
        assert_eq!(cert.days_left_phrase(UNIX_EPOCH), "10 days");
        assert_eq!(
            cert.days_left_phrase(UNIX_EPOCH + Duration::from_secs(9 * 86_400)),
            "1 day"
        );
        assert_eq!(
            cert.days_left_phrase(UNIX_EPOCH + Duration::from_secs(12 * 86_400)),
            "-1 day"
        );
        assert!(cert.is_self_signed());
        assert_eq!(cert.names(), "a");
    }

    #[test]
    fn cipher_names_are_iana() {
        assert_eq!(
            iana_cipher_name(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(
            iana_cipher_name(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        );
    }
}
