//! `sockx probe` on Unix stream sockets: states and reasons, `--wait`, `--count`, and the
//! application checks over the connection, against python3 servers and socat.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};

use common::daemon::python_ready;
use common::{Daemon, installed, json_keys, json_lines, skip, sockx, text};

fn unix(path: &Path) -> String {
    format!("unix:{}", path.display())
}

/// A Docker-style API on a Unix socket: `GET /_ping` answers `200 OK` with `OK`, anything
/// else 404. Prints `ready` once it listens.
const PING_SERVER: &str = r#"
import http.server, socketserver, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        ok = self.path == '/_ping'
        body = b'OK' if ok else b'page not found'
        self.send_response(200 if ok else 404)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def version_string(self):
        return 'Docker/27.0 (linux)'
    def address_string(self):
        return 'unix'
    def log_message(self, *args):
        pass
server = socketserver.UnixStreamServer(sys.argv[1], Handler)
print('ready', flush=True)
server.serve_forever()
"#;

#[test]
fn open_refused_and_missing_sockets_have_states_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.sock");
    let _listener = UnixListener::bind(&live).unwrap();
    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let missing = dir.path().join("missing.sock");
    let output = sockx()
        .args(["probe", &unix(&live), &unix(&stale)])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let lines: Vec<Vec<String>> = text(&output.stdout)
        .lines()
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(lines.len(), 3, "{}", text(&output.stdout));
    assert_eq!(
        lines[0][..3],
        [unix(&live), "open".into(), "connected".into()]
    );
    assert_eq!(
        lines[1][..3],
        [unix(&stale), "closed".into(), "conn-refused".into()]
    );
    assert_eq!(
        lines[2][..3],
        [unix(&missing), "closed".into(), "no-such-file".into()]
    );
    assert!(
        text(&output.stderr).contains("3 Unix sockets in "),
        "{}",
        text(&output.stderr)
    );
    // The nc form: -U reads a word without a slash as a path.
    sockx()
        .current_dir(dir.path())
        .args(["probe", "-U", "live.sock"])
        .assert()
        .success();
}

#[test]
fn json_fills_what_applies_and_nulls_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.sock");
    let _listener = UnixListener::bind(&live).unwrap();
    let name = format!("sockx-probe-test-{}", std::process::id());
    let output = sockx()
        .args(["probe", "--json", &unix(&live), &format!("unix:@{name}")])
        .output()
        .unwrap();
    let rows = json_lines(&output);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        json_keys(&rows[0]),
        ["addr", "host", "port", "proto", "reason", "rtt_ms", "state"]
            .into_iter()
            .collect()
    );
    assert_eq!(rows[0]["host"], unix(&live));
    assert_eq!(rows[0]["addr"], live.display().to_string());
    assert!(rows[0]["port"].is_null());
    assert_eq!(rows[0]["proto"], "unix");
    assert_eq!(rows[0]["state"], "open");
    assert_eq!(rows[0]["reason"], "connected");
    assert!(rows[0]["rtt_ms"].is_number());
    // Nothing listens on the abstract name: refused.
    assert_eq!(rows[1]["addr"], format!("@{name}"));
    assert_eq!(rows[1]["state"], "closed");
    assert_eq!(rows[1]["reason"], "conn-refused");
}

#[test]
fn a_socket_this_user_may_not_write_is_permission_denied() {
    let test = "a_socket_this_user_may_not_write_is_permission_denied";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.sock");
    let _listener = UnixListener::bind(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Root may write anything: probe as nobody then.
    let mut command = if common::is_root() {
        if !installed("setpriv") {
            skip(test, "setpriv is not installed");
            return;
        }
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(common::sockx_path());
        command
    } else {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        Command::new(common::sockx_path())
    };
    let output = command
        .args(["probe", "--json", &unix(&path)])
        .env_clear()
        .output()
        .unwrap();
    let rows = json_lines(&output);
    assert_eq!(rows.len(), 1, "{}", text(&output.stderr));
    assert_eq!(rows[0]["state"], "filtered");
    assert_eq!(rows[0]["reason"], "permission-denied");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_full_accept_queue_is_filtered_by_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.sock");
    // Backlog 0 holds one queued connection; nobody accepts, so the next connect waits.
    let listener =
        socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
    listener
        .bind(&socket2::SockAddr::unix(&path).unwrap())
        .unwrap();
    listener.listen(0).unwrap();
    let _queued = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let output = sockx()
        .args(["probe", "--json", "-t", "300ms", &unix(&path)])
        .output()
        .unwrap();
    let rows = json_lines(&output);
    assert_eq!(rows[0]["state"], "filtered", "{rows:?}");
    assert_eq!(rows[0]["reason"], "timeout");
    assert!(rows[0]["rtt_ms"].is_null());
}

#[test]
fn http_check_over_a_unix_socket_like_dockers_ping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker.sock");
    let Some(_server) = python_ready(PING_SERVER, &[&path.display().to_string()]) else {
        skip(
            "http_check_over_a_unix_socket_like_dockers_ping",
            "python3 is not installed",
        );
        return;
    };
    let output = sockx()
        .args(["probe", &unix(&path), "--http", "/_ping"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(shown.contains("open"), "{shown}");
    assert!(
        shown.contains("HTTP 200 OK (Docker/27.0 (linux))"),
        "{shown}"
    );
    // JSON has the head; another path fails the check but stays open.
    let output = sockx()
        .args(["probe", "--json", &unix(&path), "--http", "/nope"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let rows = json_lines(&output);
    assert_eq!(rows[0]["state"], "open");
    assert_eq!(rows[0]["http"]["status"], 404);
    assert_eq!(rows[0]["check"]["ok"], false);
}

#[test]
fn send_and_expect_over_a_unix_socket() {
    if !installed("socat") {
        skip(
            "send_and_expect_over_a_unix_socket",
            "socat is not installed",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("redis.sock");
    // A redis-like PING/PONG: socat runs the reply for every connection.
    let _socat = Daemon(
        Command::new("socat")
            .arg(format!("UNIX-LISTEN:{},fork", path.display()))
            .arg("SYSTEM:'read line; printf \"+PONG\\r\\n\"'")
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // --wait covers the moment before socat listens.
    let output = sockx()
        .args([
            "probe",
            "--wait",
            "30s",
            &unix(&path),
            "--send",
            "PING\\r\\n",
            "--expect",
            "^\\+PONG",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("check ok"),
        "{}",
        text(&output.stdout)
    );
    let output = sockx()
        .args([
            "probe",
            &unix(&path),
            "--send",
            "PING\\r\\n",
            "--expect",
            "^-ERR",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("check failed"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn wait_until_a_server_listens_on_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.sock");
    let waiting = Command::new(common::sockx_path())
        .args(["probe", "--wait", "60s", "-v", &unix(&path)])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The socket appears only after the wait started (or, on a loaded machine, before its
    // first round): either way the wait ends once a listener is there.
    let _listener = UnixListener::bind(&path).unwrap();
    let output = waiting.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("open"),
        "{}",
        text(&output.stdout)
    );

    // A path that never appears: the deadline names it and why.
    let never = dir.path().join("never.sock");
    let output = sockx()
        .args(["probe", "--wait", "300ms", &unix(&never)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("waiting for {}", unix(&never))),
        "{stderr}"
    );
    assert!(stderr.contains("no-such-file"), "{stderr}");
}

#[test]
fn count_times_unix_connects() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ping.sock");
    let _listener = UnixListener::bind(&path).unwrap();
    let output = sockx()
        .args(["probe", "--count", "3", "--interval", "10ms", &unix(&path)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert_eq!(shown.matches(" connected ").count(), 3, "{shown}");
    assert!(
        shown.contains(&format!("--- {} ---", unix(&path))),
        "{shown}"
    );
    assert!(shown.contains("3 sent, 3 ok, 0% loss"), "{shown}");
}

#[test]
fn tcp_and_unix_targets_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let _unix = UnixListener::bind(&path).unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port();
    let output = sockx()
        .args(["probe", &format!("127.0.0.1:{port}"), &unix(&path)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    assert!(shown.contains(&unix(&path)), "{shown}");
    assert!(
        text(&output.stderr).contains("1 port on 1 host and 1 Unix socket in "),
        "{}",
        text(&output.stderr)
    );
    // --wait over both.
    sockx()
        .args([
            "probe",
            "--wait",
            "30s",
            &format!("127.0.0.1:{port}"),
            &unix(&path),
        ])
        .assert()
        .success();
}

/// A datagram socket (syslog's /dev/log, journald's) is probed with `-u`; without it, and a
/// stream socket with it, is `closed (wrong-type)`, never an unexplained `filtered (error)`.
#[test]
fn datagram_sockets_are_probed_with_dash_u_and_the_wrong_type_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let dgram = dir.path().join("log.sock");
    let _dgram = std::os::unix::net::UnixDatagram::bind(&dgram).unwrap();
    let stream = dir.path().join("app.sock");
    let _stream = UnixListener::bind(&stream).unwrap();
    let missing = dir.path().join("missing.sock");
    let state = |args: &[&str], target: &Path| {
        let output = sockx().args(args).arg(unix(target)).output().unwrap();
        let words: Vec<String> = text(&output.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        (output.status.code(), words[1..3].join(" "))
    };
    assert_eq!(
        state(&["probe", "-u"], &dgram),
        (Some(0), "open connected".into())
    );
    assert_eq!(
        state(&["probe", "-u"], &stream),
        (Some(1), "closed wrong-type".into())
    );
    assert_eq!(
        state(&["probe", "-u"], &missing),
        (Some(1), "closed no-such-file".into())
    );
    assert_eq!(
        state(&["probe"], &dgram),
        (Some(1), "closed wrong-type".into())
    );

    let output = sockx()
        .args(["probe", "-u", "--json"])
        .arg(unix(&dgram))
        .output()
        .unwrap();
    let rows = json_lines(&output);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["proto"], "unix-dgram");
    assert_eq!(rows[0]["state"], "open");
    assert_eq!(rows[0]["port"], serde_json::Value::Null);

    // A payload is UDP's; nothing would send it to a Unix socket.
    let output = sockx()
        .args(["probe", "-u", "--payload", "x"])
        .arg(unix(&dgram))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn flags_that_do_not_apply_to_a_unix_socket_are_refused() {
    for args in [
        &["probe", "--tls", "unix:/tmp/x.sock"][..],
        &["probe", "--starttls", "smtp", "unix:/tmp/x.sock"],
        &["probe", "-p", "80", "unix:/tmp/x.sock"],
        &["probe", "unix:"],
    ] {
        let output = sockx().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).starts_with("sockx: error: "),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
}
