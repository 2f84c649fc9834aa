//! `sockx ports -x`: Unix-domain sockets held by real peers (socat, `nc -U`, python3) on paths
//! in each test's own temporary directory (or abstract names carrying the test's PID), looked
//! up through the real binary.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use common::relay::assert_one_error_line;
use common::{json_keys, sockx};
use serde_json::Value;

/// A child we started, killed (by its PID) and reaped when dropped.
struct Peer {
    child: Child,
}

impl Peer {
    /// Starts `program ARGS` with stdin held open by us; `None` when the program is missing.
    fn start(program: &str, args: &[&str]) -> Option<Peer> {
        let child = StdCommand::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Some(Peer { child })
    }

    fn pid(&self) -> u64 {
        u64::from(self.child.id())
    }

    /// Waits (up to 20 s) for the child to end.
    fn ended(&mut self) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A python3 child that prints one line once its sockets are ready.
fn python(script: &str, args: &[&str]) -> Option<(Peer, String)> {
    let mut child = StdCommand::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let peer = Peer { child };
    (!line.is_empty()).then(|| (peer, line.trim().to_string()))
}

fn tools_or_skip(test: &str, tools: &[&str]) -> bool {
    for tool in tools {
        let found = StdCommand::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            common::skip(test, &format!("{tool} is not installed"));
            return false;
        }
    }
    true
}

/// `sockx ports ARGS --json`: the exit code and the objects.
fn ports_json(args: &[&str]) -> (i32, Vec<Value>) {
    let output = sockx()
        .arg("ports")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let rows = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (output.status.code().unwrap_or(-1), rows)
}

/// Lists `ARGS` until `ready` holds for the rows (the peer has bound, listened or connected),
/// for up to 20 s; then returns them.
fn rows_once(args: &[&str], ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, rows) = ports_json(args);
        if ready(&rows) || Instant::now() > deadline {
            assert!(
                ready(&rows),
                "never ready: sockx ports {args:?} gave {rows:?}"
            );
            return rows;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn pids_of(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|process| process["pid"].as_u64().unwrap())
        .collect()
}

fn names_of(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|process| process["name"].as_str().unwrap().to_string())
        .collect()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A socat listener on `path`, serving each client with `cat`, once it listens.
fn socat_listener(path: &Path) -> Peer {
    let listen = format!("UNIX-LISTEN:{},fork", path.display());
    let peer = Peer::start("socat", &[&listen, "EXEC:cat"]).unwrap();
    rows_once(&[path_arg(path)], |rows| rows.len() == 1);
    peer
}

#[test]
fn a_listener_is_found_by_its_path_with_its_holder() {
    if !tools_or_skip(
        "a_listener_is_found_by_its_path_with_its_holder",
        &["socat"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let socat = socat_listener(&path);

    let (code, rows) = ports_json(&[path_arg(&path)]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["proto"], "unix");
    assert_eq!(row["path"], path_arg(&path));
    assert_eq!(row["state"], "LISTEN");
    assert_eq!(pids_of(&row["processes"]), vec![socat.pid()]);
    assert_eq!(row["peer_inode"], Value::Null);
    assert_eq!(row["local_port"], Value::Null);
    assert_eq!(row["exposed"], false);
    assert!(row["inode"].as_u64().unwrap() > 0);
    // The keys of every ports row (null where a Unix socket has no address), and the Unix ones.
    let keys: BTreeSet<&str> = [
        "proto",
        "local_addr",
        "local_port",
        "remote_addr",
        "remote_port",
        "exposed",
        "path",
        "state",
        "inode",
        "peer_inode",
        "uid",
        "user",
        "processes",
        "peer_processes",
    ]
    .into();
    assert_eq!(json_keys(row), keys);
    assert_eq!(
        json_keys(&row["processes"][0]),
        ["cmd", "name", "pid"].into()
    );

    // The same socket through `unix:PATH`, through `-x` alone, and by a relative path from
    // its directory (matched by the socket file, not by the text).
    let (_, by_scheme) = ports_json(&[&format!("unix:{}", path.display())]);
    assert_eq!(by_scheme, rows);
    let (_, everything) = ports_json(&["-x"]);
    assert!(everything.contains(row), "{everything:?}");
    let relative = sockx()
        .current_dir(dir.path())
        .args(["ports", "./app.sock", "--json"])
        .output()
        .unwrap();
    assert_eq!(relative.status.code(), Some(0), "{relative:?}");
    let relative: Value = serde_json::from_slice(&relative.stdout).unwrap();
    assert_eq!(relative["inode"], row["inode"]);

    // A table on a pipe with the contract's columns.
    let table = sockx().args(["ports", path_arg(&path)]).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["PROTO", "PATH", "PID", "PROCESS", "USER", "COMMAND"]
    );
    let cells: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        cells[..4],
        ["unix", path_arg(&path), &socat.pid().to_string(), "socat"]
    );
}

#[test]
fn an_abstract_listener_is_found_by_its_name() {
    if !tools_or_skip("an_abstract_listener_is_found_by_its_name", &["socat"]) {
        return;
    }
    let name = format!("sockx-test-{}-abstract", std::process::id());
    let socat = Peer::start(
        "socat",
        &[&format!("ABSTRACT-LISTEN:{name},fork"), "EXEC:cat"],
    )
    .unwrap();
    let at = format!("@{name}");
    let rows = rows_once(&[&at], |rows| rows.len() == 1);
    assert_eq!(rows[0]["path"], at);
    assert_eq!(rows[0]["proto"], "unix");
    assert_eq!(pids_of(&rows[0]["processes"]), vec![socat.pid()]);
    let (_, by_scheme) = ports_json(&[&format!("unix:@{name}")]);
    assert_eq!(by_scheme, rows);
}

#[test]
fn a_bound_datagram_socket_is_unix_dgram() {
    if !tools_or_skip("a_bound_datagram_socket_is_unix_dgram", &["socat"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dgram.sock");
    let socat = Peer::start(
        "socat",
        &["-u", &format!("UNIX-RECV:{}", path.display()), "-"],
    )
    .unwrap();
    let rows = rows_once(&[path_arg(&path)], |rows| rows.len() == 1);
    assert_eq!(rows[0]["proto"], "unix-dgram");
    assert_eq!(rows[0]["state"], "UNCONN");
    assert_eq!(pids_of(&rows[0]["processes"]), vec![socat.pid()]);
    // `--state listen` covers a bound datagram socket, as `ss -l` has it.
    let (code, listening) = ports_json(&[path_arg(&path), "--state", "listen"]);
    assert_eq!(code, 0);
    assert_eq!(listening.len(), 1, "{listening:?}");
    let (code, none) = ports_json(&[path_arg(&path), "--state", "established"]);
    assert_eq!((code, none.len()), (1, 0));
}

/// A SOCK_SEQPACKET listener on `argv[1]`.
const SEQPACKET_LISTENER: &str = "import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen()
print('ready', flush=True)
sys.stdin.read()";

#[test]
fn a_seqpacket_listener_is_unix_seq() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seq.sock");
    let Some((python, _)) = python(SEQPACKET_LISTENER, &[path_arg(&path)]) else {
        common::skip(
            "a_seqpacket_listener_is_unix_seq",
            "python3 is not available",
        );
        return;
    };
    let (code, rows) = ports_json(&[path_arg(&path)]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["proto"], "unix-seq");
    assert_eq!(rows[0]["state"], "LISTEN");
    assert_eq!(pids_of(&rows[0]["processes"]), vec![python.pid()]);
}

#[test]
fn with_all_a_connection_shows_the_process_on_the_other_end() {
    if !tools_or_skip(
        "with_all_a_connection_shows_the_process_on_the_other_end",
        &["socat", "nc"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("served.sock");
    let socat = socat_listener(&path);
    let nc = Peer::start("nc", &["-U", path_arg(&path)]).unwrap();
    let nc_pid = nc.pid();

    // The listener, the end socat accepted (named after its listener) and nc's end, once
    // socat has accepted (its end is held) and its parent has let go of its copy.
    let rows = rows_once(&["-a", path_arg(&path)], |rows| {
        rows.iter()
            .any(|row| pids_of(&row["processes"]) == vec![nc_pid])
            && rows.iter().any(|row| {
                pids_of(&row["peer_processes"]) == vec![nc_pid]
                    && pids_of(&row["processes"]).len() == 1
            })
    });
    assert_eq!(rows.len(), 3, "{rows:?}");
    let listener = &rows[0];
    assert_eq!(listener["state"], "LISTEN");
    assert_eq!(pids_of(&listener["processes"]), vec![socat.pid()]);
    assert_eq!(listener["peer_processes"], serde_json::json!([]));
    let accepted = rows
        .iter()
        .find(|row| pids_of(&row["peer_processes"]) == vec![nc_pid])
        .unwrap();
    let client = rows
        .iter()
        .find(|row| pids_of(&row["processes"]) == vec![nc_pid])
        .unwrap();
    assert_eq!(accepted["state"], "ESTABLISHED");
    assert_eq!(accepted["path"], path_arg(&path));
    assert_eq!(
        names_of(&accepted["processes"]),
        ["socat".to_string()].into()
    );
    assert_eq!(client["path"], Value::Null);
    assert_eq!(client["state"], "ESTABLISHED");
    assert_eq!(client["peer_inode"], accepted["inode"]);
    assert_eq!(accepted["peer_inode"], client["inode"]);
    assert_eq!(
        pids_of(&client["peer_processes"]),
        pids_of(&accepted["processes"])
    );
    for row in &rows {
        assert_eq!(json_keys(row), json_keys(listener));
    }

    // Without -a only the listener; by PID, nc's end alone.
    let (_, listening) = ports_json(&[path_arg(&path)]);
    assert_eq!(listening, vec![listener.clone()]);
    let (code, mine) = ports_json(&["-x", "-a", "--pid", &nc_pid.to_string()]);
    assert_eq!(code, 0);
    assert_eq!(mine, vec![client.clone()]);

    // The table: STATE and PEER, the peer as `name (pid)`.
    let table = sockx()
        .args(["ports", "-a", path_arg(&path)])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "PROTO", "PATH", "STATE", "PEER", "PID", "PROCESS", "USER", "COMMAND"
        ]
    );
    assert!(table.contains(&format!("nc ({nc_pid})")), "{table}");

    // Counting by process and by state.
    let (_, by_state) = ports_json(&["-a", path_arg(&path), "--by", "state"]);
    assert!(
        by_state.contains(&serde_json::json!({"count": 2, "state": "ESTABLISHED"})),
        "{by_state:?}"
    );
    assert!(
        by_state.contains(&serde_json::json!({"count": 1, "state": "LISTEN"})),
        "{by_state:?}"
    );
    let (_, by_process) = ports_json(&["-a", path_arg(&path), "--by", "process"]);
    assert!(
        by_process.contains(&serde_json::json!({"count": 1, "pid": nc_pid, "name": "nc"})),
        "{by_process:?}"
    );
}

/// A listener on `argv[1]` shared by this process and a forked child; prints both PIDs.
const FORKED_LISTENER: &str = "import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
pid = os.fork()
if pid == 0:
    sys.stdin.read()
    os._exit(0)
print(os.getpid(), pid, flush=True)
sys.stdin.read()
os.kill(pid, 15)";

/// The PIDs `ss -xlp` names for the socket at `path`.
fn ss_pids(path: &Path) -> Option<Vec<u64>> {
    let output = StdCommand::new("ss").args(["-xlpn"]).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|line| line.split_whitespace().any(|word| word == path_arg(path)))?;
    let mut pids: Vec<u64> = line
        .split("pid=")
        .skip(1)
        .filter_map(|rest| rest.split([',', ')']).next()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    Some(pids)
}

#[test]
fn a_listener_shared_by_a_forked_child_lists_both_as_ss_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("forked.sock");
    let Some((_parent, line)) = python(FORKED_LISTENER, &[path_arg(&path)]) else {
        common::skip(
            "a_listener_shared_by_a_forked_child_lists_both_as_ss_does",
            "python3 is not available",
        );
        return;
    };
    let mut both: Vec<u64> = line.split(' ').map(|pid| pid.parse().unwrap()).collect();
    both.sort_unstable();
    let (code, rows) = ports_json(&[path_arg(&path)]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(pids_of(&rows[0]["processes"]), both);
    match ss_pids(&path) {
        Some(ss) => assert_eq!(ss, both),
        None => common::skip(
            "a_listener_shared_by_a_forked_child_lists_both_as_ss_does",
            "ss is not available",
        ),
    }
    let table = sockx().args(["ports", path_arg(&path)]).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains(&format!("{},{}", both[0], both[1])),
        "{table}"
    );
}

#[test]
fn kill_signals_the_holder_of_a_socket_path() {
    if !tools_or_skip("kill_signals_the_holder_of_a_socket_path", &["socat"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doomed.sock");
    let other = dir.path().join("spared.sock");
    let mut target = socat_listener(&path);
    let mut bystander = socat_listener(&other);
    let output = sockx()
        .args(["ports", path_arg(&path), "--kill", "--yes"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.trim(),
        format!("sent SIGTERM to socat (pid {})", target.pid())
    );
    assert!(target.ended().is_some(), "socat did not end");
    assert!(bystander.child.try_wait().unwrap().is_none());
}

#[test]
fn nothing_at_the_path_exits_one_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("nobody.sock");
    let output = sockx().args(["ports", path_arg(&path)]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty());
    assert!(output.stderr.is_empty(), "{output:?}");
    let output = sockx()
        .args([
            "ports",
            "-a",
            &format!("@sockx-test-{}-nobody", std::process::id()),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
}

#[test]
fn flags_for_ip_sockets_are_refused_with_unix_sockets() {
    for args in [
        &["-x", "-t"][..],
        &["-x", "-u"],
        &["-x", "-4"],
        &["-6", "/run/x.sock"],
        &["-x", "--exposed"],
        &["-x", "-r", "5432"],
        &["-x", "--by", "remote"],
        &["@name", "--by", "port"],
        &["/run/x.sock", "8080"],
        &["unix:"],
        &["unix:@"],
        &["@"],
        &["-x", "-i"],
        &["-x", "--watch", "--interval", "1ms"],
    ] {
        let output = sockx().arg("ports").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert_one_error_line(&String::from_utf8_lossy(&output.stderr));
    }
}
