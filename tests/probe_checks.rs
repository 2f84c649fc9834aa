//! `sockx probe` application checks (`--send`/`--expect`, `--http`) against real servers on
//! loopback: python3's http.server, nginx and redis-server when installed, small python3
//! servers for the readiness and banner cases, and a listener that never answers.

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::daemon::{on_free_port, python_server};
use common::{Daemon, installed, json_keys, json_lines, skip, sockx, text};
use predicates::prelude::*;
use serde_json::Value;

/// python3's own http.server on 127.0.0.1, serving `index.html` with "hello".
fn http_server() -> (Daemon, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "hello\n").unwrap();
    let script = format!(
        "import functools, http.server\n\
         h = functools.partial(http.server.SimpleHTTPRequestHandler, directory={:?})\n\
         h.func.log_message = lambda *a: None\n\
         s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)\n\
         print(s.server_address[1])\n\
         s.serve_forever()\n",
        dir.path().to_str().unwrap()
    );
    let (daemon, port) = python_server(&script, &[]);
    (daemon, port, dir)
}

#[test]
fn an_http_check_reports_status_reason_and_server() {
    let (_server, port, _dir) = http_server();
    let output = sockx()
        .args(["probe", &format!("127.0.0.1:{port}"), "--http", "--json"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(
        json_keys(line).into_iter().collect::<Vec<_>>(),
        [
            "addr", "check", "host", "http", "port", "proto", "reason", "rtt_ms", "state"
        ]
    );
    assert_eq!(
        line["check"],
        serde_json::json!({"ok": true, "detail": null})
    );
    assert_eq!(line["http"]["status"], 200);
    assert_eq!(line["http"]["reason"], "OK");
    assert!(
        line["http"]["server"]
            .as_str()
            .unwrap()
            .starts_with("SimpleHTTP")
    );

    sockx()
        .args([
            "probe",
            &format!("localhost:{port}"),
            "--http",
            "/index.html",
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .success()
        .stdout(
            predicates::str::contains("open  syn-ack")
                .and(predicates::str::contains("HTTP 200 OK (SimpleHTTP")),
        );
}

#[test]
fn a_target_written_right_after_http_is_a_target_checked_at_the_root() {
    let (_server, port, _dir) = http_server();
    let target = format!("127.0.0.1:{port}");
    for (args, probed) in [
        (vec!["probe", "--http", &target, "--json"], 1),
        (vec!["probe", "--json", "--http", &target, &target], 2),
    ] {
        let output = sockx()
            .args(&args)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        let lines = json_lines(&output);
        assert_eq!(lines.len(), probed, "{args:?}");
        for line in &lines {
            assert_eq!(line["port"], port);
            assert_eq!(line["http"]["status"], 200, "{args:?}: {line}");
        }
    }
}

#[test]
fn a_failed_http_check_stays_open_but_exits_one() {
    let (_server, port, _dir) = http_server();
    let target = format!("127.0.0.1:{port}");
    let output = sockx()
        .args(["probe", &target, "--http", "/missing", "--json"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let line = &json_lines(&output)[0];
    assert_eq!(line["state"], "open");
    assert_eq!(line["check"]["ok"], false);
    assert_eq!(line["http"]["status"], 404);
    let detail = line["check"]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("HTTP 404 File not found not in 200-399; got \"HTTP/1.0 404"),
        "{detail}"
    );

    // The text line says why; -v adds what came back.
    sockx()
        .args(["probe", &target, "--http", "/missing"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("check failed: HTTP 404 File not found not in 200-399")
                .and(predicate::str::contains("got \"").not()),
        );
    sockx()
        .args(["probe", &target, "--http", "/missing", "-v"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "got \"HTTP/1.0 404 File not found\\r\\n",
        ));

    // --http-status takes lists, ranges and classes; --any needs one passing port.
    sockx()
        .args([
            "probe",
            &target,
            "--http",
            "/missing",
            "--http-status",
            "200,4xx",
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
}

#[test]
fn nginx_answers_the_http_check() {
    if !installed("nginx") {
        return skip("nginx_answers_the_http_check", "nginx is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let (_nginx, port) = on_free_port(|port| {
        let conf = format!(
            "master_process off;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\nevents {{}}\nhttp {{\n\
             access_log off;\nclient_body_temp_path {root}/body;\nproxy_temp_path {root}/proxy;\n\
             fastcgi_temp_path {root}/fastcgi;\nuwsgi_temp_path {root}/uwsgi;\nscgi_temp_path {root}/scgi;\n\
             server {{ listen 127.0.0.1:{port}; location / {{ return 200 \"ok\\n\"; }}\n\
             location /down {{ return 503; }} }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let mut command = Command::new("nginx");
        command
            .args([
                "-p",
                &root,
                "-c",
                &format!("{root}/nginx.conf"),
                "-g",
                "daemon off;",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    })
    .expect("nginx starts");
    let target = format!("127.0.0.1:{port}");
    let output = sockx()
        .args(["probe", &target, "--http", "--json"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let line = &json_lines(&output)[0];
    assert_eq!(line["http"]["status"], 200);
    assert!(
        line["http"]["server"]
            .as_str()
            .unwrap()
            .starts_with("nginx")
    );

    let output = sockx()
        .args(["probe", &target, "--http", "/down", "--json"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let line = &json_lines(&output)[0];
    assert_eq!(
        (line["state"].as_str(), line["http"]["status"].as_u64()),
        (Some("open"), Some(503))
    );
}

#[test]
fn redis_answers_ping_with_pong() {
    if !installed("redis-server") {
        return skip(
            "redis_answers_ping_with_pong",
            "redis-server is not installed",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (_redis, port) = on_free_port(|port| {
        let mut command = Command::new("redis-server");
        command
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null());
        command
    })
    .expect("redis-server starts");
    let target = format!("127.0.0.1:{port}");
    sockx()
        .args([
            "probe",
            "--wait",
            "20s",
            &target,
            "--send",
            "PING\\r\\n",
            "--expect",
            "^\\+PONG",
        ])
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stdout(predicate::str::contains("check ok"));

    let output = sockx()
        .args([
            "probe",
            &target,
            "--send",
            "PING\\r\\n",
            "--expect",
            "^\\+READY",
            "-t",
            "500ms",
            "--json",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let line = &json_lines(&output)[0];
    assert_eq!(
        json_keys(line).into_iter().collect::<Vec<_>>(),
        [
            "addr", "check", "host", "port", "proto", "reason", "rtt_ms", "state"
        ]
    );
    assert_eq!(line["state"], "open");
    assert_eq!(
        line["check"]["detail"],
        "no match before the timeout; got \"+PONG\\r\\n\""
    );

    // --count with a check: every attempt timed to its passing reply.
    let output = sockx()
        .args([
            "probe",
            "--count",
            "3",
            "--interval",
            "50ms",
            &target,
            "--send",
            "PING\\r\\n",
            "--expect",
            "PONG",
            "--json",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 4, "three attempts and a summary");
    for attempt in &lines[..3] {
        assert_eq!(attempt["check"]["ok"], true);
        assert!(attempt["rtt_ms"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(lines[3]["ok"], 3);
}

#[test]
fn wait_holds_until_the_http_check_passes() {
    // Accepts at once but answers 503 twice before it is ready: the docker-proxy case.
    let (_server, port) = python_server(
        "import http.server\n\
         class H(http.server.BaseHTTPRequestHandler):\n\
         \x20   seen = 0\n\
         \x20   def do_GET(self):\n\
         \x20       H.seen += 1\n\
         \x20       self.send_response(503 if H.seen <= 2 else 200)\n\
         \x20       self.send_header('Content-Length', '0')\n\
         \x20       self.end_headers()\n\
         \x20   def log_message(self, *a): pass\n\
         s = http.server.HTTPServer(('127.0.0.1', 0), H)\n\
         print(s.server_address[1])\n\
         s.serve_forever()\n",
        &[],
    );
    let output = sockx()
        .args([
            "probe",
            "--wait",
            "20s",
            "--interval",
            "100ms",
            &format!("127.0.0.1:{port}"),
            "--http",
            "--json",
        ])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let line = &json_lines(&output)[0];
    assert_eq!(line["http"]["status"], 200);
}

#[test]
fn wait_gives_up_naming_the_failed_check() {
    let (_server, port, _dir) = http_server();
    sockx()
        .args([
            "probe",
            "--wait",
            "1s",
            "--interval",
            "100ms",
            &format!("127.0.0.1:{port}"),
            "--http",
            "/missing",
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("timed out after 1s waiting for 127.0.0.1:").and(
                predicate::str::contains("is open, but its check failed: HTTP 404"),
            ),
        );
}

#[test]
fn expect_alone_reads_the_banner() {
    let (_server, port) = python_server(
        "import socket\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8)\n\
         print(s.getsockname()[1])\n\
         while True:\n\
         \x20   c, _ = s.accept()\n\
         \x20   try: c.sendall(b'220 mail.example ESMTP ready\\r\\n'); c.recv(100)\n\
         \x20   except OSError: pass\n\
         \x20   c.close()\n",
        &[],
    );
    let target = format!("127.0.0.1:{port}");
    sockx()
        .args(["probe", &target, "--expect", "^220 "])
        .timeout(Duration::from_secs(20))
        .assert()
        .success()
        .stdout(predicate::str::contains("check ok"));
    sockx()
        .args(["probe", &target, "--expect", "^SSH-", "-t", "500ms"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("check failed: no match"));
}

#[test]
fn a_server_that_never_answers_fails_the_check_at_the_timeout() {
    // The kernel completes the handshake; nobody ever reads or writes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let started = Instant::now();
    let output = sockx()
        .args([
            "probe",
            &format!("127.0.0.1:{port}"),
            "--http",
            "-t",
            "300ms",
            "--json",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let line = &json_lines(&output)[0];
    assert_eq!(line["state"], "open");
    assert_eq!(line["http"], Value::Null);
    assert_eq!(
        line["check"]["detail"],
        "no complete HTTP response head before the timeout; nothing came back"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    drop(listener);
}

#[test]
fn a_closed_port_has_a_null_check() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = sockx()
        .args([
            "probe",
            &format!("127.0.0.1:{port}"),
            "--expect",
            "x",
            "--json",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let line = &json_lines(&output)[0];
    assert_eq!(
        (line["state"].as_str(), &line["check"]),
        (Some("closed"), &Value::Null)
    );
}

#[test]
fn bad_check_arguments_exit_two() {
    for args in [
        &["probe", "--http=127.0.0.1:80", "127.0.0.1:80"][..],
        &["probe", "--http", "/health"],
        &["probe", "127.0.0.1:80", "--http", "/a b"],
        &["probe", "127.0.0.1:80", "--http", "--http-status", "99"],
        &[
            "probe",
            "127.0.0.1:80",
            "--http",
            "--http-status",
            "300-200",
        ],
        &["probe", "127.0.0.1:80", "--http-status", "200"],
        &["probe", "127.0.0.1:80", "--expect", "("],
        &["probe", "127.0.0.1:80", "--send", "\\q"],
        &["probe", "127.0.0.1:80", "--send", "x", "--http"],
        &["probe", "-u", "127.0.0.1:80", "--expect", "x"],
    ] {
        sockx()
            .args(args)
            .timeout(Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(
                predicate::str::starts_with("sockx: error:")
                    .or(predicate::str::starts_with("error:")),
            );
    }
}
