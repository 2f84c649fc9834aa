//! `listen --tls` against real TLS clients nobody here wrote: `openssl s_client`, `curl`,
//! `ncat --ssl` and `socat OPENSSL:`. Certificates are made by `openssl req`/`x509` in a
//! temporary directory (a root CA, an intermediate, a server leaf served with its chain in
//! each key form, client certificates for mutual TLS). Every peer is on loopback or a Unix
//! socket of the test's own.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::Duration;

use common::live::Live;
use common::pki::{self, openssl};
use common::relay::payload;
use common::{installed, skip, text};

/// How long anything a test waits for may take on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// Certificates

/// Certificates for the tests, made by openssl in a temporary directory: `root` (a CA),
/// `inter` (signed by root), `server` (localhost, 127.0.0.1; signed by inter; `server.chain`
/// holds it and inter), `client` (CN=alice, signed by root, for TLS clients) and `rogue`
/// (CN=mallory, a client certificate of another CA, `rogue-ca`). Keys are `NAME.key`, certificates `NAME.pem`.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let self_signed = |name: &str, subject: &str, ext: &str| {
            let mut args = vec!["req", "-x509"];
            args.extend(ec);
            let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
            args.extend([
                "-keyout", &key, "-out", &pem, "-days", "30", "-subj", subject, "-addext", ext,
            ]);
            openssl(d, &args);
        };
        self_signed(
            "root",
            "/CN=sockx test root",
            "basicConstraints=critical,CA:TRUE",
        );
        self_signed(
            "rogue-ca",
            "/CN=another CA",
            "basicConstraints=critical,CA:TRUE",
        );
        let write = |file: &str, text: &str| std::fs::write(d.join(file), text).unwrap();
        write(
            "ca.ext",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n",
        );
        write(
            "server.ext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n",
        );
        write("client.ext", "extendedKeyUsage=clientAuth\n");
        let signed = |name: &str, subject: &str, issuer: &str, ext: &str| {
            let mut args = vec!["req"];
            args.extend(ec);
            let (key, csr, pem) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
            );
            args.extend(["-keyout", &key, "-out", &csr, "-subj", subject]);
            openssl(d, &args);
            let (ca, ca_key) = (format!("{issuer}.pem"), format!("{issuer}.key"));
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    &ca,
                    "-CAkey",
                    &ca_key,
                    "-CAcreateserial",
                    "-days",
                    "30",
                    "-extfile",
                    ext,
                    "-out",
                    &pem,
                ],
            );
        };
        signed("inter", "/CN=sockx test intermediate", "root", "ca.ext");
        signed("server", "/CN=localhost", "inter", "server.ext");
        signed("client", "/CN=alice", "root", "client.ext");
        signed("rogue", "/CN=mallory", "rogue-ca", "client.ext");
        let chain = [
            std::fs::read_to_string(d.join("server.pem")).unwrap(),
            std::fs::read_to_string(d.join("inter.pem")).unwrap(),
        ]
        .concat();
        write("server.chain", &chain);
        Pki { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.path().join(file).display().to_string()
    }

    /// The server's key in another form: `pkcs8` (as `openssl req` writes it), `sec1`
    /// (`BEGIN EC PRIVATE KEY`); `pkcs1` makes a new RSA key and certificate
    /// (`BEGIN RSA PRIVATE KEY`) for the same names. Returns (chain, key).
    fn server_key_form(&self, form: &str) -> (String, String) {
        let d = self.dir.path();
        match form {
            "pkcs8" => (self.path("server.chain"), self.path("server.key")),
            "sec1" => {
                openssl(d, &["ec", "-in", "server.key", "-out", "server-sec1.key"]);
                (self.path("server.chain"), self.path("server-sec1.key"))
            }
            _ => {
                openssl(d, &["genrsa", "-traditional", "-out", "rsa.key", "2048"]);
                openssl(
                    d,
                    &[
                        "req",
                        "-new",
                        "-key",
                        "rsa.key",
                        "-out",
                        "rsa.csr",
                        "-subj",
                        "/CN=localhost",
                    ],
                );
                openssl(
                    d,
                    &[
                        "x509",
                        "-req",
                        "-in",
                        "rsa.csr",
                        "-CA",
                        "inter.pem",
                        "-CAkey",
                        "inter.key",
                        "-CAcreateserial",
                        "-days",
                        "30",
                        "-extfile",
                        "server.ext",
                        "-out",
                        "rsa.pem",
                    ],
                );
                let chain = [
                    std::fs::read_to_string(d.join("rsa.pem")).unwrap(),
                    std::fs::read_to_string(d.join("inter.pem")).unwrap(),
                ]
                .concat();
                std::fs::write(d.join("rsa.chain"), chain).unwrap();
                (self.path("rsa.chain"), self.path("rsa.key"))
            }
        }
    }
}

/// openssl and the named client tools are there, or the test is skipped.
fn have(test: &str, tools: &[&str]) -> bool {
    for tool in ["openssl"].iter().chain(tools) {
        if !installed(tool) {
            skip(test, &format!("needs {tool}"));
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------------------
// sockx listen --tls

/// `sockx listen ARGS` started and ready (tests/common's [`Live`]), with what these tests ask
/// of it: the certificate line, waits for `-v` lines, and the end with everything it printed.
struct Served(Live);

impl std::ops::Deref for Served {
    type Target = Live;

    fn deref(&self) -> &Live {
        &self.0
    }
}

impl std::ops::DerefMut for Served {
    fn deref_mut(&mut self) -> &mut Live {
        &mut self.0
    }
}

/// Starts `sockx listen ARGS` and waits for its ready line; its stdin is at its end at once
/// unless the test takes it first ([`serve_with_stdin`]).
fn serve(args: &[&str]) -> Served {
    let mut served = serve_with_stdin(args);
    drop(served.stdin.take());
    served
}

/// [`serve`] with stdin left open for the test.
fn serve_with_stdin(args: &[&str]) -> Served {
    Served(Live::start(args))
}

impl Served {
    /// The fingerprint of the certificate line `tls certificate sha256 FP (self-signed for
    /// NAMES)`, and the names.
    fn certificate_line(&self) -> (String, String) {
        let line = self
            .before_ready
            .iter()
            .find(|line| line.starts_with("tls certificate sha256 "))
            .unwrap_or_else(|| panic!("no certificate line in {:?}", self.before_ready));
        let rest = line.strip_prefix("tls certificate sha256 ").unwrap();
        let (fingerprint, names) = rest.split_once(' ').unwrap();
        let names = names
            .strip_prefix("(self-signed for ")
            .and_then(|names| names.strip_suffix(')'))
            .unwrap_or_else(|| panic!("unexpected certificate line {line:?}"));
        (fingerprint.to_string(), names.to_string())
    }

    /// Waits until stderr contains `needle` (failing the test after common::live::PATIENCE).
    fn wait_for(&self, needle: &str) {
        self.wait_stderr(|text| text.contains(needle));
    }

    /// Waits for the exit; its code, stdout and stderr, all of them.
    fn finish(mut self) -> (Option<i32>, Vec<u8>, String) {
        let code = self.0.finish();
        let stdout = self.stdout.lock().unwrap().clone();
        (code, stdout, self.stderr())
    }
}

// ---------------------------------------------------------------------------------------
// Clients

/// Runs `program ARGS` with `input` on stdin; its output (killed after PATIENCE).
fn run(program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{program} starts: {err}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let waiter = thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done_tx.send(());
        output
    });
    if done_rx.recv_timeout(PATIENCE).is_err() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        panic!("{program} {args:?} did not finish");
    }
    let _ = feeder.join();
    waiter.join().unwrap().expect("output is collected")
}

/// `openssl s_client -connect 127.0.0.1:PORT EXTRA` that sends nothing and ends once the
/// handshake is done; what it printed (stdout and stderr together).
fn s_client(port: u16, extra: &[&str]) -> (bool, String) {
    let connect = format!("127.0.0.1:{port}");
    let mut args = vec!["s_client", "-connect", &connect, "-servername", "localhost"];
    args.extend(extra);
    let output = run("openssl", &args, b"");
    (
        output.status.success(),
        format!("{}{}", text(&output.stdout), text(&output.stderr)),
    )
}

/// The certificate `openssl s_client -showcerts` received, PEM.
fn served_certificate(port: u16) -> String {
    let (_, out) = s_client(port, &["-showcerts"]);
    let start = out
        .find("-----BEGIN CERTIFICATE-----")
        .unwrap_or_else(|| panic!("no certificate in {out}"));
    let end = out[start..].find("-----END CERTIFICATE-----").unwrap() + start + 25;
    format!("{}\n", &out[start..end])
}

/// `openssl x509 -noout OPTIONS` of a PEM certificate.
fn x509(pem: &str, options: &[&str]) -> String {
    let mut args = vec!["x509", "-noout"];
    args.extend(options);
    text(&run("openssl", &args, pem.as_bytes()).stdout)
}

// ---------------------------------------------------------------------------------------
// The self-signed certificate

#[test]
fn the_certificate_line_gives_the_fingerprint_openssl_computes_and_the_names() {
    if !have("the_certificate_line_gives_the_fingerprint", &[]) {
        return;
    }
    let served = serve(&["--tls", "-k", "--echo", "127.0.0.1:0"]);
    assert!(served.ready.ends_with(" (tls)"), "{}", served.ready);
    let (fingerprint, names) = served.certificate_line();
    let pem = served_certificate(served.port);
    let openssl_fp = x509(&pem, &["-fingerprint", "-sha256"]);
    let openssl_fp = openssl_fp.trim().rsplit_once('=').unwrap().1;
    assert_eq!(fingerprint, openssl_fp);
    let sans = x509(&pem, &["-ext", "subjectAltName"]);
    for san in [
        "DNS:localhost",
        "IP Address:127.0.0.1",
        "IP Address:0:0:0:0:0:0:0:1",
    ] {
        assert!(sans.contains(san), "{san} missing from {sans}");
    }
    let host = text(&run("hostname", &[], b"").stdout)
        .trim()
        .to_lowercase();
    if !host.is_empty() && !host.contains(' ') {
        assert!(
            sans.contains(&format!("DNS:{host}")),
            "{host} missing: {sans}"
        );
        assert!(names.contains(&host), "{names}");
    }
    assert!(names.starts_with("localhost, 127.0.0.1, ::1"), "{names}");
    // Valid for 30 days, self-signed, ECDSA P-256.
    let dates = x509(&pem, &["-startdate", "-enddate"]);
    let date = |key: &str| {
        let line = dates.lines().find(|l| l.starts_with(key)).unwrap();
        let text = line.split_once('=').unwrap().1;
        let out = run("date", &["-d", text, "+%s"], b"");
        text_secs(&out.stdout)
    };
    let valid = date("notAfter") - date("notBefore");
    assert!(
        (30 * 86_400..=30 * 86_400 + 120).contains(&valid),
        "valid for {valid} s"
    );
    let details = x509(&pem, &["-text"]);
    assert!(
        details.contains("prime256v1") || details.contains("P-256"),
        "{details}"
    );
    assert_eq!(
        x509(&pem, &["-subject"]).replace("subject=", "issuer="),
        x509(&pem, &["-issuer"])
    );
}

fn text_secs(bytes: &[u8]) -> i64 {
    text(bytes).trim().parse().unwrap()
}

#[test]
fn a_bound_address_is_one_of_the_names() {
    if !have("a_bound_address_is_one_of_the_names", &[]) {
        return;
    }
    let served = serve(&["--tls", "-k", "--echo", "127.0.0.2:0"]);
    let (_, names) = served.certificate_line();
    assert!(names.contains("127.0.0.2"), "{names}");
}

#[test]
fn a_certificate_from_files_gives_no_certificate_line() {
    if !have("a_certificate_from_files_gives_no_certificate_line", &[]) {
        return;
    }
    let pki = Pki::new();
    let (chain, key) = (pki.path("server.chain"), pki.path("server.key"));
    let served = serve(&[
        "--tls",
        "--cert",
        &chain,
        "--key",
        &key,
        "-k",
        "--echo",
        "127.0.0.1:0",
    ]);
    assert!(served.before_ready.is_empty(), "{:?}", served.before_ready);
}

// ---------------------------------------------------------------------------------------
// Versions, ALPN, chains and key forms

#[test]
fn tls_1_2_and_1_3_are_served_and_older_versions_refused() {
    if !have("tls_1_2_and_1_3_are_served_and_older_versions_refused", &[]) {
        return;
    }
    let served = serve(&["-v", "--tls", "-k", "--echo", "127.0.0.1:0"]);
    let (ok, out) = s_client(served.port, &["-tls1_3"]);
    assert!(ok, "{out}");
    assert!(out.contains("TLSv1.3"), "{out}");
    let (ok, out) = s_client(served.port, &["-tls1_2"]);
    assert!(ok, "{out}");
    assert!(out.contains("Protocol  : TLSv1.2"), "{out}");
    served.wait_for("tls: TLSv1.2 TLS_ECDHE_ECDSA_WITH_");
    served.wait_for("tls: TLSv1.3 TLS_AES_");
    // TLS 1.1: OpenSSL 3 allows it only at security level 0.
    let (ok, out) = s_client(served.port, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    assert!(!ok || !out.contains("Protocol  : TLSv1.1"), "{out}");
    served.wait_for("failed: protocol version: the client offers TLS 1.1 at best");
}

#[test]
fn alpn_is_chosen_in_our_order_among_the_clients_offers() {
    if !have("alpn_is_chosen_in_our_order_among_the_clients_offers", &[]) {
        return;
    }
    let served = serve(&[
        "-v",
        "--tls",
        "--alpn",
        "h2",
        "--alpn",
        "http/1.1",
        "-k",
        "--echo",
        "127.0.0.1:0",
    ]);
    let (ok, out) = s_client(served.port, &["-alpn", "http/1.1,h2"]);
    assert!(ok, "{out}");
    assert!(out.contains("ALPN protocol: h2"), "{out}");
    let (_, out) = s_client(served.port, &["-alpn", "http/1.1"]);
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    served.wait_for("alpn=http/1.1");
    // No protocol in common: refused (RFC 7301), and said with -v.
    let (_, out) = s_client(served.port, &["-alpn", "imap"]);
    assert!(!out.contains("ALPN protocol: imap"), "{out}");
    served.wait_for("no ALPN protocol in common");
    // A client that offers no ALPN at all is served.
    let (ok, out) = s_client(served.port, &[]);
    assert!(ok && out.contains("No ALPN negotiated"), "{out}");
}

#[test]
fn a_chain_verifies_against_its_root_in_every_key_form() {
    if !have("a_chain_verifies_against_its_root_in_every_key_form", &[]) {
        return;
    }
    let pki = Pki::new();
    for form in ["pkcs8", "sec1", "pkcs1"] {
        let (chain, key) = pki.server_key_form(form);
        let served = serve(&[
            "--tls",
            "--cert",
            &chain,
            "--key",
            &key,
            "-k",
            "--echo",
            "127.0.0.1:0",
        ]);
        let root = pki.path("root.pem");
        let (ok, out) = s_client(
            served.port,
            &[
                "-CAfile",
                &root,
                "-verify_return_error",
                "-verify_hostname",
                "localhost",
            ],
        );
        assert!(ok, "{form}: {out}");
        assert!(out.contains("Verify return code: 0 (ok)"), "{form}: {out}");
    }
}

#[test]
fn a_key_that_is_not_the_certificates_is_a_usage_error() {
    if !have("a_key_that_is_not_the_certificates_is_a_usage_error", &[]) {
        return;
    }
    let pki = Pki::new();
    let output = common::sockx()
        .args(["listen", "--tls", "--cert", &pki.path("server.pem")])
        .args(["--key", &pki.path("client.key"), "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--key does not go with --cert"), "{stderr}");
    assert!(!stderr.contains("listening on"), "{stderr}");
}

#[test]
fn an_expired_certificate_is_served_with_a_warning() {
    if !have("an_expired_certificate_is_served_with_a_warning", &["curl"]) {
        return;
    }
    // tests/common's CA and its leaf that expired on 2021-01-01.
    let pki = pki::Pki::new().expect("openssl is there");
    let (cert, key) = (pki.path("expired.pem"), pki.path("expired.key"));
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let served = serve(&[
        "--tls",
        "--cert",
        &cert,
        "--key",
        &key,
        "-k",
        "--sh-exec",
        HTTP_REPLY,
        "127.0.0.1:0",
    ]);
    assert_eq!(
        served.before_ready,
        [format!(
            "sockx: warning: --cert {cert} expired on 2021-01-01: clients that verify will refuse it"
        )]
    );
    let url = format!("https://localhost:{}/", served.port);
    let root = pki.ca();
    let output = run("curl", &["-sS", "--cacert", &root, &url], b"");
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("expired"),
        "{}",
        text(&output.stderr)
    );
    let output = run("curl", &["-sS", "-k", &url], b"");
    assert_eq!(text(&output.stdout), "hello\n", "{}", text(&output.stderr));
}

#[test]
fn tls_flags_are_checked_before_anything_is_bound() {
    let cases: &[&[&str]] = &[
        &["listen", "-u", "--tls", "127.0.0.1:0"],
        &[
            "listen",
            "--cert",
            "/nonexistent.pem",
            "--key",
            "/nonexistent.key",
            "0",
        ],
        &[
            "listen",
            "--tls",
            "--cert",
            "/nonexistent.pem",
            "--key",
            "/x",
            "127.0.0.1:0",
        ],
        &[
            "listen",
            "--tls",
            "--client-ca",
            "/nonexistent.pem",
            "127.0.0.1:0",
        ],
        &["listen", "--tls", "--alpn", "", "127.0.0.1:0"],
        &["listen", "--alpn", "h2", "127.0.0.1:0"],
    ];
    for args in cases {
        let output = common::sockx().args(*args).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("listening on"), "{args:?}: {stderr}");
        assert!(stderr.starts_with("sockx: error: "), "{args:?}: {stderr}");
    }
}

// ---------------------------------------------------------------------------------------
// curl against --sh-exec serving HTTP

const HTTP_REPLY: &str =
    "printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\nConnection: close\\r\\n\\r\\nhello\\n'";

#[test]
fn curl_with_the_ca_gets_a_page_from_sh_exec() {
    if !have("curl_with_the_ca_gets_a_page_from_sh_exec", &["curl"]) {
        return;
    }
    let pki = Pki::new();
    let (chain, key) = (pki.path("server.chain"), pki.path("server.key"));
    let served = serve(&[
        "--tls",
        "--cert",
        &chain,
        "--key",
        &key,
        "-k",
        "--sh-exec",
        HTTP_REPLY,
        "127.0.0.1:0",
    ]);
    let url = format!("https://localhost:{}/", served.port);
    let root = pki.path("root.pem");
    let output = run("curl", &["-sS", "--cacert", &root, &url], b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "hello\n");
    // And by address (an IP SAN).
    let url = format!("https://127.0.0.1:{}/", served.port);
    let output = run("curl", &["-sS", "--cacert", &root, &url], b"");
    assert_eq!(text(&output.stdout), "hello\n", "{}", text(&output.stderr));
}

#[test]
fn curl_insecure_gets_a_page_from_the_self_signed_server() {
    if !have(
        "curl_insecure_gets_a_page_from_the_self_signed_server",
        &["curl"],
    ) {
        return;
    }
    let served = serve(&[
        "--tls",
        "-k",
        "--sh-exec",
        HTTP_REPLY,
        "--alpn",
        "http/1.1",
        "127.0.0.1:0",
    ]);
    let url = format!("https://127.0.0.1:{}/", served.port);
    let output = run("curl", &["-sS", "-k", &url], b"");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "hello\n");
    // Without -k curl refuses the self-signed certificate.
    let output = run("curl", &["-sS", &url], b"");
    assert!(!output.status.success());
}

#[test]
fn curl_pinning_the_printed_fingerprint_is_accepted() {
    if !have(
        "curl_pinning_the_printed_fingerprint_is_accepted",
        &["curl"],
    ) {
        return;
    }
    let served = serve(&["--tls", "-k", "--sh-exec", HTTP_REPLY, "127.0.0.1:0"]);
    let pem = served_certificate(served.port);
    // curl pins a public key (sha256//BASE64 of the SPKI); check it against the same
    // certificate whose fingerprint the line gave.
    let (fingerprint, _) = served.certificate_line();
    let openssl_fp = x509(&pem, &["-fingerprint", "-sha256"]);
    assert!(openssl_fp.trim().ends_with(&fingerprint), "{openssl_fp}");
    let spki = run("openssl", &["x509", "-pubkey", "-noout"], pem.as_bytes()).stdout;
    let der = run("openssl", &["pkey", "-pubin", "-outform", "der"], &spki).stdout;
    let hash = run("openssl", &["dgst", "-sha256", "-binary"], &der).stdout;
    let b64 = text(&run("openssl", &["base64", "-A"], &hash).stdout);
    let url = format!("https://127.0.0.1:{}/", served.port);
    let pin = format!("sha256//{}", b64.trim());
    let output = run("curl", &["-sS", "-k", "--pinnedpubkey", &pin, &url], b"");
    assert_eq!(text(&output.stdout), "hello\n", "{}", text(&output.stderr));
}

#[test]
fn sockx_connect_pins_the_printed_fingerprint() {
    let served = serve_with_stdin(&["--tls", "127.0.0.1:0"]);
    let (fingerprint, _) = served.certificate_line();
    let addr = format!("127.0.0.1:{}", served.port);
    // A wrong pin is refused before any data...
    let wrong = "00".repeat(32);
    let output = common::sockx()
        .args(["connect", "--tls", "--pin", &wrong, &addr])
        .write_stdin("nope\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    // ... and the listener is still there for the right one.
    let mut served = served;
    let mut stdin = served.stdin.take().unwrap();
    stdin.write_all(b"welcome\n").unwrap();
    drop(stdin);
    let output = common::sockx()
        .args(["connect", "--tls", "--pin", &fingerprint, &addr])
        .write_stdin("pinned\n")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "welcome\n");
    let (status, stdout, stderr) = served.finish();
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(text(&stdout), "pinned\n");
}

// ---------------------------------------------------------------------------------------
// Mutual TLS

#[test]
fn mutual_tls_accepts_a_client_of_the_ca_and_shows_its_subject() {
    if !have("mutual_tls_accepts_a_client_of_the_ca", &["curl"]) {
        return;
    }
    let pki = Pki::new();
    let (chain, key, root) = (
        pki.path("server.chain"),
        pki.path("server.key"),
        pki.path("root.pem"),
    );
    let served = serve(&[
        "-v",
        "--tls",
        "--cert",
        &chain,
        "--key",
        &key,
        "--client-ca",
        &root,
        "-k",
        "--sh-exec",
        HTTP_REPLY,
        "127.0.0.1:0",
    ]);
    let url = format!("https://localhost:{}/", served.port);
    let (cert, ckey) = (pki.path("client.pem"), pki.path("client.key"));
    let output = run(
        "curl",
        &[
            "-sS", "--cacert", &root, "--cert", &cert, "--key", &ckey, &url,
        ],
        b"",
    );
    assert_eq!(text(&output.stdout), "hello\n", "{}", text(&output.stderr));
    served.wait_for("client certificate: CN=alice (issuer CN=sockx test root)");
}

#[test]
fn mutual_tls_refuses_a_client_without_a_certificate_or_with_a_foreign_one() {
    if !have(
        "mutual_tls_refuses_a_client_without_a_certificate",
        &["curl"],
    ) {
        return;
    }
    let pki = Pki::new();
    let (chain, key, root) = (
        pki.path("server.chain"),
        pki.path("server.key"),
        pki.path("root.pem"),
    );
    let served = serve(&[
        "-v",
        "--tls",
        "--cert",
        &chain,
        "--key",
        &key,
        "--client-ca",
        &root,
        "-k",
        "--sh-exec",
        HTTP_REPLY,
        "127.0.0.1:0",
    ]);
    let url = format!("https://localhost:{}/", served.port);
    let output = run("curl", &["-sS", "--cacert", &root, &url], b"");
    assert!(!output.status.success(), "{}", text(&output.stdout));
    assert_ne!(text(&output.stdout), "hello\n");
    served.wait_for("the client presented no certificate (--client-ca requires one)");
    let (cert, ckey) = (pki.path("rogue.pem"), pki.path("rogue.key"));
    let port = served.port.to_string();
    let connect = format!("127.0.0.1:{port}");
    let output = run(
        "openssl",
        &[
            "s_client", "-connect", &connect, "-cert", &cert, "-key", &ckey, "-CAfile", &root,
        ],
        b"",
    );
    assert!(!text(&output.stdout).contains("hello"));
    served.wait_for("client certificate CN=mallory (issuer CN=another CA) refused: unknown issuer (not signed by a --client-ca CA)");
    // The listener is still there for a good client.
    let (cert, ckey) = (pki.path("client.pem"), pki.path("client.key"));
    let output = run(
        "curl",
        &[
            "-sS", "--cacert", &root, "--cert", &cert, "--key", &ckey, &url,
        ],
        b"",
    );
    assert_eq!(text(&output.stdout), "hello\n", "{}", text(&output.stderr));
}

// ---------------------------------------------------------------------------------------
// Failing clients never take the listener down

#[test]
fn a_bad_handshake_is_reported_and_the_next_client_is_served() {
    if !have(
        "a_bad_handshake_is_reported_and_the_next_client_is_served",
        &["socat"],
    ) {
        return;
    }
    let served = serve(&["-v", "--tls", "-k", "--echo", "127.0.0.1:0"]);
    // A plaintext client.
    let mut plain = std::net::TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    served.wait_for("failed: client offered no TLS: it sent \"GET / HTTP/1.1…\"");
    // A client that does not trust the certificate (it verifies, and it is self-signed).
    let (ok, _) = s_client(served.port, &["-verify_return_error"]);
    assert!(!ok);
    served.wait_for("the client refused our certificate (alert ");
    // A client that connects and closes at once.
    drop(std::net::TcpStream::connect(("127.0.0.1", served.port)).unwrap());
    served.wait_for("the client closed the connection during the handshake");
    // And then a good one.
    let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
    let output = run("socat", &["-t", "5", "-", &target], b"ping\n");
    assert_eq!(text(&output.stdout), "ping\n", "{}", text(&output.stderr));
}

#[test]
fn the_one_shot_mode_serves_the_first_client_whose_handshake_succeeds() {
    if !have("the_one_shot_mode_serves_the_first_client", &["socat"]) {
        return;
    }
    let served = serve(&["-v", "--tls", "--recv-only", "127.0.0.1:0"]);
    let mut plain = std::net::TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    plain.write_all(b"hello?\n").unwrap();
    let _ = plain.read_to_end(&mut Vec::new());
    served.wait_for("failed: client offered no TLS: it sent \"hello?…\"");
    let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
    let output = run("socat", &["-t", "5", "-u", "-", &target], b"the real one\n");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (status, stdout, stderr) = served.finish();
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(text(&stdout), "the real one\n");
}

#[test]
fn a_silent_client_does_not_hold_up_the_others() {
    if !have("a_silent_client_does_not_hold_up_the_others", &["socat"]) {
        return;
    }
    let served = serve(&["--tls", "-k", "--echo", "127.0.0.1:0"]);
    // Connected, never says a word: its handshake waits in its own task.
    let _silent = std::net::TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
    let output = run("socat", &["-t", "5", "-", &target], b"still here\n");
    assert_eq!(
        text(&output.stdout),
        "still here\n",
        "{}",
        text(&output.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// The modes over TLS, with ncat and socat as clients

#[test]
fn ncat_ssl_gets_its_bytes_echoed() {
    if !have("ncat_ssl_gets_its_bytes_echoed", &["ncat"]) {
        return;
    }
    // ncat half-closes with a bare FIN (no close_notify) at its stdin's end: that ends its
    // direction, the echo is finished and closed, and -v says how it ended.
    for args in [
        &["-v", "--tls", "-k", "--echo"][..],
        &["-v", "--tls", "--echo"][..],
    ] {
        let served = serve(&[args, &["127.0.0.1:0"]].concat());
        let port = served.port.to_string();
        let data = payload(300_000, 7);
        let output = run("ncat", &["--ssl", "127.0.0.1", &port], &data);
        assert!(
            output.stdout == data,
            "{args:?}: {} bytes back of {}; {}",
            output.stdout.len(),
            data.len(),
            text(&output.stderr)
        );
        served.wait_for("closed its side without close_notify");
        if !args.contains(&"-k") {
            let (status, _, stderr) = served.finish();
            assert_eq!(status, Some(0), "{stderr}");
        }
    }
}

#[test]
fn ncat_ssl_sends_a_file_to_the_one_shot_mode() {
    if !have("ncat_ssl_sends_a_file_to_the_one_shot_mode", &["ncat"]) {
        return;
    }
    let data = payload(1_000_000, 11);
    let served = serve(&["-v", "--tls", "--recv-only", "127.0.0.1:0"]);
    let port = served.port.to_string();
    let output = run("ncat", &["--ssl", "--send-only", "127.0.0.1", &port], &data);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (status, stdout, stderr) = served.finish();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stdout == data, "{} of {} bytes", stdout.len(), data.len());
    assert!(
        stderr.contains("closed its side without close_notify"),
        "{stderr}"
    );
}

#[test]
fn socat_sends_binary_data_byte_exact_both_ways_in_the_one_shot_mode() {
    if !have("socat_sends_binary_data_byte_exact", &["socat"]) {
        return;
    }
    let to_server = payload(2_000_000, 1);
    let to_client = payload(1_500_000, 2);
    let mut served = serve_with_stdin(&["--tls", "127.0.0.1:0"]);
    let mut stdin = served.stdin.take().unwrap();
    let reply = to_client.clone();
    let feeder = thread::spawn(move || {
        let _ = stdin.write_all(&reply);
    });
    let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
    let output = run("socat", &["-t", "10", "-", &target], &to_server);
    let _ = feeder.join();
    let (status, stdout, stderr) = served.finish();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(
        stdout == to_server,
        "server got {} of {} bytes",
        stdout.len(),
        to_server.len()
    );
    assert!(
        output.stdout == to_client,
        "client got {} of {} bytes; {}",
        output.stdout.len(),
        to_client.len(),
        text(&output.stderr)
    );
}

#[test]
fn a_send_only_client_delivers_everything() {
    if !have("a_send_only_client_delivers_everything", &["socat"]) {
        return;
    }
    // socat -u never reads what the server sends: a record it was sent unasked (a TLS 1.3
    // session ticket) was unread at its close, which the kernel turns into a reset that drops
    // the end of its data (with the server's stdin at its end from the start, as here, every
    // time: 'connection reset by peer').
    let data = payload(50_000_000, 3);
    let served = serve(&["--tls", "127.0.0.1:0"]);
    let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
    let output = run("socat", &["-u", "-", &target], &data);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (status, stdout, stderr) = served.finish();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(
        stdout == data,
        "{} of {} bytes arrived",
        stdout.len(),
        data.len()
    );
}

#[test]
fn hex_dumps_the_plaintext_of_a_tls_session() {
    if !have("hex_dumps_the_plaintext_of_a_tls_session", &["socat"]) {
        return;
    }
    for mode in [&["--recv-only"][..], &["-k", "--echo"][..]] {
        let served = serve(&[&["--tls", "--hex"][..], mode, &["127.0.0.1:0"]].concat());
        let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
        let output = run("socat", &["-t", "5", "-", &target], b"secret words\n");
        assert!(output.status.success(), "{}", text(&output.stderr));
        served.wait_for("|secret words.|");
    }
}

#[test]
fn exec_output_arrives_whole_and_closes_gracefully() {
    if !have(
        "exec_output_arrives_whole_and_closes_gracefully",
        &["socat"],
    ) {
        return;
    }
    // The child writes 1 MB without reading its input and exits: the client gets every byte
    // and then close_notify (socat says nothing of a truncation), never a reset.
    let served = serve(&[
        "--tls",
        "--exec",
        "head -c 1000000 /dev/zero",
        "127.0.0.1:0",
    ]);
    let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
    let output = run("socat", &["-t", "5", "-u", &target, "-"], b"");
    assert_eq!(output.stdout.len(), 1_000_000, "{}", text(&output.stderr));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (status, _, stderr) = served.finish();
    assert_eq!(status, Some(0), "{stderr}");
}

#[test]
fn exec_status_is_the_exit_status_without_k() {
    if !have("exec_status_is_the_exit_status_without_k", &["socat"]) {
        return;
    }
    let served = serve(&[
        "--tls",
        "--sh-exec",
        "read line; echo \"got $line\"; exit 3",
        "127.0.0.1:0",
    ]);
    let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
    let output = run("socat", &["-t", "5", "-", &target], b"x\n");
    assert_eq!(text(&output.stdout), "got x\n", "{}", text(&output.stderr));
    let (status, _, stderr) = served.finish();
    assert_eq!(status, Some(3), "{stderr}");
}

#[test]
fn keep_open_relays_every_tls_client_to_stdout() {
    if !have("keep_open_relays_every_tls_client_to_stdout", &["socat"]) {
        return;
    }
    let served = serve(&["-v", "--tls", "-k", "--recv-only", "127.0.0.1:0"]);
    let target = format!("OPENSSL:127.0.0.1:{},verify=0", served.port);
    for word in ["one\n", "two\n"] {
        let output = run("socat", &["-t", "5", "-u", "-", &target], word.as_bytes());
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    // Each client's data reaches stdout (the hub writes it; a session's end does not wait
    // for that).
    let both = |out: &[u8]| {
        let out = String::from_utf8_lossy(out);
        out.contains("one\n") && out.contains("two\n")
    };
    served.wait_stdout(both);
    served.wait_stderr(|text| text.matches(" closed: ").count() == 2);
}

/// Python's ssl module as a client over AF_UNIX: sends ARGV[2], reads until the server's
/// close_notify, says the version and what it read, then sends its own close_notify.
const PYTHON_UNIX_CLIENT: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
raw.connect(sys.argv[1])
tls = ctx.wrap_socket(raw)
tls.sendall(sys.argv[2].encode())
got = b""
while not got.endswith(b"\n") or len(sys.argv) > 3:
    chunk = tls.recv(65536)
    if not chunk:
        break
    got += chunk
sys.stdout.write(tls.version() + " " + got.decode())
tls.unwrap().close()
"#;

#[test]
fn a_unix_socket_serves_tls_in_the_one_shot_mode() {
    if !have(
        "a_unix_socket_serves_tls_in_the_one_shot_mode",
        &["python3"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tls.sock");
    let addr = format!("unix:{}", path.display());
    let mut served = serve_with_stdin(&["--tls", &addr]);
    assert_eq!(served.ready, format!("listening on {addr} (tls)"));
    let mut stdin = served.stdin.take().unwrap();
    stdin.write_all(b"from the server\n").unwrap();
    drop(stdin);
    let socket = path.display().to_string();
    let output = run(
        "python3",
        &[
            "-c",
            PYTHON_UNIX_CLIENT,
            &socket,
            "over unix\n",
            "to the end",
        ],
        b"",
    );
    let out = text(&output.stdout);
    assert_eq!(out, "TLSv1.3 from the server\n", "{}", text(&output.stderr));
    let (status, stdout, stderr) = served.finish();
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(text(&stdout), "over unix\n");
    assert!(!path.exists(), "the socket file is left behind");
}

#[test]
fn a_unix_socket_serves_tls_to_every_client_with_k() {
    if !have(
        "a_unix_socket_serves_tls_to_every_client_with_k",
        &["python3"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tls.sock");
    let addr = format!("unix:{}", path.display());
    let socket = path.display().to_string();
    let served = serve(&["--tls", "-k", "--echo", &addr]);
    assert_eq!(served.ready, format!("listening on {addr} (tls)"));
    for word in ["one\n", "two\n"] {
        let output = run("python3", &["-c", PYTHON_UNIX_CLIENT, &socket, word], b"");
        assert_eq!(
            text(&output.stdout),
            format!("TLSv1.3 {word}"),
            "{}",
            text(&output.stderr)
        );
    }
    drop(served);
    // --sh-exec over a Unix socket: the child's pipes relayed to the session, with the
    // peer's credentials in its environment.
    let served = serve(&[
        "--tls",
        "-k",
        "--sh-exec",
        "read line; echo \"$line from uid $SOCKX_PEER_UID\"",
        &addr,
    ]);
    let uid = nix::unistd::Uid::effective();
    let output = run("python3", &["-c", PYTHON_UNIX_CLIENT, &socket, "hi\n"], b"");
    assert_eq!(
        text(&output.stdout),
        format!("TLSv1.3 hi from uid {uid}\n"),
        "{}",
        text(&output.stderr)
    );
    drop(served);
}
