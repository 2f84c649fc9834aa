//! Certificates for the TLS tests, made by `openssl req`/`x509`/`ca` in a temporary
//! directory: a CA and its leaf, expired, not yet valid, self-signed, for the wrong name, and
//! client certificates in every key form.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Certificates for the tests, made by openssl in a temporary directory.
pub struct Pki {
    /// The directory holding every file.
    pub dir: tempfile::TempDir,
}

/// Runs openssl in `dir`; a failure fails the test.
pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Pki {
    /// [`Pki::new`] for `test`, which is skipped (with the reason) without openssl.
    pub fn for_test(test: &str) -> Option<Pki> {
        let pki = Pki::new();
        if pki.is_none() {
            super::skip(test, "needs openssl");
        }
        pki
    }

    /// A CA; `leaf` (localhost, 127.0.0.1, 30 days) signed by it; `expired` (2020) and
    /// `future` (2036) leaves for the same names; `self` self-signed; `other` for
    /// other.example only. Every key is `NAME.key`, every certificate `NAME.pem`.
    pub fn new() -> Option<Pki> {
        if Command::new("openssl").arg("version").output().is_err() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let req = |name: &str, cn: &str| {
            let mut args = vec!["req"];
            args.extend(ec);
            let key = format!("{name}.key");
            let csr = format!("{name}.csr");
            let subj = format!("/CN={cn}");
            args.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
            openssl(d, &args);
        };
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=sockx test CA",
        ]);
        openssl(d, &ca);
        std::fs::write(
            d.join("local.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(
            d.join("other.ext"),
            "subjectAltName=DNS:other.example,DNS:www.other.example\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        req("leaf", "localhost");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "30",
                "-extfile",
                "local.ext",
            ],
        );
        req("other", "other.example");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "other.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "other.pem",
                "-days",
                "30",
                "-extfile",
                "other.ext",
            ],
        );
        let mut self_signed = vec!["req", "-x509"];
        self_signed.extend(ec);
        self_signed.extend([
            "-keyout",
            "self.key",
            "-out",
            "self.pem",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]);
        openssl(d, &self_signed);
        // `openssl ca` takes explicit dates: one leaf that expired, one not valid yet.
        std::fs::create_dir(d.join("db")).unwrap();
        std::fs::write(d.join("db/index.txt"), "").unwrap();
        std::fs::write(d.join("db/serial"), "1000\n").unwrap();
        std::fs::write(
            d.join("ca.cnf"),
            "[ca]\ndefault_ca = test\n[test]\ndatabase = db/index.txt\nnew_certs_dir = db\n\
             serial = db/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n\
             x509_extensions = leaf\n[any]\ncommonName = supplied\n[leaf]\n\
             subjectAltName = DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth\n",
        )
        .unwrap();
        for (name, start, end) in [
            ("expired", "20200101000000Z", "20210101000000Z"),
            ("future", "20360101000000Z", "20370101000000Z"),
        ] {
            req(name, "localhost");
            let csr = format!("{name}.csr");
            let pem = format!("{name}.pem");
            openssl(
                d,
                &[
                    "ca",
                    "-batch",
                    "-config",
                    "ca.cnf",
                    "-cert",
                    "ca.pem",
                    "-keyfile",
                    "ca.key",
                    "-in",
                    &csr,
                    "-out",
                    &pem,
                    "-startdate",
                    start,
                    "-enddate",
                    end,
                    "-notext",
                ],
            );
        }
        Some(Pki { dir })
    }

    /// A file of the directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// The CA certificate's path.
    pub fn ca(&self) -> String {
        self.path("ca.pem").display().to_string()
    }

    /// What `openssl x509 -noout OPTION` prints for `NAME.pem`, after the `=`.
    pub fn x509(&self, name: &str, options: &[&str]) -> String {
        let output = Command::new("openssl")
            .args(["x509", "-noout"])
            .args(options)
            .arg("-in")
            .arg(self.path(&format!("{name}.pem")))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        text.trim().split_once('=').unwrap().1.to_string()
    }
}

/// A client certificate signed by the test CA, with its key in `form`: `pkcs8`, `pkcs1` (RSA)
/// or `sec1` (EC). Returns the certificate's and the key's paths.
pub fn client_cert(pki: &Pki, form: &str) -> (String, String) {
    let d = pki.dir.path();
    let key = format!("client-{form}.key");
    match form {
        "pkcs8" => openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &key,
            ],
        ),
        "pkcs1" => openssl(d, &["genrsa", "-traditional", "-out", &key, "2048"]),
        _ => openssl(
            d,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                &key,
            ],
        ),
    }
    let first_line = std::fs::read_to_string(d.join(&key)).unwrap();
    let expected = match form {
        "pkcs8" => "-----BEGIN PRIVATE KEY-----",
        "pkcs1" => "-----BEGIN RSA PRIVATE KEY-----",
        _ => "-----BEGIN EC PRIVATE KEY-----",
    };
    assert!(first_line.starts_with(expected), "{form}: {first_line:.40}");
    let csr = format!("client-{form}.csr");
    let pem = format!("client-{form}.pem");
    openssl(
        d,
        &[
            "req",
            "-new",
            "-key",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=client",
        ],
    );
    std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "30",
            "-extfile",
            "client.ext",
        ],
    );
    (
        pki.path(&pem).display().to_string(),
        pki.path(&key).display().to_string(),
    )
}
