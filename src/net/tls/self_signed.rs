//! The throwaway certificate of `listen --tls` without `--cert`: a fresh ECDSA P-256 key and a
//! self-signed certificate (rcgen, signed with ring) for the names a local client uses,
//! valid for 30 days from a minute ago (a client whose clock is a little behind still
//! accepts it).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

use super::setup_error::TlsSetupError;

/// How long the certificate is valid.
pub const VALIDITY: Duration = Duration::from_secs(30 * 86_400);

/// The subject's common name.
const COMMON_NAME: &str = "sockx self-signed";

/// A generated certificate and its key.
#[derive(Debug)]
pub struct SelfSigned {
    /// The DER certificate.
    pub cert: CertificateDer<'static>,
    /// Its PKCS#8 key.
    pub key: PrivateKeyDer<'static>,
    /// The names it is valid for, in the order of its SANs.
    pub names: Vec<String>,
}

/// The names of a listener's certificate: `localhost`, `127.0.0.1`, `::1`, the bind address
/// (unless it is every interface) and the names given, each once. A name that cannot be a
/// DNS SAN (a host name with a space, say) is left out rather than refused.
pub fn names_for(bind: Option<IpAddr>, host_names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    let mut add = |name: String| {
        if !names.iter().any(|known| known.eq_ignore_ascii_case(&name)) {
            names.push(name);
        }
    };
    if let Some(ip) = bind.map(|ip| ip.to_canonical())
        && !ip.is_unspecified()
    {
        add(ip.to_string());
    }
    for host in host_names {
        let host = host.trim_end_matches('.');
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            if !ip.is_unspecified() {
                add(ip.to_canonical().to_string());
            }
        } else if matches!(ServerName::try_from(host), Ok(ServerName::DnsName(_))) {
            add(host.to_ascii_lowercase());
        }
    }
    names
}

/// Generates the key and the certificate for `names` (see [`names_for`]).
pub fn generate(names: Vec<String>) -> Result<SelfSigned, TlsSetupError> {
    let failed = TlsSetupError::SelfSigned;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, COMMON_NAME);
    params.distinguished_name = subject;
    let now = SystemTime::now();
    params.not_before = (now - Duration::from_secs(60)).into();
    params.not_after = (now + VALIDITY).into();
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    for name in &names {
        let san = match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(name.clone().try_into().map_err(failed)?),
        };
        params.subject_alt_names.push(san);
    }
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok(SelfSigned {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::facts::CertFacts;

    #[test]
    fn the_names_are_the_local_ones_each_once() {
        let names = names_for(Some("::".parse().unwrap()), &["buildhost", "LOCALHOST"]);
        assert_eq!(names, ["localhost", "127.0.0.1", "::1", "buildhost"]);
        let names = names_for(
            Some("::ffff:10.1.2.3".parse().unwrap()),
            &["bad name", "127.0.0.1"],
        );
        assert_eq!(names, ["localhost", "127.0.0.1", "::1", "10.1.2.3"]);
    }

    #[test]
    fn the_certificate_is_valid_for_its_names_for_30_days() {
        let names = names_for(None, &["buildhost"]);
        let made = generate(names.clone()).unwrap();
        let facts = CertFacts::parse(&made.cert).unwrap();
        assert_eq!(facts.sans, names);
        assert!(facts.is_self_signed());
        assert!(facts.days_left(SystemTime::now()) >= 29);
        assert_eq!(
            facts.not_after - facts.not_before,
            VALIDITY.as_secs() as i64 + 60
        );
    }
}
