//! `sockx ports`: real sockets opened by the test (or by python3 children it starts) on
//! loopback, looked up through the real binary.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, ChildStdout, Command as StdCommand, Stdio};

use common::{Netns, pids_of, sockx};
use serde_json::Value;

/// Runs `sockx ports ARGS --json` and returns the exit code and the objects.
///
/// Another test starting a process forks this one first: for a moment the child holds copies
/// of our sockets until it executes its program. The scan finds every holder, so such a
/// listing is taken again.
fn ports_json(args: &[&str]) -> (i32, Vec<Value>) {
    let mut attempts = 0;
    loop {
        let output = sockx()
            .arg("ports")
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        let rows = parse_lines(&output.stdout);
        attempts += 1;
        if attempts == 50 || !rows.iter().any(lists_a_fork_of_ours) {
            return (output.status.code().unwrap_or(-1), rows);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether a row lists us and someone else: a fork of ours on its way to another program
/// (see [`ports_json`]); no test shares a socket of its own with another process.
fn lists_a_fork_of_ours(row: &Value) -> bool {
    if !row["processes"].is_array() {
        return false;
    }
    let pids = pids_of(row);
    pids.len() > 1 && pids.contains(&me())
}

fn parse_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The row for a local `addr` and protocol, if listed.
fn row_for<'a>(rows: &'a [Value], proto: &str, addr: SocketAddr) -> Option<&'a Value> {
    rows.iter().find(|row| {
        row["proto"] == proto
            && row["local_port"] == addr.port()
            && row["local_addr"] == addr.ip().to_string()
    })
}

fn port_arg(addr: SocketAddr) -> String {
    addr.port().to_string()
}

fn me() -> u64 {
    u64::from(std::process::id())
}

#[test]
fn a_tcp_listener_is_reported_with_our_pid_and_name() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (code, rows) = ports_json(&[&port_arg(addr)]);
    assert_eq!(code, 0);
    let row = row_for(&rows, "tcp", addr).expect("our listener is listed");
    assert_eq!(row["state"], "LISTEN");
    assert_eq!(row["exposed"], false);
    assert_eq!(row["remote_addr"], Value::Null);
    assert_eq!(pids_of(row), vec![me()]);
    let exe = std::env::current_exe().unwrap();
    let name = exe.file_name().unwrap().to_string_lossy().to_string();
    let process = &row["processes"][0];
    assert_eq!(process["name"], name.as_str());
    assert!(
        process["cmd"].as_str().unwrap().contains(&name),
        "{process}"
    );
}

#[test]
fn json_objects_have_exactly_the_contract_fields() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (_, rows) = ports_json(&[&port_arg(listener.local_addr().unwrap())]);
    let expected: BTreeSet<&str> = [
        "proto",
        "local_addr",
        "local_port",
        "remote_addr",
        "remote_port",
        "state",
        "exposed",
        "uid",
        "user",
        "processes",
    ]
    .into();
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(common::json_keys(row), expected);
        for process in row["processes"].as_array().unwrap() {
            assert_eq!(
                common::json_keys(process),
                BTreeSet::from(["pid", "name", "cmd"])
            );
        }
    }
}

#[test]
fn a_bound_udp_socket_is_unconn() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let (code, rows) = ports_json(&["-u", &port_arg(addr)]);
    assert_eq!(code, 0);
    let row = row_for(&rows, "udp", addr).expect("our UDP socket is listed");
    assert_eq!(row["state"], "UNCONN");
    assert_eq!(row["remote_port"], Value::Null);
    assert_eq!(pids_of(row), vec![me()]);
}

#[test]
fn a_connected_udp_socket_is_never_listening() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.connect(server.local_addr().unwrap()).unwrap();
    let client_addr = client.local_addr().unwrap();

    let (code, rows) = ports_json(&["-u", &port_arg(client_addr)]);
    assert_eq!(code, 1, "{rows:?}");
    assert!(rows.is_empty());

    let (code, _) = ports_json(&["--state", "listen", "-u", &port_arg(client_addr)]);
    assert_eq!(code, 1);
    let (code, rows) = ports_json(&["--state", "listen", &port_arg(server.local_addr().unwrap())]);
    assert_eq!(code, 0);
    assert_eq!(rows[0]["state"], "UNCONN");

    let (code, rows) = ports_json(&["-a", "-u", &port_arg(client_addr)]);
    assert_eq!(code, 0);
    let row = row_for(&rows, "udp", client_addr).expect("listed with -a");
    assert_eq!(row["state"], "ESTABLISHED");
    assert_eq!(row["remote_port"], server.local_addr().unwrap().port());
    assert_eq!(row["remote_addr"], "127.0.0.1");
}

#[test]
fn an_established_pair_shows_with_all_and_state() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    let client = TcpStream::connect(server_addr).unwrap();
    let (_accepted, peer) = listener.accept().unwrap();
    let port = port_arg(server_addr);

    let (_, rows) = ports_json(&[&port]);
    assert!(rows.iter().all(|row| row["state"] == "LISTEN"), "{rows:?}");

    let (code, rows) = ports_json(&["-a", &port]);
    assert_eq!(code, 0);
    let states: BTreeSet<&str> = rows.iter().filter_map(|r| r["state"].as_str()).collect();
    assert_eq!(states, BTreeSet::from(["ESTABLISHED", "LISTEN"]));

    let (code, rows) = ports_json(&["--state", "established", &port]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["state"], "ESTABLISHED");
    assert_eq!(rows[0]["remote_port"], peer.port());
    assert_eq!(pids_of(&rows[0]), vec![me()]);

    // The client's side, found by its own (ephemeral) port.
    let client_port = port_arg(client.local_addr().unwrap());
    let (_, rows) = ports_json(&["--state", "ESTABLISHED", &client_port]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["remote_port"], server_addr.port());
}

#[test]
fn protocol_filters_select_and_exclude() {
    let (tcp, udp) = tcp_and_udp_on_one_port();
    let addr = tcp.local_addr().unwrap();
    let port = port_arg(addr);
    let (_, rows) = ports_json(&[&port]);
    let protos: BTreeSet<&str> = rows.iter().filter_map(|r| r["proto"].as_str()).collect();
    assert_eq!(protos, BTreeSet::from(["tcp", "udp"]));
    let (_, rows) = ports_json(&["-t", &port]);
    assert!(rows.iter().all(|r| r["proto"] == "tcp") && !rows.is_empty());
    let (_, rows) = ports_json(&["--udp", &port]);
    assert!(rows.iter().all(|r| r["proto"] == "udp") && !rows.is_empty());
    drop(udp);
}

/// A TCP listener and a UDP socket on the same loopback port.
fn tcp_and_udp_on_one_port() -> (TcpListener, UdpSocket) {
    for _ in 0..50 {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        if let Ok(udp) = UdpSocket::bind(tcp.local_addr().unwrap()) {
            return (tcp, udp);
        }
    }
    panic!("no port free for both TCP and UDP");
}

#[test]
fn family_filters_select_and_exclude() {
    let Ok(v6) = TcpListener::bind("[::1]:0") else {
        common::skip("family_filters_select_and_exclude", "no IPv6 loopback");
        return;
    };
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let (v4_addr, v6_addr) = (v4.local_addr().unwrap(), v6.local_addr().unwrap());
    let (p4, p6) = (port_arg(v4_addr), port_arg(v6_addr));

    let (_, rows) = ports_json(&["-4", &p4, &p6]);
    assert!(row_for(&rows, "tcp", v4_addr).is_some());
    assert!(row_for(&rows, "tcp", v6_addr).is_none());
    let (_, rows) = ports_json(&["-6", &p4, &p6]);
    assert!(row_for(&rows, "tcp", v4_addr).is_none());
    assert!(row_for(&rows, "tcp", v6_addr).is_some());
    let (_, rows) = ports_json(&[&p4, &p6]);
    assert!(row_for(&rows, "tcp", v4_addr).is_some() && row_for(&rows, "tcp", v6_addr).is_some());
}

#[test]
fn owner_filters_select_and_exclude() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let port = port_arg(addr);
    let pid = me().to_string();
    let exe = std::env::current_exe().unwrap();
    let name = exe.file_name().unwrap().to_string_lossy().to_string();
    let uid = nix::unistd::Uid::effective().as_raw();
    let user = nix::unistd::User::from_uid(nix::unistd::Uid::effective())
        .unwrap()
        .unwrap()
        .name;
    let other_uid = (uid + 4242).to_string();

    let selected: [&[&str]; 6] = [
        &["--pid", &pid],
        &["--process", &name[..5]],
        &["--process", "ports"],
        &["--user", &user],
        &["--user", &uid.to_string()],
        &["--pid", &pid, "--process", &name, "--user", &user],
    ];
    for args in selected {
        let (code, rows) = ports_json(&[args, &[port.as_str()]].concat());
        assert_eq!(code, 0, "{args:?}");
        assert!(row_for(&rows, "tcp", addr).is_some(), "{args:?}");
    }
    let excluded: [&[&str]; 4] = [
        &["--pid", "1"],
        &["--process", "no-such-process-sockx"],
        &["--user", &other_uid],
        &["--pid", &pid, "--process", "no-such-process-sockx"],
    ];
    for args in excluded {
        let (code, rows) = ports_json(&[args, &[port.as_str()]].concat());
        assert_eq!(code, 1, "{args:?}: {rows:?}");
        assert!(rows.is_empty(), "{args:?}");
    }
}

#[test]
fn exposed_means_not_loopback() {
    let local = TcpListener::bind("127.0.0.1:0").unwrap();
    let wildcard = TcpListener::bind("0.0.0.0:0").unwrap();
    let (local_addr, wild_addr) = (local.local_addr().unwrap(), wildcard.local_addr().unwrap());
    let ports = [port_arg(local_addr), port_arg(wild_addr)];
    let (_, rows) = ports_json(&["--exposed", &ports[0], &ports[1]]);
    assert!(row_for(&rows, "tcp", wild_addr).is_some(), "{rows:?}");
    assert!(row_for(&rows, "tcp", local_addr).is_none(), "{rows:?}");
    assert!(rows.iter().all(|row| row["exposed"] == true));
    let (_, rows) = ports_json(&ports.each_ref().map(String::as_str));
    assert_eq!(row_for(&rows, "tcp", wild_addr).unwrap()["exposed"], true);
    assert_eq!(row_for(&rows, "tcp", local_addr).unwrap()["exposed"], false);
}

#[test]
fn port_ranges_select_and_exclude() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    let around = format!("{}-{}", port - 1, port.saturating_add(1));
    let colon = format!(":{port}");
    let open_end = format!("{port}-");
    for args in [[around.as_str()], [colon.as_str()], [open_end.as_str()]] {
        let (code, rows) = ports_json(&args);
        assert_eq!(code, 0, "{args:?}");
        assert!(row_for(&rows, "tcp", addr).is_some(), "{args:?}");
        assert!(
            rows.iter()
                .all(|row| row["local_port"].as_u64().unwrap() >= u64::from(port - 1))
        );
    }
    let below = format!("1-{}", port - 1);
    let (_, rows) = ports_json(&[&below]);
    assert!(row_for(&rows, "tcp", addr).is_none());
    assert!(
        rows.iter()
            .all(|row| row["local_port"].as_u64().unwrap() < u64::from(port))
    );
}

#[test]
fn nothing_matching_exits_one_quietly() {
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = sockx()
        .args(["ports", "-t", &port_arg(free)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn plain_output_has_the_contract_columns() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = port_arg(listener.local_addr().unwrap());
    // Taken again while a fork of ours holds the listener too (see `ports_json`).
    let mut text = String::new();
    for _ in 0..50 {
        let output = sockx().args(["ports", &port]).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        text = String::from_utf8(output.stdout).unwrap();
        let pids = text
            .lines()
            .nth(1)
            .and_then(|row| row.split_whitespace().nth(3));
        if pids.is_some_and(|pids| !pids.contains(',')) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "PROTO", "LOCAL", "PORT", "PID", "PROCESS", "USER", "COMMAND"
        ]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        row[..4],
        ["tcp", "127.0.0.1", port.as_str(), me().to_string().as_str()]
    );
    assert!(!text.contains('│'), "no box drawing on a pipe");

    let output = sockx().args(["ports", "-a", &port]).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "PROTO", "LOCAL", "PORT", "STATE", "REMOTE", "PID", "PROCESS", "USER", "COMMAND"
        ]
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // Our own listener only: a socket of the machine's whose owner is unknown would be said
    // on stderr, rightly.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = StdCommand::new(common::sockx_path())
        .args(["ports", "-a", &port])
        .env("NO_COLOR", "1")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bad_input_exits_two_with_one_error_line() {
    let bad: [&[&str]; 9] = [
        &["0"],
        &["65536"],
        &["90-80"],
        &["http-x"],
        &[":0"],
        &["--state", "bogus"],
        &["--kill", "--signal", "NOPE", "80"],
        &["--kill", "--signal", "0", "80"],
        &["--user", "no-such-user-sockx"],
    ];
    for args in bad {
        let output = sockx().arg("ports").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("sockx: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("sockx: error: "), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

/// A python3 child holding sockets; prints one line once ready, ends when its stdin closes.
struct Python {
    child: Child,
    line: String,
    out: BufReader<ChildStdout>,
}

impl Python {
    fn start(command: StdCommand, script: &str) -> Option<Python> {
        Python::start_with(command, script, &[])
    }

    fn start_with(command: StdCommand, script: &str, args: &[&str]) -> Option<Python> {
        let mut command = command;
        let mut child = command
            .args(["-c", script])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .ok()?;
        let mut out = BufReader::new(child.stdout.take()?);
        let mut line = String::new();
        out.read_line(&mut line).ok()?;
        if line.is_empty() {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        Some(Python {
            child,
            line: line.trim().to_string(),
            out,
        })
    }

    fn local(script: &str) -> Option<Python> {
        Python::start(StdCommand::new("python3"), script)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn still_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The next line it prints (empty at its end).
    fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        line.trim().to_string()
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const HOLD_ONE_PORT: &str = "import socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()";

#[test]
fn kill_signals_the_holder_and_nothing_else() {
    let (Some(mut target), Some(mut bystander)) =
        (Python::local(HOLD_ONE_PORT), Python::local(HOLD_ONE_PORT))
    else {
        common::skip(
            "kill_signals_the_holder_and_nothing_else",
            "python3 is not available",
        );
        return;
    };
    let ours = TcpListener::bind("127.0.0.1:0").unwrap();
    let output = sockx()
        .args(["ports", "--kill", "--yes", "--signal", "TERM", &target.line])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("pid {}", target.pid())),
        "{stdout}"
    );
    assert!(stdout.contains("SIGTERM"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");

    let status = target.child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(nix::libc::SIGTERM));
    assert!(bystander.still_running());
    let (code, rows) = ports_json(&[&port_arg(ours.local_addr().unwrap())]);
    assert_eq!(code, 0);
    assert_eq!(pids_of(&rows[0]), vec![me()]);
}

#[test]
fn without_privileges_the_hidden_owners_are_counted() {
    // Root, setpriv, and a binary that nobody can run (its directories searchable): only then
    // does a failure of `sockx ports` as nobody say something about sockx.
    let runs_as_nobody = || {
        StdCommand::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(common::sockx_path())
            .arg("--version")
            .env_clear()
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if !common::is_root() || !runs_as_nobody() {
        common::skip(
            "without_privileges_the_hidden_owners_are_counted",
            "needs root and setpriv to run sockx as another user",
        );
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = port_arg(listener.local_addr().unwrap());
    let output = StdCommand::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(common::sockx_path())
        .args(["ports", &port])
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let row: Vec<&str> = stdout.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[3..5], ["-", "-"], "{stdout}");
    assert!(
        stderr.contains("1 socket has no known owner: its process belongs to another user"),
        "{stderr}"
    );
    assert!(stderr.contains("root"), "{stderr}");
}

/// Python fixture for the namespace test: TCP and UDP, IPv4 and IPv6, a listener shared with
/// a forked child, and a connected UDP socket that must not show.
const FIXTURE: &str = r#"import os, socket, sys
def tcp(family, host, port, v6only=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((host, port)); s.listen(); return s
def udp(family, host, port, v6only=None):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((host, port)); return s
role = sys.argv[1]
keep = []
if role == "a":
    keep += [tcp(socket.AF_INET, "127.0.0.1", 7001), tcp(socket.AF_INET, "0.0.0.0", 7002),
             tcp(socket.AF_INET6, "::1", 7003), tcp(socket.AF_INET6, "::", 7004, 1),
             udp(socket.AF_INET, "127.0.0.1", 7005), udp(socket.AF_INET6, "::", 7006, 0)]
    shared = tcp(socket.AF_INET, "0.0.0.0", 7007)
    if os.fork() == 0:
        sys.stdin.read(); os._exit(0)
else:
    keep += [tcp(socket.AF_INET6, "::", 7008, 0), udp(socket.AF_INET, "0.0.0.0", 7009),
             udp(socket.AF_INET6, "::1", 7010)]
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(("127.0.0.1", 7009)); keep.append(c)
print("ready", flush=True)
sys.stdin.read()"#;

/// (proto, local address, port, pids) from `ss -Htulnp`.
fn ss_rows(netns: &Netns) -> BTreeSet<(String, String, u16, Vec<u64>)> {
    let output = netns.command("ss").args(["-Htulnp"]).output().unwrap();
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (addr, port) = words[4].rsplit_once(':').unwrap();
            let addr = addr.trim_start_matches('[').trim_end_matches(']');
            let addr = addr.split('%').next().unwrap();
            let addr = if addr == "*" { "::" } else { addr };
            let mut pids: Vec<u64> = line
                .split("pid=")
                .skip(1)
                .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
                .collect();
            pids.sort_unstable();
            (
                words[0].to_string(),
                addr.to_string(),
                port.parse().unwrap(),
                pids,
            )
        })
        .collect()
}

#[test]
fn in_a_namespace_the_listing_matches_ss() {
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(reason) => {
            common::skip("in_a_namespace_the_listing_matches_ss", &reason);
            return;
        }
    };
    let start = |role: &str| {
        let mut command = netns.command("python3");
        command.args(["-c", FIXTURE, role]);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        child
    };
    let mut children = [start("a"), start("b")];

    let output = netns.sockx().args(["ports", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let ours: BTreeSet<(String, String, u16, Vec<u64>)> = parse_lines(&output.stdout)
        .iter()
        .map(|row| {
            let mut pids = pids_of(row);
            pids.sort_unstable();
            (
                row["proto"].as_str().unwrap().to_string(),
                row["local_addr"].as_str().unwrap().to_string(),
                row["local_port"].as_u64().unwrap() as u16,
                pids,
            )
        })
        .collect();
    let theirs = ss_rows(&netns);

    for child in &mut children {
        drop(child.stdin.take());
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(ours.len(), 10, "{ours:#?}");
    assert_eq!(ours, theirs);
    let shared = ours.iter().find(|row| row.2 == 7007).unwrap();
    assert_eq!(
        shared.3.len(),
        2,
        "the forked child shares the listener: {shared:?}"
    );
}

const FORK_AND_HOLD: &str = "import os, socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
child = os.fork()
if child == 0:
    sys.stdin.read()
    os._exit(0)
print(s.getsockname()[1], child, flush=True)
sys.stdin.read()
os.kill(child, 15)";

#[test]
fn a_listener_shared_with_a_forked_child_lists_both() {
    let Some(parent) = Python::local(FORK_AND_HOLD) else {
        common::skip(
            "a_listener_shared_with_a_forked_child_lists_both",
            "python3 is not available",
        );
        return;
    };
    let (port, child) = parent.line.split_once(' ').unwrap();
    let child: u64 = child.parse().unwrap();
    let (code, rows) = ports_json(&[port]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let mut expected = vec![u64::from(parent.pid()), child];
    expected.sort_unstable();
    assert_eq!(pids_of(&rows[0]), expected);
    // --pid selects the socket by either holder, and the row still lists both.
    let (_, rows) = ports_json(&["--pid", &child.to_string(), port]);
    assert_eq!(pids_of(&rows[0]), expected);
    drop(parent);
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
}

/// Runs `sockx ports ARGS` with stdout on a pseudo-terminal `cols` wide and returns what it
/// wrote there.
fn ports_on_a_terminal(cols: u16, env: &[(&str, &str)], args: &[&str]) -> String {
    use std::io::Read;
    let size = nix::pty::Winsize {
        ws_row: 40,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).expect("a pseudo-terminal");
    let mut command = StdCommand::new(common::sockx_path());
    command
        .env_clear()
        .envs(env.iter().copied())
        .arg("ports")
        .args(args);
    let mut child = command
        .stdout(Stdio::from(pty.slave))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The parent's copy of the slave went into `command`; drop it so the master sees the end.
    drop(command);
    let mut master = std::fs::File::from(pty.master);
    let mut output = Vec::new();
    let mut chunk = [0u8; 4096];
    // Reading the master fails with EIO once the child has closed the terminal.
    while let Ok(read) = master.read(&mut chunk) {
        if read == 0 {
            break;
        }
        output.extend_from_slice(&chunk[..read]);
    }
    child.wait().unwrap();
    String::from_utf8_lossy(&output).replace('\r', "")
}

/// The table fits the terminal with or without colour, and a terminal that reports no width
/// does not squeeze the columns to nothing.
#[test]
fn the_table_fits_the_terminal_whatever_the_colour() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = port_arg(listener.local_addr().unwrap());
    for env in [&[("NO_COLOR", "1")][..], &[][..]] {
        let table = ports_on_a_terminal(60, env, &[&port]);
        assert!(table.contains('┌'), "{env:?}: {table}");
        for line in table.lines() {
            let visible = line.replace("\x1b[1m", "").replace("\x1b[0m", "");
            assert!(visible.chars().count() <= 60, "{env:?}: {table}");
        }
    }
    let unsized_table = ports_on_a_terminal(0, &[("NO_COLOR", "1")], &[&port]);
    assert!(unsized_table.contains("PROTO"), "{unsized_table}");
    assert!(unsized_table.contains("COMMAND"), "{unsized_table}");
    assert!(unsized_table.contains(&port), "{unsized_table}");
}

/// A TIME_WAIT socket has no owner: no uid, no user (the kernel's uid 0 is not root's), and
/// `--user root` does not claim it.
#[test]
fn a_time_wait_socket_belongs_to_nobody() {
    use std::io::Read;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    let (server, _) = listener.accept().unwrap();
    // The side that closes first ends in TIME_WAIT: here the server side, on `addr`'s port.
    drop(server);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    drop(client);
    let port = port_arg(addr);
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = ports_json(&["-a", "--state", "time-wait", &port]).1;
        if !rows.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let row = rows.first().expect("a TIME_WAIT row");
    assert_eq!(row["state"], "TIME_WAIT", "{row}");
    assert!(row["uid"].is_null(), "{row}");
    assert!(row["user"].is_null(), "{row}");
    assert_eq!(row["processes"], serde_json::json!([]), "{row}");
    let (code, as_root) = ports_json(&["-a", "--state", "time-wait", "--user", "0", &port]);
    assert_eq!(code, 1, "{as_root:?}");
}

/// Binds a listener, forks two workers and closes its own copy (a pre-fork server whose
/// master hands the socket on): only the workers hold it. A worker prints `term PID` when it
/// gets SIGTERM. Prints `PORT WORKER WORKER`.
const WORKERS_ONLY: &str = "import os, signal, socket, sys
def on_term(*_):
    os.write(1, b'term %d\\n' % os.getpid())
    os._exit(0)
signal.signal(signal.SIGTERM, on_term)
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
workers = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        sys.stdin.read()
        os._exit(0)
    workers.append(pid)
port = s.getsockname()[1]
s.close()
signal.signal(signal.SIGTERM, signal.SIG_DFL)
print(port, *workers, flush=True)
sys.stdin.read()
for pid in workers:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass";

/// Every worker holding a listener is listed and signalled, whatever the PIDs (the scan used
/// to stop at the first holder and only look at its children).
#[test]
fn workers_sharing_a_listener_are_all_listed_and_signalled() {
    let Some(mut parent) = Python::local(WORKERS_ONLY) else {
        common::skip(
            "workers_sharing_a_listener_are_all_listed_and_signalled",
            "python3 is not available",
        );
        return;
    };
    let words: Vec<String> = parent.line.split(' ').map(str::to_string).collect();
    let port = words[0].clone();
    let mut workers: Vec<u64> = words[1..].iter().map(|w| w.parse().unwrap()).collect();
    workers.sort_unstable();

    let (code, rows) = ports_json(&[&port]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(pids_of(&rows[0]), workers, "{rows:?}");
    let plain = sockx().args(["ports", &port]).output().unwrap();
    let table = String::from_utf8_lossy(&plain.stdout);
    let expected = format!("{},{}", workers[0], workers[1]);
    assert!(table.contains(&expected), "{table}");

    let output = sockx()
        .args(["ports", &port, "--kill", "--yes"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for worker in &workers {
        assert!(stdout.contains(&format!("(pid {worker})")), "{stdout}");
    }
    assert!(
        !stdout.contains(&format!("(pid {})", parent.pid())),
        "{stdout}"
    );
    let mut signalled: Vec<u64> = (0..2)
        .map(|_| {
            let line = parent.next_line();
            let pid = line.strip_prefix("term ").and_then(|pid| pid.parse().ok());
            pid.unwrap_or_else(|| panic!("a worker's line: {line:?}"))
        })
        .collect();
    signalled.sort_unstable();
    assert_eq!(signalled, workers);
    assert!(parent.still_running());
}

/// Receives one descriptor over the Unix socket `argv[1]` and holds it; prints `ready`
/// once listening and `got` once it has the descriptor.
const RECEIVE_A_SOCKET: &str = "import socket, sys
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen()
print('ready', flush=True)
conn, _ = server.accept()
_, fds, _, _ = socket.recv_fds(conn, 16, 1)
print('got', len(fds), flush=True)
sys.stdin.read()";

/// Binds a listener and passes it with SCM_RIGHTS to the process listening on `argv[1]`,
/// keeping its own copy; prints the port.
const SEND_A_SOCKET: &str = "import socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
socket.send_fds(c, [b'x'], [s.fileno()])
print(s.getsockname()[1], flush=True)
sys.stdin.read()";

/// A listener passed over a Unix socket to an unrelated process started earlier: both are
/// listed, in the JSON too, and `--kill --yes` signals both.
#[test]
fn a_socket_passed_to_another_process_lists_both_holders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pass.sock");
    let path = path.to_str().unwrap();
    let python = || StdCommand::new("python3");
    let Some(mut receiver) = Python::start_with(python(), RECEIVE_A_SOCKET, &[path]) else {
        common::skip(
            "a_socket_passed_to_another_process_lists_both_holders",
            "python3 is not available",
        );
        return;
    };
    let mut sender = Python::start_with(python(), SEND_A_SOCKET, &[path]).unwrap();
    assert_eq!(receiver.next_line(), "got 1");
    let port = sender.line.clone();
    let mut expected = vec![u64::from(receiver.pid()), u64::from(sender.pid())];
    expected.sort_unstable();

    let (code, rows) = ports_json(&[&port]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(pids_of(&rows[0]), expected, "{rows:?}");
    let names: Vec<&str> = rows[0]["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.iter().all(|name| name.starts_with("python")),
        "{names:?}"
    );

    let output = sockx()
        .args(["ports", &port, "--kill", "--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let mut signalled: Vec<u64> = parse_lines(&output.stdout)
        .iter()
        .map(|line| line["pid"].as_u64().unwrap())
        .collect();
    signalled.sort_unstable();
    assert_eq!(signalled, expected);
    use std::os::unix::process::ExitStatusExt;
    for holder in [&mut receiver, &mut sender] {
        let status = holder.child.wait().unwrap();
        assert_eq!(status.signal(), Some(nix::libc::SIGTERM));
    }
}

/// Without a terminal nobody can answer y/N: `--kill` without `--yes` refuses (exit 2, hint
/// `--yes`) and signals nothing.
#[test]
fn kill_without_a_terminal_needs_yes() {
    let Some(mut target) = Python::local(HOLD_ONE_PORT) else {
        common::skip(
            "kill_without_a_terminal_needs_yes",
            "python3 is not available",
        );
        return;
    };
    let output = sockx()
        .args(["ports", &target.line, "--kill"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("sockx: error: "), "{stderr}");
    assert!(
        stderr.contains("hint:") && stderr.contains("--yes"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    assert!(target.still_running());
}

/// The host PID of the only child of `pid`.
fn only_child(pid: u32) -> Option<u32> {
    for _ in 0..100 {
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
        if let Some(child) = children
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse().ok())
        {
            return Some(child);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}

/// PID 1 (here: a python3 that is PID 1 of its own PID namespace) is never signalled: the
/// error says why and what to do instead.
#[test]
fn kill_never_signals_pid_1() {
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(reason) => {
            common::skip("kill_never_signals_pid_1", &reason);
            return;
        }
    };
    let mut unshare = netns.command("unshare");
    unshare.args(["--pid", "--fork", "--mount-proc", "python3"]);
    let Some(mut init) = Python::start(unshare, HOLD_ONE_PORT) else {
        common::skip(
            "kill_never_signals_pid_1",
            "unshare --pid or python3 failed",
        );
        return;
    };
    let python = only_child(init.pid()).expect("python3 under unshare");
    let output = StdCommand::new("nsenter")
        .args(["-t", &python.to_string(), "-p", "-m", "-n", "--"])
        .arg(common::sockx_path())
        .args(["ports", &init.line, "--kill", "--yes"])
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pid 1"), "{stderr}");
    assert!(
        stderr.contains("hint:") && stderr.contains("socket activation"),
        "{stderr}"
    );
    assert!(stderr.contains("stop the unit"), "{stderr}");
    assert!(output.stdout.is_empty(), "{output:?}");
    assert!(init.still_running());
    assert!(std::path::Path::new(&format!("/proc/{python}")).exists());
}

/// Runs `sockx ARGS` on a pseudo-terminal (stdin, stdout and stderr, its controlling terminal)
/// through python3's `pty` module; once it has printed `wait_for`, types `keys`. Returns what
/// the terminal showed and the exit status (negative: killed by that signal), or `None`
/// without python3.
fn on_a_pty(args: &[&str], wait_for: &str, keys: &[u8]) -> Option<(String, i32)> {
    const DRIVER: &str = r#"import os, pty, select, sys, time
wait_for, keys = sys.argv[1].encode(), bytes.fromhex(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
out, typed, deadline = b'', False, time.time() + 60
while time.time() < deadline:
    if not typed and wait_for in out:
        os.write(fd, keys)
        typed = True
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
print('\nSTATUS', os.waitstatus_to_exitcode(status))"#;
    let hex: String = keys.iter().map(|k| format!("{k:02x}")).collect();
    let output = StdCommand::new("python3")
        .args(["-c", DRIVER, wait_for, &hex])
        .arg(common::sockx_path())
        .args(args)
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).replace('\r', "");
    let (shown, status) = text.rsplit_once("\nSTATUS ")?;
    Some((shown.to_string(), status.trim().parse().ok()?))
}

/// Ctrl-C at the y/N prompt exits 130 (not death by SIGINT) and signals nothing; the prompt
/// shows a process name with control characters escaped.
#[test]
fn ctrl_c_at_the_kill_prompt_exits_130() {
    let Some(mut target) = Python::local(EVIL_NAME) else {
        common::skip(
            "ctrl_c_at_the_kill_prompt_exits_130",
            "python3 is not available",
        );
        return;
    };
    let port = target.line.clone();
    let Some((shown, status)) = on_a_pty(&["ports", &port, "--kill"], "[y/N]", b"\x03") else {
        common::skip("ctrl_c_at_the_kill_prompt_exits_130", "python3 pty failed");
        return;
    };
    assert_eq!(status, 130, "{shown}");
    assert!(
        shown.contains("send SIGTERM to 1 process? [y/N]"),
        "{shown}"
    );
    assert!(shown.contains(ESCAPED_NAME), "{shown}");
    assert!(!shown.contains('\x1b'), "{shown:?}");
    assert!(target.still_running());
    // And "n" answers no: exit 1, nothing signalled.
    let (shown, status) = on_a_pty(&["ports", &port, "--kill"], "[y/N]", b"n\n").unwrap();
    assert_eq!(status, 1, "{shown}");
    assert!(target.still_running());
}

/// Sets its own name (as `ps` and /proc show it) to one with a newline and an escape
/// sequence, and holds a listener; its command line carries a BEL and an ESC too.
const EVIL_NAME: &str = "import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, b'ev\\nil\\x1b[31m', 0, 0, 0)
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()";

/// How [`EVIL_NAME`]'s name must be shown.
const ESCAPED_NAME: &str = r"ev\nil\e[31m";

/// Process names and command lines reach the terminal escaped: in the table, the `--kill`
/// lines and the "held by" hint of `sockx listen`; JSON has them as they are.
#[test]
fn control_characters_in_process_names_are_escaped() {
    // The argument shows in the command line.
    let argument = "bell\x07esc\x1b[2J";
    let python = StdCommand::new("python3");
    let Some(mut target) = Python::start_with(python, EVIL_NAME, &[argument]) else {
        common::skip(
            "control_characters_in_process_names_are_escaped",
            "python3 is not available",
        );
        return;
    };
    let port = target.line.clone();

    let (_, rows) = ports_json(&[&port]);
    assert_eq!(
        rows[0]["processes"][0]["name"], "ev\nil\x1b[31m",
        "{rows:?}"
    );

    let plain = sockx().args(["ports", &port]).output().unwrap();
    let table = String::from_utf8_lossy(&plain.stdout);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(table.contains(ESCAPED_NAME), "{table}");
    assert!(table.contains(r"bell\x07esc\e[2J"), "{table}");
    assert!(!table.contains(['\x1b', '\x07']), "{table:?}");

    let terminal = ports_on_a_terminal(200, &[("NO_COLOR", "1")], &[&port]);
    assert!(terminal.contains(ESCAPED_NAME), "{terminal}");
    assert!(!terminal.contains(['\x1b', '\x07']), "{terminal:?}");

    let listen = sockx()
        .args(["listen", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&listen.stderr);
    assert_eq!(listen.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(
        stderr.contains(&format!("held by {ESCAPED_NAME} (pid {}", target.pid())),
        "{stderr}"
    );

    let kill = sockx()
        .args(["ports", &port, "--kill", "--yes"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&kill.stdout);
    assert_eq!(kill.status.code(), Some(0), "{kill:?}");
    assert_eq!(
        stdout.trim_end(),
        format!("sent SIGTERM to {ESCAPED_NAME} (pid {})", target.pid())
    );
    target.child.wait().unwrap();
}

/// `ports -a` on an 80-column terminal: COMMAND and PROCESS give way, the addresses, ports
/// and states stay whole and the headers are not wrapped.
#[test]
fn a_narrow_terminal_keeps_addresses_and_states_whole() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = TcpStream::connect(addr).unwrap();
    let (_server, _) = listener.accept().unwrap();
    let peer = client.local_addr().unwrap();
    let port = port_arg(addr);
    let table = ports_on_a_terminal(80, &[("NO_COLOR", "1")], &["-a", "-t", &port]);
    for line in table.lines() {
        assert!(line.chars().count() <= 80, "{table}");
    }
    let header = table.lines().nth(1).unwrap();
    for column in ["PROTO", "LOCAL", "PORT", "STATE", "REMOTE", "PID"] {
        assert!(header.contains(column), "{table}");
    }
    assert!(!table.contains("127.0.…"), "{table}");
    assert!(table.contains("ESTABLISHED"), "{table}");
    assert!(table.contains(&format!("┆ {peer} ┆")), "{table}");
    assert!(
        table.contains(&format!("┆ {} ┆ {} ┆", addr.ip(), addr.port())),
        "{table}"
    );
    drop(client);
}

/// `--color always` colours a pipe too (the header is bold).
#[test]
fn color_always_colours_a_pipe() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = port_arg(listener.local_addr().unwrap());
    let output = sockx()
        .args(["--color", "always", "ports", &port])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("\x1b[1mPROTO"), "{stdout:?}");
    let never = sockx()
        .args(["--color", "never", "ports", &port])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&never.stdout).contains('\x1b'));
}

/// A server and a client process (forked): the client opens 5 connections from 127.0.0.2 and
/// 3 from 127.0.0.3 to the server's listener, which accepts them all. Prints `PORT SERVER
/// CLIENT` (PIDs) once every connection is accepted.
const CONNECTIONS: &str = "import os, socket, sys
def in_use(port):
    # Any other socket on this port (a TIME_WAIT left by an earlier test, which has no owner)
    # would be one more row in the counts below.
    for name in ('/proc/net/tcp', '/proc/net/tcp6'):
        for line in open(name).readlines()[1:]:
            local, remote = line.split()[1:3]
            if port in (int(local.split(':')[1], 16), int(remote.split(':')[1], 16)):
                return True
    return False
while True:
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    port = server.getsockname()[1]
    if not in_use(port):
        break
    server.close()
server.listen(16)
client = os.fork()
if client == 0:
    server.close()
    held = []
    for source, count in (('127.0.0.2', 5), ('127.0.0.3', 3)):
        for _ in range(count):
            c = socket.socket()
            c.bind((source, 0))
            c.connect(('127.0.0.1', port))
            held.append(c)
    sys.stdin.read()
    os._exit(0)
accepted = [server.accept()[0] for _ in range(8)]
print(port, os.getpid(), client, flush=True)
sys.stdin.read()";

/// (count, key) pairs of `sockx ports ARGS --json`, in order; the key's fields joined by `/`.
fn counted(args: &[&str], key: &[&str]) -> (i32, Vec<(u64, String)>) {
    let (code, rows) = ports_json(args);
    let groups = rows
        .iter()
        .map(|row| {
            let mut fields: Vec<String> = key.iter().map(|field| row[*field].to_string()).collect();
            fields.retain(|field| !field.is_empty());
            assert_eq!(
                common::json_keys(row).len(),
                key.len() + 1,
                "exactly count and {key:?}: {row}"
            );
            (
                row["count"].as_u64().unwrap(),
                fields.join("/").replace('"', ""),
            )
        })
        .collect();
    (code, groups)
}

/// `--by remote` and `--by process` count exactly the connections the fixture opened, largest
/// first, with the other filters applied first.
#[test]
fn counts_by_remote_process_port_and_state_equal_what_was_opened() {
    let Some(fixture) = Python::local(CONNECTIONS) else {
        common::skip(
            "counts_by_remote_process_port_and_state_equal_what_was_opened",
            "python3 is not available",
        );
        return;
    };
    let words: Vec<&str> = fixture.line.split(' ').collect();
    let (port, server, client) = (words[0], words[1], words[2]);

    let (code, groups) = counted(&["-a", "--by", "remote", port], &["remote_addr"]);
    assert_eq!(code, 0);
    assert_eq!(groups, [(5, "127.0.0.2".into()), (3, "127.0.0.3".into())]);
    // --by remote implies --all: the same without -a.
    assert_eq!(
        counted(&["--by", "remote", port], &["remote_addr"]).1,
        groups
    );

    let (_, groups) = counted(&["-a", "--by", "process", port], &["pid", "name"]);
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].0, 9, "8 accepted and the listener: {groups:?}");
    assert!(
        groups[0].1.starts_with(&format!("{server}/python")),
        "{groups:?}"
    );

    // The other filters first: the client's ends, by their remote port.
    let (_, groups) = counted(&["--by", "process", "-r", port], &["pid", "name"]);
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].0, 8, "{groups:?}");
    assert!(groups[0].1.starts_with(&format!("{client}/")), "{groups:?}");

    let (_, groups) = counted(&["-a", "--by", "state", port], &["state"]);
    assert_eq!(groups, [(8, "ESTABLISHED".into()), (1, "LISTEN".into())]);
    let (_, groups) = counted(&["-a", "--by", "port", port], &["local_port"]);
    assert_eq!(groups, [(9, port.to_string())]);

    // Nothing matched: exit 1, nothing printed.
    let (code, groups) = counted(
        &["--by", "remote", "-r", "127.0.0.9", port],
        &["remote_addr"],
    );
    assert_eq!((code, groups.len()), (1, 0));

    let table = sockx()
        .args(["ports", "-a", "--by", "remote", port])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            vec!["COUNT", "REMOTE"],
            vec!["5", "127.0.0.2"],
            vec!["3", "127.0.0.3"]
        ]
    );
}

/// `-r` matches the remote end by port, address, address and port, or block, and implies
/// `--all`; a bad value is exit 2.
#[test]
fn remote_filters_select_connections_by_their_peer() {
    let Some(fixture) = Python::local(CONNECTIONS) else {
        common::skip(
            "remote_filters_select_connections_by_their_peer",
            "python3 is not available",
        );
        return;
    };
    let words: Vec<&str> = fixture.line.split(' ').collect();
    let (port, client) = (words[0], words[2]);
    let count = |args: &[&str]| {
        let (code, rows) = ports_json(args);
        for row in &rows {
            assert_eq!(row["state"], "ESTABLISHED", "{row}");
        }
        (code, rows.len())
    };
    // The server's ends, on `port`, by their peers.
    assert_eq!(count(&["-r", "127.0.0.2", port]), (0, 5));
    assert_eq!(count(&["-r", "127.0.0.0/30", port]), (0, 8));
    assert_eq!(count(&["-r", "127.0.0.3", "-r", "127.0.0.2", port]), (0, 8));
    assert_eq!(count(&["-r", "::ffff:127.0.0.3", port]), (0, 3));
    assert_eq!(count(&["-r", "10.0.0.0/8", port]), (1, 0));
    // The client's ends, by the server's address and port.
    let server = format!("127.0.0.1:{port}");
    let (code, rows) = ports_json(&["-r", &server]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 8, "{rows:?}");
    for row in &rows {
        assert_eq!(pids_of(row), vec![client.parse::<u64>().unwrap()], "{row}");
        assert_eq!(row["remote_port"].to_string(), port);
    }
    assert_eq!(count(&["-r", port, "--pid", client]), (0, 8));

    for bad in [
        "256.1.1.1",
        "1.2.3.4.5",
        "127.0.0.1:0",
        "10.0.0.0/33",
        "nosuchservice",
    ] {
        let output = sockx().args(["ports", "-r", bad]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("sockx: error: "), "{stderr}");
    }
}

/// A listener whose only reference is a descriptor in flight over a Unix socket: no process
/// holds it, which is what a socket of another PID namespace (a container's host) looks like.
const HOLD_A_PORT_IN_FLIGHT: &str = "import socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
port = s.getsockname()[1]
a, b = socket.socketpair()
socket.send_fds(a, [b'x'], [s.fileno()])
s.close()
print(port, flush=True)
sys.stdin.read()";

/// Even for root, a socket that no visible process holds is said on stderr (how many and
/// why), as the contract asks of every owner left unknown; it said nothing.
#[test]
fn a_socket_nobody_visible_holds_is_said_on_stderr() {
    let Some(holder) = Python::local(HOLD_A_PORT_IN_FLIGHT) else {
        common::skip(
            "a_socket_nobody_visible_holds_is_said_on_stderr",
            "python3 is not available",
        );
        return;
    };
    let output = sockx()
        .args(["ports", "-t", &holder.line])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains(&holder.line), "{stdout}");
    assert!(
        stderr.contains("1 socket has no known owner"),
        "nothing said about the unknown owner: {stderr:?}"
    );
    let quiet = sockx()
        .args(["ports", "-q", "-t", &holder.line])
        .output()
        .unwrap();
    assert!(quiet.stderr.is_empty(), "{quiet:?}");
}
