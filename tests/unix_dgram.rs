//! Unix datagram sockets: `listen -u unix:…` and `connect -u unix:…` against socat
//! (UNIX-SENDTO, UNIX-RECVFROM) and python3's `socket.AF_UNIX, SOCK_DGRAM`: bytes exact,
//! datagram boundaries kept, the socket file removed on every way out.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::live::{Live, PATIENCE};
use common::relay::{Peer, Running, has_tool, sockx_command};

fn needs(test: &str, tools: &[&str]) -> bool {
    for tool in tools {
        if !has_tool(tool) {
            common::skip(test, &format!("{tool} is not installed"));
            return false;
        }
    }
    true
}

/// Runs a python3 script with these arguments (a peer nobody here wrote the socket code of).
fn python(script: &str, args: &[&str]) -> Command {
    let mut command = Command::new("python3");
    command.arg("-c").arg(script).args(args);
    command
}

fn wait_for(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt(live: &Live) {
    let pid = nix::unistd::Pid::from_raw(live.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT is sent");
}

fn finish(mut live: Live) -> std::process::ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = live.child.try_wait().expect("wait works") {
            return status;
        }
        assert!(Instant::now() < deadline, "sockx did not end");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sends each line of stdin (hex) as one datagram to argv[1] from a socket bound to argv[2],
/// and checks that each comes back whole and unchanged; prints `ok`.
const ECHO_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
s.settimeout(20)
for piece in sys.stdin.read().split():
    data = bytes.fromhex(piece)
    s.sendto(data, sys.argv[1])
    back = s.recv(1 << 20)
    assert back == data, (len(back), len(data))
print("ok")
"#;

#[test]
fn listen_echo_answers_each_datagram_whole_and_exact() {
    if !needs(
        "listen_echo_answers_each_datagram_whole_and_exact",
        &["python3"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("echo.sock");
    let client = dir.path().join("client.sock");
    let live = Live::start(&["-u", "--echo", &format!("unix:{}", server.display())]);
    assert_eq!(live.addr, format!("unix:{}", server.display()));
    let binary: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let pieces = [
        hex(b"a"),
        hex(&[0, 0, 0xff, b'\n', b'\r']),
        hex(&binary[..9000]),
        // Larger than any UDP datagram: a Unix datagram is received whole all the same.
        hex(&binary),
    ];
    let mut echo_client = python(
        ECHO_CLIENT,
        &[&server.display().to_string(), &client.display().to_string()],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut input = echo_client.stdin.take().unwrap();
    input.write_all(pieces.join("\n").as_bytes()).unwrap();
    drop(input);
    let output = echo_client.wait_with_output().unwrap();
    assert_eq!(
        text(&output),
        "ok\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    interrupt(&live);
    assert_eq!(finish(live).code(), Some(130));
    assert!(!server.exists(), "the socket file was left behind");
}

/// Binds argv[2], sends argv[3] to argv[1], prints the reply.
const ASKING_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
s.settimeout(20)
s.sendto(sys.argv[3].encode(), sys.argv[1])
sys.stdout.write(s.recv(65536).decode())
"#;

#[test]
fn listen_prints_datagrams_and_sends_stdin_to_the_latest_peer() {
    if !needs(
        "listen_prints_datagrams_and_sends_stdin_to_the_latest_peer",
        &["python3", "socat"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("d.sock");
    let mut live = Live::start(&["-u", "-v", &server.display().to_string()]);
    // socat first: a bound sender whose datagram goes to stdout.
    let sent = Command::new("socat")
        .arg("-u")
        .arg("-")
        .arg(format!(
            "UNIX-SENDTO:{},bind={}",
            server.display(),
            dir.path().join("socat.sock").display()
        ))
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"from socat\n")?;
            child.wait()
        })
        .unwrap();
    assert!(sent.success());
    live.wait_stdout(|out| out == b"from socat\n");
    // Then python: the most recent peer, which gets stdin.
    let asking = python(
        ASKING_CLIENT,
        &[
            &server.display().to_string(),
            &dir.path().join("py.sock").display().to_string(),
            "question\n",
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    live.wait_stdout(|out| out == b"from socat\nquestion\n");
    let mut stdin = live.stdin.take().unwrap();
    stdin.write_all(b"answer\n").unwrap();
    stdin.flush().unwrap();
    let answered = asking.wait_with_output().unwrap();
    assert_eq!(text(&answered), "answer\n");
    let log = live.wait_stderr(|log| log.matches("(new peer)").count() == 2);
    assert!(log.starts_with(&format!(
        "listening on unix:{} (unix-dgram)\n",
        server.display()
    )));
    assert!(log.contains(&format!(
        "datagram from unix:{}",
        dir.path().join("py.sock").display()
    )));
    drop(stdin);
    interrupt(&live);
    assert_eq!(finish(live).code(), Some(130));
    assert!(!server.exists());
}

#[test]
fn an_unbound_sender_is_heard_and_said_once_that_it_cannot_be_answered() {
    if !needs(
        "an_unbound_sender_is_heard_and_said_once_that_it_cannot_be_answered",
        &["socat"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("d.sock");
    let live = Live::start(&[
        "-u",
        "-v",
        "-w",
        "30s",
        &format!("unix:{}", server.display()),
    ]);
    for message in ["one\n", "two\n"] {
        let mut socat = Command::new("socat")
            .arg("-u")
            .arg("-")
            .arg(format!("UNIX-SENDTO:{}", server.display()))
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        socat
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        assert!(socat.wait().unwrap().success());
    }
    live.wait_stdout(|out| out == b"one\ntwo\n");
    let log = live.wait_stderr(|log| log.contains("cannot be answered"));
    assert_eq!(log.matches("cannot be answered").count(), 1, "{log}");
    interrupt(&live);
    assert_eq!(finish(live).code(), Some(130));
    assert!(!server.exists());
}

#[test]
fn the_idle_timeout_ends_it_and_removes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("idle.sock");
    let live = Live::start(&["-u", "-w", "200ms", &format!("unix:{}", server.display())]);
    assert!(server.exists());
    assert_eq!(finish(live).code(), Some(0));
    assert!(!server.exists());
}

#[test]
fn a_stale_file_is_replaced_with_the_mode_and_a_live_one_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    // Bound, then dropped: the file stays with nobody on it.
    drop(std::os::unix::net::UnixDatagram::bind(&path).unwrap());
    let live = Live::start(&[
        "-u",
        "--unix-mode",
        "600",
        &format!("unix:{}", path.display()),
    ]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o600);
    // While it serves, a second listener is refused and the file stays.
    let refused = sockx_command(&["listen", "-u", &path.display().to_string()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("address already in use"), "{stderr}");
    assert!(path.exists(), "the live socket's file was removed");
    interrupt(&live);
    assert_eq!(finish(live).code(), Some(130));
    assert!(!path.exists());
}

/// Sends argv[2] to the abstract name argv[1] from an abstract name of its own, prints the
/// reply.
const ABSTRACT_CLIENT: &str = r#"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0sockx-test-client-%d" % os.getpid())
s.settimeout(20)
s.sendto(sys.argv[2].encode(), "\0" + sys.argv[1])
sys.stdout.write(s.recv(65536).decode())
"#;

#[test]
fn an_abstract_name_is_served_and_answered() {
    if !needs("an_abstract_name_is_served_and_answered", &["python3"]) {
        return;
    }
    let name = format!("sockx-test-dgram-{}", std::process::id());
    let live = Live::start(&["-u", "--echo", &format!("unix:@{name}")]);
    assert_eq!(live.addr, format!("unix:@{name}"));
    let output = python(ABSTRACT_CLIENT, &[&name, "ping"]).output().unwrap();
    assert_eq!(text(&output), "ping");
    interrupt(&live);
    assert_eq!(finish(live).code(), Some(130));
}

/// A server on argv[1]: for each of argv[2] datagrams, records its hex on stdout and answers
/// `got N` to its sender.
const RECORDING_SERVER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
s.settimeout(30)
for _ in range(int(sys.argv[2])):
    data, sender = s.recvfrom(1 << 20)
    print(data.hex(), flush=True)
    s.sendto(b"got %d;" % len(data), sender)
"#;

#[test]
fn connect_sends_each_piece_as_one_datagram_and_prints_the_replies() {
    if !needs(
        "connect_sends_each_piece_as_one_datagram_and_prints_the_replies",
        &["python3"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sock");
    let mut server = python(RECORDING_SERVER, &[&path.display().to_string(), "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut lines, &mut ready).unwrap();
    assert_eq!(ready, "ready\n");
    let _server = Peer { child: server };
    let mut command = sockx_command(&[
        "connect",
        "-v",
        "-u",
        "-i",
        "1s",
        "--send",
        "\\x00\\x01",
        "--send",
        "\\xff\\n\\r",
        "--send",
        "x",
        &format!("unix:{}", path.display()),
    ]);
    command.stdin(Stdio::null());
    let done = Running::start(command).finish(PATIENCE);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, b"got 2;got 3;got 1;");
    let mut seen = String::new();
    std::io::Read::read_to_string(&mut lines, &mut seen).unwrap();
    assert_eq!(seen, "0001\nff0a0d\n78\n");
    // The client's own address is an abstract name on Linux: no file is left anywhere.
    assert!(
        done.stderr.contains("(unix-dgram) from unix:@sockx-"),
        "{}",
        done.stderr
    );
}

#[test]
fn connect_dash_capital_u_reads_stdin_and_waits_for_the_reply() {
    if !needs(
        "connect_dash_capital_u_reads_stdin_and_waits_for_the_reply",
        &["socat"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upper.sock");
    // socat answers the first datagram with it in capitals, to its sender.
    let _socat = Peer {
        child: Command::new("socat")
            .arg(format!("UNIX-RECVFROM:{}", path.display()))
            .arg("SYSTEM:tr a-z A-Z")
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    };
    wait_for("socat's socket", || path.exists());
    let mut running = Running::start(sockx_command(&[
        "connect",
        "-U",
        "-u",
        &path.display().to_string(),
    ]));
    running.feed(b"hello\n".to_vec());
    let done = running.finish(PATIENCE);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(done.stdout, b"HELLO\n");
}

#[test]
fn connect_to_a_missing_socket_is_exit_1_naming_it() {
    let output = sockx_command(&["connect", "-u", "unix:/nonexistent/sockx-d.sock"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim_end(),
        "sockx: error: cannot send to unix:/nonexistent/sockx-d.sock (unix-dgram): \
         no such file or directory"
    );
}

#[test]
fn a_stream_connect_to_a_datagram_socket_hints_at_dash_u() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sock");
    let _socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    let addr = format!("unix:{}", path.display());
    let output = sockx_command(&["connect", &addr])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "sockx: error: cannot connect to {addr}: protocol wrong type for socket\n\
             hint: it is not a stream socket (a datagram socket takes -u)\n"
        )
    );
}

#[test]
fn flags_that_need_ip_or_a_stream_are_refused() {
    for args in [
        &["listen", "-u", "--allow", "127.0.0.0/8", "unix:/tmp/x.sock"][..],
        &["listen", "-u", "--broadcast", "unix:/tmp/x.sock"],
        &["listen", "-u", "-e", "cat", "unix:/tmp/x.sock"],
        &["listen", "-u", "--unix-mode", "600", "unix:@abstract"],
        &["connect", "-u", "-p", "5000", "unix:/tmp/x.sock"],
    ] {
        let output = sockx_command(args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn exec_on_a_datagram_socket_is_refused_with_a_hint_that_fits_it() {
    let output = sockx_command(&["listen", "-u", "-e", "cat", "unix:/tmp/x.sock"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "sockx: error: -u cannot go with --exec or --sh-exec\n\
         hint: a command is run per stream connection (TCP or Unix); drop -u\n"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_closed_stdout_ends_it_quietly_and_removes_the_file() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.sock");
    let mut child = sockx_command(&["listen", "-u", &format!("unix:{}", path.display())])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut errors = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut ready = String::new();
    errors.read_line(&mut ready).unwrap();
    assert!(ready.ends_with("(unix-dgram)\n"), "{ready}");
    // Nobody reads stdout any more: the first datagram's write fails.
    drop(child.stdout.take());
    let sender = std::os::unix::net::UnixDatagram::unbound().unwrap();
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        // Again and again: a child that another test forks at this moment holds a copy of the
        // pipe's read end until it execs, and a write in that window still succeeds.
        let _ = sender.send_to(b"lost", &path);
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "sockx did not end");
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut errors, &mut rest).unwrap();
    assert_eq!(rest, "", "a closed stdout is a quiet end");
    assert!(!path.exists(), "the socket file was left behind");
}

#[test]
fn connect_ends_with_130_on_ctrl_c_while_it_waits_for_replies() {
    if !needs(
        "connect_ends_with_130_on_ctrl_c_while_it_waits_for_replies",
        &["python3"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent.sock");
    // A server that takes the datagram and never answers.
    let mut server = python(RECORDING_SERVER, &[&path.display().to_string(), "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut lines, &mut ready).unwrap();
    let _server = Peer { child: server };
    let mut running = Running::start(sockx_command(&[
        "connect",
        "-u",
        "-i",
        "1m",
        &format!("unix:{}", path.display()),
    ]));
    let mut stdin = running.stdin.take().unwrap();
    stdin.write_all(b"hello").unwrap();
    stdin.flush().unwrap();
    // The datagram arrived: sockx is now waiting for replies.
    let mut seen = String::new();
    std::io::BufRead::read_line(&mut lines, &mut seen).unwrap();
    assert_eq!(seen, "68656c6c6f\n");
    let pid = nix::unistd::Pid::from_raw(running.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let done = running.finish(PATIENCE);
    assert_eq!(done.code(), 130, "{}", done.stderr);
}
