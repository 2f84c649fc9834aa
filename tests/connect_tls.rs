//! `connect --tls` against real TLS servers: `openssl s_server` (TLS 1.2 and 1.3, expired,
//! wrong-name and self-signed certificates, a client-certificate demand), `socat
//! OPENSSL-LISTEN` and `ncat --ssl -l`, with certificates made here by openssl; binary data
//! both ways, close_notify both ways, over TCP, a Unix socket and an HTTP CONNECT tunnel.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::daemon::tinyproxy;
use common::pki::{Pki, client_cert};
use common::relay::{Finished, Peer, Running, payload, sockx_command, start_socat_listener};
use common::s_server::SServer;
use common::{installed, skip, sockx};

const LIMIT: Duration = Duration::from_secs(90);

fn connect(args: &[&str], input: &[u8]) -> Finished {
    let mut all = vec!["connect"];
    all.extend(args);
    let mut running = Running::start(sockx_command(&all));
    let feeding = running.feed(input.to_vec());
    let finished = running.finish(LIMIT);
    let _ = feeding.join();
    finished
}

fn sha256(data: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// socat's `EXEC:` address of a shell script holding `body` (socat's own parser would take
/// the quotes and spaces of a `SYSTEM:` command apart).
fn script(dir: &tempfile::TempDir, body: &str) -> String {
    let path = dir.path().join("answer.sh");
    std::fs::write(&path, body).unwrap();
    format!("EXEC:/bin/sh {}", path.display())
}

fn error_line(finished: &Finished) -> String {
    common::relay::assert_one_error_line(&finished.stderr);
    finished
        .stderr
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn eight_mib_both_ways_through_socat_arrive_byte_exact() {
    let Some(pki) = Pki::for_test("eight_mib_both_ways_through_socat_arrive_byte_exact") else {
        return;
    };
    if !installed("socat") {
        return skip(
            "eight_mib_both_ways_through_socat_arrive_byte_exact",
            "needs socat",
        );
    }
    let listen = format!(
        "OPENSSL-LISTEN:0,bind=127.0.0.1,cert={},key={},verify=0",
        pki.path("leaf.pem").display(),
        pki.path("leaf.key").display()
    );
    let (_socat, port) = start_socat_listener(&[&listen, "EXEC:cat"], Stdio::null(), Stdio::null());
    let data = payload(8 << 20, 7);
    let peer = format!("localhost:{port}");
    let finished = connect(&["--tls", "--ca", &pki.ca(), &peer], &data);
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert_eq!(finished.stdout.len(), data.len());
    assert_eq!(sha256(&finished.stdout), sha256(&data));
}

#[test]
fn verbose_says_the_session_and_the_certificate_in_two_lines() {
    let Some(pki) = Pki::for_test("verbose_says_the_session_and_the_certificate_in_two_lines")
    else {
        return;
    };
    let server = SServer::start(&pki, "leaf", &["-www", "-alpn", "h2,http/1.1"]);
    let finished = connect(
        &[
            "-v",
            "--tls",
            "--ca",
            &pki.ca(),
            "--alpn",
            "h2",
            &server.addr(),
            "--send",
            "GET / HTTP/1.0\\r\\n\\r\\n",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        String::from_utf8_lossy(&finished.stdout).starts_with("HTTP/1.0 200 ok"),
        "{:?}",
        String::from_utf8_lossy(&finished.stdout)
    );
    let tls: Vec<&str> = finished
        .stderr
        .lines()
        .filter(|line| line.starts_with("tls: ") || line.starts_with("certificate: "))
        .collect();
    assert_eq!(tls.len(), 2, "{}", finished.stderr);
    assert!(
        tls[0].starts_with("tls: TLSv1.3 TLS_") && tls[0].ends_with(" alpn=h2"),
        "{}",
        tls[0]
    );
    let fingerprint = pki.x509("leaf", &["-fingerprint", "-sha256"]);
    assert!(
        tls[1].starts_with("certificate: CN=localhost (issuer CN=sockx test CA), valid until ")
            && tls[1].contains(&format!("sha256 {fingerprint}, verify ok")),
        "{}",
        tls[1]
    );
}

#[test]
fn a_tls_1_2_only_server_is_spoken_to_in_tls_1_2() {
    let Some(pki) = Pki::for_test("a_tls_1_2_only_server_is_spoken_to_in_tls_1_2") else {
        return;
    };
    let server = SServer::start(&pki, "leaf", &["-www", "-tls1_2"]);
    let finished = connect(
        &[
            "-v",
            "--tls",
            "--ca",
            &pki.ca(),
            &server.addr(),
            "--send",
            "GET / HTTP/1.0\\r\\n\\r\\n",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished
            .stderr
            .contains("tls: TLSv1.2 TLS_ECDHE_ECDSA_WITH_"),
        "{}",
        finished.stderr
    );
}

#[test]
fn every_certificate_failure_is_one_line_that_says_why() {
    let Some(pki) = Pki::for_test("every_certificate_failure_is_one_line_that_says_why") else {
        return;
    };
    let expired = SServer::start(&pki, "expired", &["-www"]);
    let finished = connect(&["--tls", "--ca", &pki.ca(), &expired.addr()], b"");
    assert_eq!(finished.code(), 1);
    assert_eq!(
        error_line(&finished),
        format!(
            "sockx: error: TLS handshake with {} failed: certificate expired on 2021-01-01T00:00:00Z",
            expired.addr()
        )
    );
    assert!(
        finished
            .stderr
            .contains("hint: to trust this certificate anyway, pass --pin ")
    );

    let other = SServer::start(&pki, "other", &["-www"]);
    let finished = connect(&["--tls", "--ca", &pki.ca(), &other.addr()], b"");
    assert_eq!(finished.code(), 1);
    assert_eq!(
        error_line(&finished),
        format!(
            "sockx: error: TLS handshake with {} failed: name mismatch: the certificate is valid for other.example, www.other.example, not localhost",
            other.addr()
        )
    );
    // --sni names what is verified.
    let finished = connect(
        &[
            "--tls",
            "--ca",
            &pki.ca(),
            "--sni",
            "www.other.example",
            &format!("127.0.0.1:{}", other.port),
            "--send",
            "GET / HTTP/1.0\\r\\n\\r\\n",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);

    let self_signed = SServer::start(&pki, "self", &["-www"]);
    let finished = connect(&["--tls", &self_signed.addr()], b"");
    assert_eq!(finished.code(), 1);
    assert_eq!(
        error_line(&finished),
        format!(
            "sockx: error: TLS handshake with {} failed: self-signed certificate (CN=localhost): unknown issuer",
            self_signed.addr()
        )
    );
    let fingerprint = pki.x509("self", &["-fingerprint", "-sha256"]);
    assert!(
        finished.stderr.contains(&format!(
            "hint: to trust this certificate, pass --pin {fingerprint}"
        )),
        "{}",
        finished.stderr
    );
}

#[test]
fn a_pin_accepts_its_certificate_and_only_that_one() {
    let Some(pki) = Pki::for_test("a_pin_accepts_its_certificate_and_only_that_one") else {
        return;
    };
    let server = SServer::start(&pki, "self", &["-www"]);
    let fingerprint = pki.x509("self", &["-fingerprint", "-sha256"]);
    let lower = fingerprint.replace(':', "").to_lowercase();
    let finished = connect(
        &[
            "--tls",
            "--pin",
            &lower,
            &server.addr(),
            "--send",
            "GET / HTTP/1.0\\r\\n\\r\\n",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(String::from_utf8_lossy(&finished.stdout).starts_with("HTTP/1.0 200 ok"));
    let wrong = pki.x509("leaf", &["-fingerprint", "-sha256"]);
    let finished = connect(&["--tls", "--pin", &wrong, &server.addr()], b"");
    assert_eq!(finished.code(), 1);
    assert!(
        error_line(&finished).contains(&format!(
            "failed: certificate sha256 {fingerprint} does not match --pin"
        )),
        "{}",
        finished.stderr
    );
}

#[test]
fn insecure_connects_and_still_says_what_failed() {
    let Some(pki) = Pki::for_test("insecure_connects_and_still_says_what_failed") else {
        return;
    };
    let server = SServer::start(&pki, "expired", &["-www"]);
    let finished = connect(
        &[
            "-v",
            "--tls",
            "--insecure",
            &server.addr(),
            "--send",
            "GET / HTTP/1.0\\r\\n\\r\\n",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished
            .stderr
            .contains("certificate expired on 2021-01-01T00:00:00Z"),
        "{}",
        finished.stderr
    );
}

#[test]
fn a_client_certificate_demand_is_met_or_named() {
    let Some(pki) = Pki::for_test("a_client_certificate_demand_is_met_or_named") else {
        return;
    };
    let (cert, key) = client_cert(&pki, "pkcs8");
    for version in ["-tls1_3", "-tls1_2"] {
        let server = SServer::start(
            &pki,
            "leaf",
            &[
                "-www",
                version,
                "-Verify",
                "1",
                "-verify_return_error",
                "-CAfile",
                &pki.ca(),
            ],
        );
        let request = "GET / HTTP/1.0\\r\\n\\r\\n";
        let finished = connect(
            &[
                "--tls",
                "--ca",
                &pki.ca(),
                &server.addr(),
                "--send",
                request,
            ],
            b"",
        );
        assert_eq!(finished.code(), 1, "{version}: {}", finished.stderr);
        let line = error_line(&finished);
        assert!(
            line.starts_with(&format!(
                "sockx: error: TLS handshake with {} failed: the server requires a client certificate",
                server.addr()
            )),
            "{version}: {line}"
        );
        assert!(
            finished
                .stderr
                .contains("hint: pass --cert FILE --key FILE")
        );
        let finished = connect(
            &[
                "--tls",
                "--ca",
                &pki.ca(),
                "--cert",
                &cert,
                "--key",
                &key,
                &server.addr(),
                "--send",
                request,
            ],
            b"",
        );
        assert_eq!(finished.code(), 0, "{version}: {}", finished.stderr);
        assert!(String::from_utf8_lossy(&finished.stdout).starts_with("HTTP/1.0 200 ok"));
    }
}

#[test]
fn a_plaintext_server_offered_no_tls() {
    let Some(_pki) = Pki::for_test("a_plaintext_server_offered_no_tls") else {
        return;
    };
    if !installed("socat") {
        return skip("a_plaintext_server_offered_no_tls", "needs socat");
    }
    let dir = tempfile::tempdir().unwrap();
    let answer = script(
        &dir,
        "printf 'HTTP/1.1 400 Bad Request\\r\\n\\r\\n'; sleep 5",
    );
    let (_socat, port) = start_socat_listener(
        &["TCP-LISTEN:0,bind=127.0.0.1", &answer],
        Stdio::null(),
        Stdio::null(),
    );
    let peer = format!("127.0.0.1:{port}");
    let finished = connect(&["--tls", &peer], b"");
    assert_eq!(finished.code(), 1);
    assert_eq!(
        error_line(&finished),
        format!(
            "sockx: error: TLS handshake with {peer} failed: peer offered no TLS: it answered \"HTTP/1.1 400 Bad Request…\""
        )
    );
}

#[test]
fn stdin_eof_sends_close_notify_and_the_peers_close_notify_ends_its_direction() {
    let Some(pki) =
        Pki::for_test("stdin_eof_sends_close_notify_and_the_peers_close_notify_ends_its_direction")
    else {
        return;
    };
    // Our close_notify: s_server says DONE for it (a bare FIN is an "unexpected eof" ERROR).
    let server = SServer::start(&pki, "leaf", &[]);
    let finished = connect(
        &["-v", "--tls", "--ca", &pki.ca(), &server.addr()],
        b"to the server\n",
    );
    assert!(server.said("DONE"), "{}", server.stdout());
    assert!(server.stdout().contains("to the server\n"));
    assert!(!server.stdout().contains("ERROR"), "{}", server.stdout());
    assert_eq!(finished.code(), 0, "{}", finished.stderr);

    // The peer's close_notify (socat ends its session with one when its side is done): our
    // stdout ends while stdin is still open, and the session ends once stdin does too.
    let listen = format!(
        "OPENSSL-LISTEN:0,bind=127.0.0.1,cert={},key={},verify=0",
        pki.path("leaf.pem").display(),
        pki.path("leaf.key").display()
    );
    let dir = tempfile::tempdir().unwrap();
    let answer = script(&dir, "printf 'from the server'");
    let (_socat, port) = start_socat_listener(&[&listen, &answer], Stdio::null(), Stdio::null());
    let peer = format!("localhost:{port}");
    let mut child = sockx_command(&["connect", "-v", "--tls", "--ca", &pki.ca(), &peer])
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut running = Running::start_spawned(child);
    let mut got = Vec::new();
    stdout.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"from the server");
    assert!(
        running.child.try_wait().unwrap().is_none(),
        "ended before stdin did"
    );
    drop(running.stdin.take());
    let finished = running.finish(LIMIT);
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        !finished.stderr.contains("without close_notify"),
        "{}",
        finished.stderr
    );
}

#[test]
fn a_fin_without_close_notify_ends_the_peers_direction_and_is_reported() {
    let Some(pki) =
        Pki::for_test("a_fin_without_close_notify_ends_the_peers_direction_and_is_reported")
    else {
        return;
    };
    let server = SServer::start(&pki, "leaf", &[]);
    let mut running = Running::start(sockx_command(&[
        "connect",
        "-v",
        "--tls",
        "--ca",
        &pki.ca(),
        &server.addr(),
    ]));
    // Stdin stays open, so that only the peer ends its direction.
    let mut stdin = running.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"hello\n").unwrap();
    assert!(server.said("hello"), "{}", server.stdout());
    // The server dies: its kernel sends the FIN, no TLS alert.
    drop(server);
    let mut stdout = running.child.stdout.take();
    let mut got = Vec::new();
    if let Some(out) = stdout.as_mut() {
        out.read_to_end(&mut got).unwrap();
    }
    drop(stdin);
    let finished = running.finish(LIMIT);
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished
            .stderr
            .contains("closed the connection without close_notify"),
        "{}",
        finished.stderr
    );
}

#[test]
fn ncat_ssl_receives_and_sends_binary_byte_exact() {
    let Some(pki) = Pki::for_test("ncat_ssl_receives_and_sends_binary_byte_exact") else {
        return;
    };
    if !installed("ncat") {
        return skip(
            "ncat_ssl_receives_and_sends_binary_byte_exact",
            "needs ncat",
        );
    }
    let data = payload(8 << 20, 11);
    let dir = tempfile::tempdir().unwrap();
    let received = dir.path().join("received");
    let sent = dir.path().join("sent");
    std::fs::write(&sent, &data).unwrap();
    // ncat --ssl -l as the receiver.
    let (port, ncat) = start_ncat(&pki, &["--recv-only"], Some(&received), None);
    let finished = connect(
        &["--tls", "--ca", &pki.ca(), &format!("localhost:{port}")],
        &data,
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    wait_exit(ncat);
    let got = std::fs::read(&received).unwrap();
    assert_eq!(got.len(), data.len());
    assert_eq!(sha256(&got), sha256(&data));
    // ncat --ssl -l as the sender.
    let (port, ncat) = start_ncat(&pki, &["--send-only"], None, Some(&sent));
    let finished = connect(
        &[
            "--tls",
            "--ca",
            &pki.ca(),
            &format!("localhost:{port}"),
            "--recv-only",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert_eq!(finished.stdout.len(), data.len());
    assert_eq!(sha256(&finished.stdout), sha256(&data));
    wait_exit(ncat);
}

/// `ncat --ssl -l 127.0.0.1 PORT` on a free port, its stdout into `out` or stdin from `input`.
fn start_ncat(
    pki: &Pki,
    extra: &[&str],
    out: Option<&std::path::Path>,
    input: Option<&std::path::Path>,
) -> (u16, Peer) {
    let port = common::relay::free_port();
    let stdout = match out {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    };
    let stdin = match input {
        Some(path) => Stdio::from(std::fs::File::open(path).unwrap()),
        None => Stdio::null(),
    };
    let child = Command::new("ncat")
        .args(["--ssl", "--ssl-cert"])
        .arg(pki.path("leaf.pem"))
        .arg("--ssl-key")
        .arg(pki.path("leaf.key"))
        .args(extra)
        .args(["-l", "127.0.0.1", &port.to_string()])
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("ncat starts");
    let mut peer = Peer { child };
    // Ready when it accepts; a plain probe connection would be its one session, so watch the
    // listening socket instead.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let listening = Command::new("sh")
            .args([
                "-c",
                &format!("grep -q ':{:04X} 00000000:0000 0A' /proc/net/tcp", port),
            ])
            .status()
            .is_ok_and(|status| status.success());
        if listening {
            return (port, peer);
        }
        assert!(peer.child.try_wait().unwrap().is_none(), "ncat exited");
        thread::sleep(Duration::from_millis(20));
    }
    panic!("ncat did not listen on {port}");
}

fn wait_exit(mut peer: Peer) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if peer.child.try_wait().unwrap().is_some() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tls_runs_over_a_unix_socket() {
    let Some(pki) = Pki::for_test("tls_runs_over_a_unix_socket") else {
        return;
    };
    if !installed("socat") {
        return skip("tls_runs_over_a_unix_socket", "needs socat");
    }
    let server = SServer::start(&pki, "leaf", &["-www"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tls.sock");
    // A Unix socket in front of the TLS server: the session runs through it end to end.
    let _socat = Peer {
        child: Command::new("socat")
            .arg(format!("UNIX-LISTEN:{},fork", path.display()))
            .arg(format!("TCP:127.0.0.1:{}", server.port))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let unix = format!("unix:{}", path.display());
    let finished = connect(
        &[
            "--tls",
            "--ca",
            &pki.ca(),
            &unix,
            "--send",
            "GET / HTTP/1.0\\r\\n\\r\\n",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(String::from_utf8_lossy(&finished.stdout).starts_with("HTTP/1.0 200 ok"));
    // The name verified for a Unix socket is localhost (or --sni).
    let finished = connect(
        &["--tls", "--ca", &pki.ca(), "--sni", "nope.example", &unix],
        b"",
    );
    assert_eq!(finished.code(), 1);
    assert!(
        error_line(&finished).starts_with(&format!(
            "sockx: error: TLS handshake with {unix} failed: name mismatch"
        )),
        "{}",
        finished.stderr
    );
}

#[test]
fn tls_runs_inside_an_http_connect_tunnel_with_the_targets_name() {
    let Some(pki) = Pki::for_test("tls_runs_inside_an_http_connect_tunnel_with_the_targets_name")
    else {
        return;
    };
    if !installed("tinyproxy") {
        return skip(
            "tls_runs_inside_an_http_connect_tunnel_with_the_targets_name",
            "needs tinyproxy",
        );
    }
    let server = SServer::start(&pki, "leaf", &["-www"]);
    let Some(proxy) = tinyproxy(None) else {
        return skip(
            "tls_runs_inside_an_http_connect_tunnel_with_the_targets_name",
            "tinyproxy did not start",
        );
    };
    let finished = connect(
        &[
            "-v",
            "--tls",
            "--ca",
            &pki.ca(),
            "--proxy",
            &format!("http://127.0.0.1:{}", proxy.port),
            &server.addr(),
            // tinyproxy closes both ways at the client's FIN.
            "--no-shutdown",
            "--send",
            "GET / HTTP/1.0\\r\\n\\r\\n",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(finished.stderr.contains("verify ok"), "{}", finished.stderr);
    assert!(String::from_utf8_lossy(&finished.stdout).starts_with("HTTP/1.0 200 ok"));
}

#[test]
fn tls_flags_that_cannot_work_are_usage_errors() {
    let output = sockx()
        .args(["connect", "-u", "--tls", "127.0.0.1:53"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no DTLS"));
    let output = sockx()
        .args(["connect", "-u", "--starttls", "smtp", "127.0.0.1:25"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = sockx()
        .args(["connect", "--insecure", "127.0.0.1:443"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "--insecure needs --tls");
    let output = sockx()
        .args(["connect", "--tls", "--pin", "zz", "127.0.0.1:443"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("sockx: error: --pin"));
}

#[test]
fn hex_and_crlf_see_the_plaintext_not_the_records() {
    let Some(pki) = Pki::for_test("hex_and_crlf_see_the_plaintext_not_the_records") else {
        return;
    };
    let server = SServer::start(&pki, "leaf", &["-www"]);
    let finished = connect(
        &["--hex", "-C", "--tls", "--ca", &pki.ca(), &server.addr()],
        b"GET / HTTP/1.0\n\n",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished.stderr.contains("> sent 18 bytes at offset 0")
            && finished.stderr.contains("|GET / HTTP/1.0..|")
            && finished.stderr.contains("|HTTP/1.0 200 ok.|"),
        "{}",
        finished.stderr
    );
    assert!(String::from_utf8_lossy(&finished.stdout).starts_with("HTTP/1.0 200 ok"));
}

#[test]
fn a_certificate_not_yet_valid_and_an_old_protocol_are_named() {
    let Some(pki) = Pki::for_test("a_certificate_not_yet_valid_and_an_old_protocol_are_named")
    else {
        return;
    };
    let future = SServer::start(&pki, "future", &["-www"]);
    let finished = connect(&["--tls", "--ca", &pki.ca(), &future.addr()], b"");
    assert_eq!(finished.code(), 1);
    assert_eq!(
        error_line(&finished),
        format!(
            "sockx: error: TLS handshake with {} failed: certificate not yet valid: valid from 2036-01-01T00:00:00Z",
            future.addr()
        )
    );
    assert!(finished.stderr.contains("hint: check this host's clock"));
    // TLS 1.1 only (openssl 3 needs security level 0 for it).
    let old = SServer::start(
        &pki,
        "leaf",
        &["-www", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
    );
    let finished = connect(&["--tls", "--ca", &pki.ca(), &old.addr()], b"");
    assert_eq!(finished.code(), 1);
    assert_eq!(
        error_line(&finished),
        format!(
            "sockx: error: TLS handshake with {} failed: protocol version: the server refused TLS 1.2 and 1.3 (alert protocol_version)",
            old.addr()
        )
    );
}

#[test]
fn an_ip_address_is_verified_against_the_certificates_ip_sans() {
    let Some(pki) = Pki::for_test("an_ip_address_is_verified_against_the_certificates_ip_sans")
    else {
        return;
    };
    // leaf.pem names 127.0.0.1; other.pem names no address at all.
    let leaf = SServer::start(&pki, "leaf", &["-www"]);
    let finished = connect(
        &[
            "--tls",
            "--ca",
            &pki.ca(),
            &format!("127.0.0.1:{}", leaf.port),
            "--send",
            "GET / HTTP/1.0\\r\\n\\r\\n",
        ],
        b"",
    );
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    let other = SServer::start(&pki, "other", &["-www"]);
    let peer = format!("127.0.0.1:{}", other.port);
    let finished = connect(&["--tls", "--ca", &pki.ca(), &peer], b"");
    assert_eq!(finished.code(), 1);
    assert_eq!(
        error_line(&finished),
        format!(
            "sockx: error: TLS handshake with {peer} failed: name mismatch: the certificate is valid for other.example, www.other.example, not 127.0.0.1"
        )
    );
}
