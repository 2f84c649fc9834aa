//! `sockx listen unix:…` in the served modes (-k, --echo, --exec/--sh-exec) against real
//! peers: socat, nc -U, curl --unix-socket and python3 clients; the peer's credentials in -v
//! and in the child's environment; the socket file removed on every exit path.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;

use common::live::{Live, PATIENCE};
use common::relay::{has_tool, payload};
use common::{skip, sockx_path};

/// A python3 client: connects to argv[1] (`@NAME` for an abstract name), sends stdin while it
/// reads (so a large echo cannot deadlock), half-closes, prints what came back on stdout and
/// its own pid and uid on stderr.
const PY_CLIENT: &str = r#"
import os, socket, sys, threading
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.connect("\0" + path[1:] if path.startswith("@") else path)
sys.stderr.write("%d %d\n" % (os.getpid(), os.getuid()))
sys.stderr.flush()
data = sys.stdin.buffer.read()
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
sender = threading.Thread(target=send)
sender.start()
out = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
sender.join()
sys.stdout.buffer.write(out)
"#;

fn needs(test: &str, tools: &[&str]) -> bool {
    match tools.iter().find(|tool| !has_tool(tool)) {
        Some(tool) => {
            skip(test, &format!("{tool} is not installed"));
            false
        }
        None => true,
    }
}

/// A socket path in a fresh temporary directory, and its `unix:` address.
fn socket_in(dir: &tempfile::TempDir, name: &str) -> (PathBuf, String) {
    let path = dir.path().join(name);
    let addr = format!("unix:{}", path.display());
    (path, addr)
}

/// Runs the python3 client against `target` (a path or `@NAME`) with `input`.
fn python_client(target: &str, input: &[u8]) -> Output {
    let mut child = Command::new("python3")
        .args(["-c", PY_CLIENT, target])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("python3 runs");
    feeder.join().unwrap();
    assert!(
        output.status.success(),
        "python3 client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The client's own `(pid, uid)`, from its stderr.
fn client_ids(output: &Output) -> (String, String) {
    let text = String::from_utf8_lossy(&output.stderr);
    let mut words = text.split_whitespace();
    let pid = words.next().expect("pid").to_string();
    let uid = words.next().expect("uid").to_string();
    (pid, uid)
}

/// A connection that the server has admitted and served: its first byte echoed (or, for -k,
/// seen on stdout). Afterwards the accept loop certainly runs with its Ctrl-C handler.
fn served_once(path: &Path) -> UnixStream {
    let mut stream = UnixStream::connect(path).expect("connects");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(b"x").unwrap();
    stream
}

#[test]
fn keep_open_serves_socat_nc_and_python_at_once_and_broadcasts_stdin() {
    if !needs(
        "keep_open_serves_socat_nc_and_python_at_once_and_broadcasts_stdin",
        &["socat", "nc", "python3"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "k.sock");
    let mut server = Live::start(&["-k", "-v", &addr]);
    let input = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        std::fs::File::open(file).unwrap()
    };
    // Each client sends one line and half-closes; each session lasts until stdin's end.
    let socat = Command::new("socat")
        .args(["-t", "30", "-"])
        .arg(format!("UNIX-CONNECT:{}", path.display()))
        .stdin(input("socat.in", "from socat\n"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("socat starts");
    let nc = Command::new("nc")
        .args(["-N", "-U"])
        .arg(&path)
        .stdin(input("nc.in", "from nc\n"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("nc starts");
    let target = path.display().to_string();
    let python = thread::spawn(move || python_client(&target, b"from python\n"));
    server.wait_stderr(|log| log.matches("connection from pid ").count() == 3);
    server.wait_stdout(|out| {
        let out = String::from_utf8_lossy(out);
        ["from socat\n", "from nc\n", "from python\n"]
            .iter()
            .all(|line| out.contains(line))
    });
    // Stdin goes to every client; its end half-closes them all.
    let mut stdin = server.stdin.take().unwrap();
    stdin.write_all(b"to everyone\n").unwrap();
    drop(stdin);
    let socat = socat.wait_with_output().expect("socat ends");
    let nc = nc.wait_with_output().expect("nc ends");
    let python = python.join().unwrap();
    for (name, output) in [("socat", &socat), ("nc", &nc), ("python3", &python)] {
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "to everyone\n",
            "{name} got other bytes"
        );
    }
    let log = server.stderr();
    for name in ["(socat), uid ", "(nc), uid ", "(python3"] {
        assert!(log.contains(name), "-v does not name {name}: {log}");
    }
    let (pid, uid) = client_ids(&python);
    assert!(
        log.contains(&format!("connection from pid {pid} (python3"))
            && log.contains(&format!(", uid {uid} on {addr}")),
        "-v does not give the python client's pid {pid} and uid {uid}: {log}"
    );
    server.wait_stderr(|log| log.matches(" closed: sent ").count() == 3);
    assert_eq!(server.interrupt(), Some(130));
    assert!(
        !path.exists(),
        "the socket file is left behind after Ctrl-C"
    );
}

#[test]
fn echo_returns_binary_data_byte_exact_then_removes_its_file() {
    if !needs(
        "echo_returns_binary_data_byte_exact_then_removes_its_file",
        &["python3"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "echo.sock");
    let mut server = Live::start(&["--echo", "-v", &addr]);
    // More than the socket buffers and a pipe hold, every byte value included.
    let data = payload(4 << 20, 11);
    let output = python_client(&path.display().to_string(), &data);
    assert!(output.stdout == data, "the echo differs from what was sent");
    assert_eq!(server.wait_exit(), Some(0), "stderr: {}", server.stderr());
    assert!(
        server
            .stderr()
            .contains(" closed: sent 4.0 MiB, received 4.0 MiB"),
        "no -v summary: {}",
        server.stderr()
    );
    assert!(!path.exists(), "the socket file is left behind");
}

#[test]
fn echo_keep_open_serves_clients_at_once_with_hex_on_an_abstract_name() {
    if !needs(
        "echo_keep_open_serves_clients_at_once_with_hex_on_an_abstract_name",
        &["python3", "socat"],
    ) {
        return;
    }
    let name = format!("sockx-served-{}", std::process::id());
    let addr = format!("unix:@{name}");
    let mut server = Live::start(&["--echo", "-k", "--hex", &addr]);
    // A socat client holds its connection open while python's come and go.
    let mut socat = Command::new("socat")
        .args(["-t", "30", "-"])
        .arg(format!("ABSTRACT-CONNECT:{name}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("socat starts");
    let mut socat_in = socat.stdin.take().unwrap();
    socat_in.write_all(b"held\n").unwrap();
    let mut socat_out = BufReader::new(socat.stdout.take().unwrap());
    let mut line = String::new();
    socat_out.read_line(&mut line).unwrap();
    assert_eq!(line, "held\n");
    let clients: Vec<_> = (0..3u64)
        .map(|seed| {
            let name = name.clone();
            thread::spawn(move || {
                let data = payload(16 * 1024, seed);
                let output = python_client(&format!("@{name}"), &data);
                output.stdout == data
            })
        })
        .collect();
    for client in clients {
        assert!(client.join().unwrap(), "a client's echo differs");
    }
    let binary = python_client(&format!("@{name}"), b"hi\x00\xff");
    assert_eq!(binary.stdout, b"hi\x00\xff");
    server.wait_stderr(|log| {
        log.contains("< received 4 bytes") && log.matches("68 69 00 ff").count() >= 2
    });
    drop(socat_in);
    assert!(socat.wait().unwrap().success());
    assert_eq!(server.interrupt(), Some(130));
}

#[test]
fn exec_environment_has_the_peers_pid_and_uid_and_no_address() {
    if !needs(
        "exec_environment_has_the_peers_pid_and_uid_and_no_address",
        &["python3"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "env.sock");
    let mut server = Live::start(&[
        "--sh-exec",
        "printf '%s %s %s %s' \"$SOCKX_PEER_PID\" \"$SOCKX_PEER_UID\" \
         \"${SOCKX_PEER_ADDR-none}\" \"${SOCKX_PEER_PORT-none}\"",
        &addr,
    ]);
    let output = python_client(&path.display().to_string(), b"");
    let (pid, uid) = client_ids(&output);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{pid} {uid} none none")
    );
    assert_eq!(server.wait_exit(), Some(0), "stderr: {}", server.stderr());
    assert!(!path.exists(), "the socket file is left behind");
}

#[test]
fn exec_keep_open_serves_curl_over_the_unix_socket() {
    if !needs("exec_keep_open_serves_curl_over_the_unix_socket", &["curl"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // --exec (no shell; printf reads the escapes), --sh-exec, and --sh-exec with --hex (the
    // child behind pipes): the child reads one line of the request and answers; the rest of
    // the request is never read, and curl still gets the whole reply.
    let modes: [&[&str]; 3] = [
        &[
            "-e",
            "printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nhello\\n'",
        ],
        &[
            "--sh-exec",
            "read request; printf 'HTTP/1.0 200 OK\\r\\n\\r\\nuid %s\\n' \"$SOCKX_PEER_UID\"",
        ],
        &[
            "--hex",
            "--sh-exec",
            "read request; printf 'HTTP/1.0 200 OK\\r\\n\\r\\nuid %s\\n' \"$SOCKX_PEER_UID\"",
        ],
    ];
    let uid = nix::unistd::getuid().to_string();
    for (i, mode) in modes.iter().enumerate() {
        let (path, addr) = socket_in(&dir, &format!("http{i}.sock"));
        let args: Vec<&str> = [&["-k"][..], mode, &[&addr]].concat();
        let mut server = Live::start(&args);
        let expected = if i == 0 {
            "hello\n".to_string()
        } else {
            format!("uid {uid}\n")
        };
        for _ in 0..2 {
            let out = Command::new("curl")
                .args(["-sS", "--max-time", "30", "--unix-socket"])
                .arg(&path)
                .arg("http://localhost/")
                .stdin(Stdio::null())
                .output()
                .expect("curl runs");
            assert_eq!(
                out.status.code(),
                Some(0),
                "curl failed against {mode:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{mode:?}");
        }
        if i == 2 {
            server.wait_stderr(|log| {
                log.contains("48 54 54 50") // "HTTP"
            });
        }
        assert_eq!(server.interrupt(), Some(130), "{mode:?}");
        assert!(!path.exists(), "the socket file is left behind ({mode:?})");
    }
}

#[test]
fn max_conns_closes_the_rest_at_once_and_names_the_peer() {
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "max.sock");
    let mut server = Live::start(&["--echo", "-k", "-v", "-m", "1", &addr]);
    let mut first = served_once(&path);
    let mut byte = [0u8; 1];
    first.read_exact(&mut byte).unwrap();
    // The second is closed at once while the first holds the only slot.
    let mut second = UnixStream::connect(&path).expect("connects");
    second.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut rest = Vec::new();
    let _ = second.read_to_end(&mut rest);
    assert!(rest.is_empty());
    server.wait_stderr(|log| {
        log.contains(&format!("refused pid {}", std::process::id()))
            && log.contains("(--max-conns 1)")
    });
    assert_eq!(server.interrupt(), Some(130));
    assert!(!path.exists(), "the socket file is left behind");
}

#[test]
fn idle_timeout_closes_a_silent_unix_peer() {
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "idle.sock");
    let mut server = Live::start(&["--echo", "-k", "-v", "-w", "1s", &addr]);
    let mut client = served_once(&path);
    // The echoed byte, then nothing more until -w closes the connection.
    let mut back = Vec::new();
    client
        .read_to_end(&mut back)
        .expect("EOF after the idle timeout");
    assert_eq!(back, b"x");
    server.wait_stderr(|log| log.contains(" idle timeout: "));
    assert_eq!(server.interrupt(), Some(130));
    assert!(!path.exists(), "the socket file is left behind");
}

#[test]
fn ctrl_c_removes_the_socket_file_in_every_served_mode() {
    let dir = tempfile::tempdir().unwrap();
    let modes: [&[&str]; 4] = [
        &["-k"],
        &["--echo"],
        &["--echo", "-k"],
        &["-k", "--exec", "cat"],
    ];
    for (i, mode) in modes.iter().enumerate() {
        let (path, addr) = socket_in(&dir, &format!("int{i}.sock"));
        let args: Vec<&str> = [*mode, &[addr.as_str()]].concat();
        let mut server = Live::start(&args);
        let mut client = served_once(&path);
        if mode.contains(&"-k") && mode.len() == 1 {
            server.wait_stdout(|out| out == b"x");
        } else {
            let mut byte = [0u8; 1];
            client.read_exact(&mut byte).unwrap();
        }
        assert_eq!(
            server.interrupt(),
            Some(130),
            "{mode:?}: {}",
            server.stderr()
        );
        assert!(!path.exists(), "the socket file is left behind ({mode:?})");
    }
}

/// `kill`, `timeout`, systemd and Docker stop with SIGTERM, a closed terminal sends SIGHUP:
/// the socket file goes as at Ctrl-C, and sockx still ends by that signal.
#[test]
fn sigterm_and_sighup_remove_the_socket_file_and_end_by_the_signal() {
    use nix::sys::signal::Signal;
    let dir = tempfile::tempdir().unwrap();
    let modes: [&[&str]; 4] = [&[], &["-k"], &["--echo", "-k"], &["-u"]];
    for signal in [Signal::SIGTERM, Signal::SIGHUP] {
        for (i, mode) in modes.iter().enumerate() {
            let (path, addr) = socket_in(&dir, &format!("{signal}{i}.sock"));
            let args: Vec<&str> = [*mode, &[addr.as_str()]].concat();
            let mut server = Live::start(&args);
            assert!(path.exists());
            assert_eq!(
                server.signal(signal),
                None,
                "{signal} {mode:?}: {}",
                server.stderr()
            );
            assert!(
                !path.exists(),
                "the socket file is left behind ({signal} {mode:?})"
            );
        }
    }
}

/// Under `nohup` SIGHUP stays ignored: catching it for the file's sake must not undo that.
#[test]
fn sighup_stays_ignored_under_nohup() {
    use nix::sys::signal::Signal;
    if !needs("sighup_stays_ignored_under_nohup", &["nohup"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "nohup.sock");
    let sockx = sockx_path().display().to_string();
    let mut server = Live::start_via("nohup", &[&sockx, "listen", "-k", &addr]);
    let pid = nix::unistd::Pid::from_raw(i32::try_from(server.child.id()).unwrap());
    nix::sys::signal::kill(pid, Signal::SIGHUP).unwrap();
    // Still serving: a client is accepted and its bytes reach stdout.
    let _client = served_once(&path);
    server.wait_stdout(|out| out == b"x");
    assert_eq!(
        server.signal(Signal::SIGINT),
        Some(130),
        "{}",
        server.stderr()
    );
    assert!(!path.exists(), "the socket file is left behind");
}

#[test]
fn stdout_closed_and_a_fatal_error_remove_the_socket_file() {
    let dir = tempfile::tempdir().unwrap();
    // -k with stdout closed: the first client's data cannot be written; a quiet end.
    let (path, addr) = socket_in(&dir, "out.sock");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut server = Live::start_with(&["-k", &addr], Stdio::from(writer));
    let mut client = UnixStream::connect(&path).expect("connects");
    client.write_all(b"nobody reads this\n").unwrap();
    assert_eq!(server.wait_exit(), Some(0), "stderr: {}", server.stderr());
    assert!(
        !path.exists(),
        "the socket file is left behind (stdout closed)"
    );
    // --exec whose program went away after the start: no connection's command can run.
    let program = dir.path().join("gone");
    std::fs::copy("/bin/true", &program).unwrap();
    let (path, addr) = socket_in(&dir, "fatal.sock");
    let mut server = Live::start(&["-k", "--exec", &program.display().to_string(), &addr]);
    std::fs::remove_file(&program).unwrap();
    let _client = UnixStream::connect(&path).expect("connects");
    assert_eq!(server.wait_exit(), Some(1), "stderr: {}", server.stderr());
    assert!(
        server.stderr().contains("sockx: error: cannot run"),
        "stderr: {}",
        server.stderr()
    );
    assert!(
        !path.exists(),
        "the socket file is left behind (fatal error)"
    );
}

#[test]
fn a_stale_file_is_replaced_and_the_mode_applied_in_a_served_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "stale.sock");
    common::stale_socket_file(&path);
    let mut server = Live::start(&["--echo", "-k", "--unix-mode", "660", &addr]);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o660);
    let mut client = served_once(&path);
    let mut byte = [0u8; 1];
    client.read_exact(&mut byte).unwrap();
    assert_eq!(&byte, b"x");
    assert_eq!(server.interrupt(), Some(130));
    assert!(!path.exists());
}

#[test]
fn ip_only_flags_stay_refused_with_a_unix_address() {
    for flags in [
        &["-k", "--allow", "127.0.0.0/8"][..],
        &["--echo", "--deny", "10.0.0.0/8"],
        &["-k", "--reuseport"],
        &["--exec", "cat", "--unix-mode", "600"],
    ] {
        let target = if flags.contains(&"--unix-mode") {
            "unix:@sockx-refused"
        } else {
            "unix:/tmp/sockx-refused.sock"
        };
        let output = Command::new(sockx_path())
            .env_clear()
            .arg("listen")
            .args(flags)
            .arg(target)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        assert!(!Path::new("/tmp/sockx-refused.sock").exists());
    }
}

#[test]
fn a_socket_path_with_control_characters_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "\x1b[31mred\n.sock");
    let mut server = Live::start(&["-k", "--echo", "-v", &addr]);
    let mut client = served_once(&path);
    let mut byte = [0u8; 1];
    client.read_exact(&mut byte).unwrap();
    server.wait_stderr(|log| log.contains("connection from pid "));
    let log = server.stderr();
    assert!(
        !log.contains('\x1b') && log.contains("\\e[31mred\\n.sock"),
        "a raw control character reached stderr: {log:?}"
    );
    assert_eq!(server.interrupt(), Some(130));
    assert!(!path.exists());
}

#[test]
fn exec_that_never_reads_still_delivers_everything_to_curl() {
    if !needs(
        "exec_that_never_reads_still_delivers_everything_to_curl",
        &["curl"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A 2 MiB response, and a 2 MiB request body the child never reads: closing with it unread
    // would end the peer's stream with ECONNRESET instead of EOF.
    let body = payload(2 << 20, 5);
    let response = dir.path().join("response");
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    std::fs::write(&response, &reply).unwrap();
    let request = dir.path().join("request");
    std::fs::write(&request, payload(2 << 20, 6)).unwrap();
    for mode in ["--exec", "--sh-exec"] {
        let (path, addr) = socket_in(&dir, "cat.sock");
        let command = format!("cat {}", response.display());
        let mut server = Live::start(&["-k", mode, &command, &addr]);
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "60", "-o", "-", "--data-binary"])
            .arg(format!("@{}", request.display()))
            .arg("--unix-socket")
            .arg(&path)
            .arg("http://localhost/")
            .stdin(Stdio::null())
            .output()
            .expect("curl runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{mode}: curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout == body, "{mode}: curl got part of the response");
        assert_eq!(server.interrupt(), Some(130));
        assert!(!path.exists());
    }
}

#[test]
fn exec_without_keep_open_exits_with_the_childs_status() {
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "status.sock");
    let mut server = Live::start(&["--sh-exec", "echo bye; exit 3", &addr]);
    let mut client = UnixStream::connect(&path).expect("connects");
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).expect("EOF after the child");
    assert_eq!(reply, b"bye\n");
    assert_eq!(server.wait_exit(), Some(3), "stderr: {}", server.stderr());
    assert!(!path.exists());
}

#[test]
fn ctrl_c_right_after_the_ready_line_removes_the_socket_file() {
    let dir = tempfile::tempdir().unwrap();
    let modes: [&[&str]; 3] = [&["-k"], &["--echo", "-k"], &["-k", "--sh-exec", "cat"]];
    for (i, mode) in modes.iter().enumerate() {
        let (path, addr) = socket_in(&dir, &format!("early{i}.sock"));
        let args: Vec<&str> = [*mode, &[addr.as_str()]].concat();
        // No client first: the Ctrl-C may come before the accept loop runs.
        let mut server = Live::start(&args);
        assert_eq!(
            server.interrupt(),
            Some(130),
            "{mode:?}: {}",
            server.stderr()
        );
        assert!(!path.exists(), "the socket file is left behind ({mode:?})");
    }
}

#[test]
fn a_peer_outside_our_pid_namespace_still_gives_its_uid() {
    let test = "a_peer_outside_our_pid_namespace_still_gives_its_uid";
    if !common::is_root() {
        skip(test, "unshare --pid needs root");
        return;
    }
    if !needs(test, &["unshare", "python3"]) {
        return;
    }
    // sockx runs in a PID namespace of its own, so the kernel cannot name the client's PID
    // (SO_PEERCRED says 0); the UID is known all the same.
    let dir = tempfile::tempdir().unwrap();
    let (path, addr) = socket_in(&dir, "ns.sock");
    let sockx = sockx_path().display().to_string();
    let mut server = Live::start_via(
        "unshare",
        &[
            "--pid",
            "--fork",
            "--kill-child",
            &sockx,
            "listen",
            "-v",
            "--sh-exec",
            "printf '%s %s' \"${SOCKX_PEER_PID-none}\" \"${SOCKX_PEER_UID-none}\"",
            &addr,
        ],
    );
    let output = python_client(&path.display().to_string(), b"");
    let (_, uid) = client_ids(&output);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("none {uid}")
    );
    let line =
        format!("connection from uid {uid} (pid not visible in this PID namespace) on {addr}");
    server.wait_stderr(|text| text.contains(&line));
    assert_eq!(server.wait_exit(), Some(0), "stderr: {}", server.stderr());
}
