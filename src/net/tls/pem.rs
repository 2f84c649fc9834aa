//! The PEM files the TLS flags name: certificate chains (`--cert`, `--ca`, `--client-ca`) and
//! private keys (`--key`: PKCS#8, PKCS#1 or SEC1), and `--alpn` protocol names. A bad file or
//! value is a [`TlsSetupError`] that says which file it is.

use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::setup_error::{PemFile, TlsSetupError};

/// Every certificate in the PEM file at `path` (a chain: leaf first), as `file`.
pub fn certs_from_file(
    path: &Path,
    file: PemFile,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let pem = |error| TlsSetupError::Pem {
        file,
        path: path.to_path_buf(),
        error,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate {
            file,
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The trust anchors in the PEM file at `path`, as `file` (`--ca`, `--client-ca`).
pub fn roots_from_file(path: &Path, file: PemFile) -> Result<RootCertStore, TlsSetupError> {
    let certs = certs_from_file(path, file)?;
    let mut roots = RootCertStore::empty();
    let (added, rejected) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(TlsSetupError::NoUsableCa {
            file,
            path: path.to_path_buf(),
            rejected,
        });
    }
    Ok(roots)
}

/// The private key in the PEM file at `path` (`--key`).
pub fn key_from_file(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    PrivateKeyDer::from_pem_file(path).map_err(|error| TlsSetupError::Pem {
        file: PemFile::Key,
        path: PathBuf::from(path),
        error,
    })
}

/// `--alpn` values as the wire carries them: 1 to 255 bytes each.
pub fn alpn_protocols(protos: &[String]) -> Result<Vec<Vec<u8>>, TlsSetupError> {
    protos
        .iter()
        .map(|proto| {
            if proto.is_empty() || proto.len() > 255 {
                return Err(TlsSetupError::Alpn(proto.clone()));
            }
            Ok(proto.as_bytes().to_vec())
        })
        .collect()
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
    fn a_missing_file_says_which_file() {
        let err = certs_from_file(Path::new("/nonexistent/cert.pem"), PemFile::Cert).unwrap_err();
        assert!(
            matches!(&err, TlsSetupError::Pem { file: PemFile::Cert, path, .. }
                if path == Path::new("/nonexistent/cert.pem")),
            "{err:?}"
        );
    }
}
