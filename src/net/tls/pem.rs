//! The PEM files the TLS flags name: certificate chains (`--cert`, `--ca`, `--client-ca`) and
//! private keys (`--key`: PKCS#8, PKCS#1 or SEC1), and `--alpn` protocol names. A bad file or
//! value is a usage error (exit 2) that names the flag and the file.

use std::path::Path;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::Error;
use crate::output::escape::quote_arg;

/// Every certificate in the PEM file at `path` (a chain: leaf first), for the flag `flag`.
pub fn certs_from_file(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let shown = quote_arg(&path.display().to_string());
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|err| Error::usage(format!("{flag} {shown}: {}", pem_error(&err))))?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| Error::usage(format!("{flag} {shown}: {}", pem_error(&err))))?;
    if certs.is_empty() {
        return Err(Error::usage(format!(
            "{flag} {shown}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certs)
}

/// The trust anchors in the PEM file at `path`, for the flag `flag` (`--ca`, `--client-ca`).
pub fn roots_from_file(path: &Path, flag: &str) -> Result<RootCertStore, Error> {
    let certs = certs_from_file(path, flag)?;
    let mut roots = RootCertStore::empty();
    let (added, rejected) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(Error::usage(format!(
            "{flag} {}: no usable CA certificate ({rejected} rejected)",
            quote_arg(&path.display().to_string())
        )));
    }
    Ok(roots)
}

/// The private key in the PEM file at `path` (`--key`).
pub fn key_from_file(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let shown = quote_arg(&path.display().to_string());
    PrivateKeyDer::from_pem_file(path).map_err(|err| {
        Error::usage(format!("--key {shown}: {}", pem_error(&err))).with_hint(
            "a PEM private key: PKCS#8 (BEGIN PRIVATE KEY), PKCS#1 (BEGIN RSA PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY)",
        )
    })
}

/// `--alpn` values as the wire carries them: 1 to 255 bytes each.
pub fn alpn_protocols(protos: &[String]) -> Result<Vec<Vec<u8>>, Error> {
    protos
        .iter()
        .map(|proto| {
            if proto.is_empty() || proto.len() > 255 {
                return Err(Error::usage(format!(
                    "--alpn: '{}' is not a protocol name (1 to 255 bytes)",
                    quote_arg(proto)
                )));
            }
            Ok(proto.as_bytes().to_vec())
        })
        .collect()
}

fn pem_error(err: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error as Pem;
    match err {
        Pem::Io(io) => io.to_string(),
        Pem::NoItemsFound => "no PEM item of the right kind in it".to_string(),
        other => format!("not valid PEM ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_names_are_one_to_255_bytes() {
        let ok = alpn_protocols(&["h2".into(), "http/1.1".into()]).unwrap();
        assert_eq!(ok, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert!(alpn_protocols(&[String::new()]).is_err());
        assert!(alpn_protocols(&["x".repeat(256)]).is_err());
    }

    #[test]
    fn a_missing_file_names_the_flag() {
        let err = certs_from_file(Path::new("/nonexistent/cert.pem"), "--cert").unwrap_err();
        assert!(err.to_string().contains("--cert"), "{err}");
    }
}
