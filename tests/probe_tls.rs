//! `probe --tls` against real TLS peers: `openssl s_server` with certificates made here by
//! `openssl req`/`x509`/`ca` (a CA and its leaf, expired, not yet valid, self-signed, for
//! the wrong name), and socat answering in plaintext. Fields are compared with what
//! `openssl x509` says of the same certificate.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use common::pki::{Pki, client_cert};
use common::s_server::SServer;
use common::{skip, sockx};
use serde_json::Value;

fn probe(args: &[&str]) -> Output {
    sockx().arg("probe").args(args).output().unwrap()
}

fn tls_json(output: &Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next().unwrap_or_else(|| {
        panic!(
            "no JSON line; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let value: Value = serde_json::from_str(line).unwrap();
    assert_eq!(value["state"], "open", "{value}");
    value["tls"].clone()
}

/// openssl's `Dec 31 11:04:46 2026 GMT` as the RFC 3339 instant sockx prints.
fn openssl_date_to_rfc3339(text: &str) -> String {
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let words: Vec<&str> = text.split_whitespace().collect();
    let month = months.iter().position(|m| *m == words[0]).unwrap() + 1;
    format!(
        "{}-{month:02}-{:02}T{}Z",
        words[3],
        words[1].parse::<u32>().unwrap(),
        words[2]
    )
}

#[test]
fn a_verified_certificate_agrees_with_openssl_field_by_field() {
    let Some(pki) = Pki::for_test("a_verified_certificate_agrees_with_openssl_field_by_field")
    else {
        return;
    };
    let server = SServer::www(&pki, "leaf", &[]);
    let output = probe(&["--tls", "--ca", &pki.ca(), &server.ip_addr(), "--json"]);
    assert!(output.status.success(), "{output:?}");
    let tls = tls_json(&output);
    let keys: Vec<&str> = common::json_keys(&tls).into_iter().collect();
    assert_eq!(
        keys,
        [
            "alpn",
            "chain_len",
            "cipher",
            "days_left",
            "issuer",
            "not_after",
            "not_before",
            "sans",
            "sha256",
            "subject",
            "verified",
            "verify_error",
            "version"
        ]
    );
    assert_eq!(tls["verified"], true);
    assert!(tls["verify_error"].is_null());
    assert_eq!(tls["version"], "TLSv1.3");
    assert_eq!(
        tls["sha256"],
        pki.x509("leaf", &["-fingerprint", "-sha256"]).as_str()
    );
    assert_eq!(
        tls["not_after"],
        openssl_date_to_rfc3339(&pki.x509("leaf", &["-enddate"])).as_str()
    );
    assert_eq!(
        tls["not_before"],
        openssl_date_to_rfc3339(&pki.x509("leaf", &["-startdate"])).as_str()
    );
    assert_eq!(tls["sans"], serde_json::json!(["localhost", "127.0.0.1"]));
    assert_eq!(tls["subject"], "CN=localhost");
    assert_eq!(tls["issuer"], "CN=sockx test CA");
    assert_eq!(tls["chain_len"], 1);
    let days = tls["days_left"].as_i64().unwrap();
    assert!((29..=30).contains(&days), "{days}");

    // The name is sent and verified too; the text line and -v say the same.
    let output = probe(&[
        "-v",
        "--tls",
        "--ca",
        &pki.ca(),
        &format!("localhost:{}", server.port),
    ]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("TLSv1.3 CN=localhost until "), "{stdout}");
    assert!(stdout.trim_end().ends_with("verified"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\ntls: TLSv1.3 TLS_"), "{stderr}");
    assert!(stderr.contains(" alpn=-\n"), "{stderr}");
    assert!(
        stderr.contains("certificate: CN=localhost (issuer CN=sockx test CA), valid until "),
        "{stderr}"
    );
    assert!(stderr.contains(", verify ok\n"), "{stderr}");
}

#[test]
fn tls_1_2_and_alpn_are_reported() {
    let Some(pki) = Pki::for_test("tls_1_2_and_alpn_are_reported") else {
        return;
    };
    let server = SServer::www(&pki, "leaf", &["-tls1_2", "-alpn", "h2,http/1.1"]);
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        "--alpn",
        "http/1.1",
        &server.ip_addr(),
        "--json",
    ]);
    assert!(output.status.success(), "{output:?}");
    let tls = tls_json(&output);
    assert_eq!(tls["version"], "TLSv1.2");
    assert_eq!(tls["alpn"], "http/1.1");
    assert!(
        tls["cipher"]
            .as_str()
            .unwrap()
            .starts_with("TLS_ECDHE_ECDSA_WITH_"),
        "{tls}"
    );
}

#[test]
fn an_expired_certificate_fails_and_says_when() {
    let Some(pki) = Pki::for_test("an_expired_certificate_fails_and_says_when") else {
        return;
    };
    let server = SServer::www(&pki, "expired", &[]);
    let output = probe(&["--tls", "--ca", &pki.ca(), &server.ip_addr(), "--json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let tls = tls_json(&output);
    assert_eq!(tls["verified"], false);
    assert_eq!(
        tls["verify_error"],
        "certificate expired on 2021-01-01T00:00:00Z"
    );
    assert!(tls["days_left"].as_i64().unwrap() < 0);

    // --insecure: still said, but the probe passes.
    let output = probe(&["--tls", "--insecure", &server.ip_addr()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("unverified: certificate expired on 2021-01-01T00:00:00Z"),
        "{stdout}"
    );
}

#[test]
fn a_certificate_not_yet_valid_says_from_when() {
    let Some(pki) = Pki::for_test("a_certificate_not_yet_valid_says_from_when") else {
        return;
    };
    let server = SServer::www(&pki, "future", &[]);
    let output = probe(&["--tls", "--ca", &pki.ca(), &server.ip_addr(), "--json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        tls_json(&output)["verify_error"],
        "certificate not yet valid: valid from 2036-01-01T00:00:00Z"
    );
}

#[test]
fn a_self_signed_certificate_is_named_and_a_pin_accepts_it() {
    let Some(pki) = Pki::for_test("a_self_signed_certificate_is_named_and_a_pin_accepts_it") else {
        return;
    };
    let server = SServer::www(&pki, "self", &[]);
    let output = probe(&["--tls", &server.ip_addr()]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("self-signed certificate (CN=localhost): unknown issuer"),
        "{stdout}"
    );
    // -v gives the hint.
    let output = probe(&["-v", "--tls", &server.ip_addr()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--pin "), "{stderr}");

    let fingerprint = pki.x509("self", &["-fingerprint", "-sha256"]);
    // Any case, colons optional.
    let pin = fingerprint.replace(':', "").to_lowercase();
    let output = probe(&["--tls", "--pin", &pin, &server.ip_addr(), "--json"]);
    assert!(output.status.success(), "{output:?}");
    let tls = tls_json(&output);
    assert_eq!(tls["sha256"], fingerprint.as_str());
    assert_eq!(tls["verified"], false);

    let wrong = "00".repeat(32);
    let output = probe(&["--tls", "--pin", &wrong, &server.ip_addr()]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("does not match --pin"), "{stdout}");
}

#[test]
fn an_unknown_issuer_is_named() {
    let Some(pki) = Pki::for_test("an_unknown_issuer_is_named") else {
        return;
    };
    let server = SServer::www(&pki, "leaf", &[]);
    // The system's store does not know the test CA.
    let output = probe(&["--tls", &server.ip_addr(), "--json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        tls_json(&output)["verify_error"],
        "unknown issuer CN=sockx test CA"
    );
}

#[test]
fn a_name_mismatch_lists_the_names_the_certificate_is_for() {
    let Some(pki) = Pki::for_test("a_name_mismatch_lists_the_names_the_certificate_is_for") else {
        return;
    };
    let server = SServer::www(&pki, "other", &[]);
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        &format!("localhost:{}", server.port),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        tls_json(&output)["verify_error"],
        "name mismatch: the certificate is valid for other.example, www.other.example, not localhost"
    );
    // --sni asks for the right name.
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        "--sni",
        "www.other.example",
        &server.ip_addr(),
    ]);
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn min_days_fails_a_certificate_that_expires_sooner() {
    let Some(pki) = Pki::for_test("min_days_fails_a_certificate_that_expires_sooner") else {
        return;
    };
    let server = SServer::www(&pki, "leaf", &[]);
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        "--min-days",
        "400",
        &server.ip_addr(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(" open "), "{stdout}");
    assert!(stdout.contains("fewer than --min-days 400"), "{stdout}");
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        "--min-days",
        "7",
        &server.ip_addr(),
    ]);
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn a_plaintext_server_offered_no_tls() {
    if Command::new("socat").arg("-V").output().is_err() {
        skip("a_plaintext_server_offered_no_tls", "needs socat");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("answer.sh");
    std::fs::write(
        &script,
        // It stays a moment after answering: socat may drop what a child wrote just before it
        // exited.
        "printf 'HTTP/1.1 400 Bad Request\\r\\nContent-Length: 0\\r\\n\\r\\n'; sleep 2\n",
    )
    .unwrap();
    let mut child = Command::new("socat")
        .args(["-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,fork"])
        // `sh FILE` reads the script: exec'ing a file just written can meet ETXTBSY while
        // another test forks.
        .arg(format!("SYSTEM:sh {}", script.display()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let port: u16 = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_once("listening on ")
                .and_then(|(_, addr)| addr.rsplit_once(':'))
                .and_then(|(_, port)| port.trim().parse().ok())
        })
        .expect("socat says where it listens");
    std::thread::spawn(move || lines.for_each(drop));
    let output = probe(&["--tls", &format!("127.0.0.1:{port}"), "--json"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        tls_json(&output)["verify_error"],
        "peer offered no TLS: it answered \"HTTP/1.1 400 Bad Request…\""
    );
}

#[test]
fn count_times_tls_handshakes() {
    let Some(pki) = Pki::for_test("count_times_tls_handshakes") else {
        return;
    };
    let server = SServer::www(&pki, "leaf", &[]);
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        "--count",
        "3",
        "--interval",
        "50ms",
        &server.ip_addr(),
    ]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches(" verified").count(), 3, "{stdout}");
    assert!(stdout.contains("3 sent, 3 ok, 0% loss"), "{stdout}");
}

#[test]
fn tls_flags_are_checked_before_probing() {
    for (args, needle) in [
        (&["--tls", "-u", "127.0.0.1:1"][..], "TCP only"),
        (
            &["--tls", "--pin", "abc", "127.0.0.1:1"],
            "not a SHA-256 fingerprint",
        ),
        (
            &["--tls", "--ca", "/nonexistent/ca.pem", "127.0.0.1:1"],
            "--ca",
        ),
        (&["--sni", "x", "127.0.0.1:1"], "--tls"),
        (&["--min-days", "3", "127.0.0.1:1"], "--tls"),
    ] {
        let output = probe(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn wait_gives_up_on_a_certificate_that_never_verifies_and_says_why() {
    let Some(pki) =
        Pki::for_test("wait_gives_up_on_a_certificate_that_never_verifies_and_says_why")
    else {
        return;
    };
    let server = SServer::www(&pki, "expired", &[]);
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        "--wait",
        "1s",
        "--interval",
        "200ms",
        &server.ip_addr(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("timed out after 1s waiting for"),
        "{stderr}"
    );
    assert!(
        stderr.contains("is open, but its TLS check failed: certificate expired on 2021-01-01"),
        "{stderr}"
    );
    // The same server passes as soon as the certificate is good enough.
    let output = probe(&["--tls", "--insecure", "--wait", "5s", &server.ip_addr()]);
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn a_server_that_demands_a_client_certificate_gets_one_in_every_key_form() {
    let Some(pki) =
        Pki::for_test("a_server_that_demands_a_client_certificate_gets_one_in_every_key_form")
    else {
        return;
    };
    for version in ["-tls1_3", "-tls1_2"] {
        let server = SServer::www(
            &pki,
            "leaf",
            &[
                version,
                "-Verify",
                "1",
                "-verify_return_error",
                "-CAfile",
                &pki.ca(),
            ],
        );
        for form in ["pkcs8", "pkcs1", "sec1"] {
            let (cert, key) = client_cert(&pki, form);
            let output = probe(&[
                "--tls",
                "--ca",
                &pki.ca(),
                "--cert",
                &cert,
                "--key",
                &key,
                &server.ip_addr(),
            ]);
            assert!(output.status.success(), "{version} {form}: {output:?}");
        }
        // Without one, the probe says what the server wants.
        let output = probe(&["--tls", "--ca", &pki.ca(), &server.ip_addr()]);
        assert_eq!(output.status.code(), Some(1), "{version}: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("the server requires a client certificate (alert "),
            "{version}: {stdout}"
        );
        // One the server's CA did not sign is refused.
        let output = probe(&[
            "--tls",
            "--ca",
            &pki.ca(),
            "--cert",
            &pki.path("self.pem").display().to_string(),
            "--key",
            &pki.path("self.key").display().to_string(),
            &server.ip_addr(),
        ]);
        assert_eq!(output.status.code(), Some(1), "{version}: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("the server refused our client certificate (alert unknown_ca)"),
            "{version}: {stdout}"
        );
    }
}

#[test]
fn prometheus_gives_the_certificate_end_of_validity() {
    let Some(pki) = Pki::for_test("prometheus_gives_the_certificate_end_of_validity") else {
        return;
    };
    let server = SServer::www(&pki, "leaf", &[]);
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        &server.ip_addr(),
        "--prometheus",
    ]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    let labels = format!(
        "{{host=\"127.0.0.1\",addr=\"127.0.0.1\",port=\"{}\",proto=\"tcp\"}}",
        server.port
    );
    // openssl's -enddate, as Unix seconds (`date -d` reads openssl's format).
    let enddate = pki.x509("leaf", &["-enddate"]);
    let date = Command::new("date")
        .args(["-u", "-d", &enddate, "+%s"])
        .output()
        .unwrap();
    let expected = String::from_utf8_lossy(&date.stdout).trim().to_string();
    assert!(
        text.contains(&format!(
            "sockx_tls_cert_not_after_timestamp_seconds{labels} {expected}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("# TYPE sockx_tls_cert_not_after_timestamp_seconds gauge\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("sockx_probe_check_ok{labels} 1\n")),
        "{text}"
    );
    // A certificate that fails its check says 0.
    let output = probe(&["--tls", &server.ip_addr(), "--prometheus"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(&format!("sockx_probe_check_ok{labels} 0\n")),
        "{text}"
    );
}

#[test]
fn http_and_expect_checks_run_over_tls() {
    let Some(pki) = Pki::for_test("http_and_expect_checks_run_over_tls") else {
        return;
    };
    // s_server -www answers a GET with its status page, `HTTP/1.0 200 ok`.
    let server = SServer::www(&pki, "leaf", &[]);
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        &server.ip_addr(),
        "--json",
        "--http",
    ]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    let value: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(value["tls"]["verified"], true, "{value}");
    assert_eq!(value["http"]["status"], 200, "{value}");
    assert_eq!(value["check"]["ok"], true, "{value}");

    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        &server.ip_addr(),
        "--send",
        "GET / HTTP/1.0\\r\\n\\r\\n",
        "--expect",
        "(?i)^HTTP/1\\.0 200 ok",
    ]);
    assert!(output.status.success(), "{output:?}");
    // A status outside the list fails the probe though the handshake passed.
    let output = probe(&[
        "--tls",
        "--ca",
        &pki.ca(),
        &server.ip_addr(),
        "--http",
        "/",
        "--http-status",
        "500",
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(" verified"), "{stdout}");
}

#[test]
fn a_server_without_tls_1_2_or_1_3_is_a_protocol_version_failure() {
    let Some(pki) = Pki::for_test("a_server_without_tls_1_2_or_1_3_is_a_protocol_version_failure")
    else {
        return;
    };
    // TLS 1.1 only (openssl 3 needs security level 0 for it).
    let server = SServer::www(&pki, "leaf", &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    let output = probe(&[
        "-v",
        "--tls",
        "--ca",
        &pki.ca(),
        &server.ip_addr(),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let tls = tls_json(&output);
    assert_eq!(
        tls["verify_error"],
        "protocol version: the server refused TLS 1.2 and 1.3 (alert protocol_version)"
    );
    assert!(tls["version"].is_null(), "{tls}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("hint: sockx speaks TLS 1.2 and 1.3; this server offers neither"),
        "{stderr}"
    );
}
