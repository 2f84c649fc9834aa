//! `sockx listen --forward`: real clients (curl, python3) through the forwarder to real
//! servers (python3's http.server, openssl s_server, python3 TCP and UDP servers, `sockx
//! listen --echo`), over TCP, Unix sockets, TLS and UDP.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::relay::{Finished, Listener, Peer, has_tool, payload, start_listen};
use common::{skip, sockx};

/// Starts `python3 -u -c SCRIPT ARGS` and returns it with the first line it prints (the
/// server's port, or `ready`); the rest of its stdout is kept for [`Python::rest`].
struct Python {
    /// Ended when the test is done.
    _peer: Peer,
    first: String,
    rest: mpsc::Receiver<String>,
}

impl Python {
    fn start(script: &str, args: &[&str]) -> Python {
        let mut child = Command::new("python3")
            .arg("-u")
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (first_tx, first_rx) = mpsc::channel();
        let (rest_tx, rest_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let _ = first_tx.send(lines.next().unwrap_or_default());
            for line in lines {
                let _ = rest_tx.send(line);
            }
        });
        let first = first_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the python3 peer says it is ready");
        Python {
            _peer: Peer { child },
            first,
            rest: rest_rx,
        }
    }

    fn port(&self) -> u16 {
        self.first.trim().parse().expect("a port")
    }

    /// The next line the peer prints after its first (up to 30 s).
    fn next_line(&self) -> String {
        self.rest
            .recv_timeout(Duration::from_secs(30))
            .expect("the python3 peer printed a line")
    }
}

fn have(tools: &[&str], test: &str) -> bool {
    for tool in tools {
        if !has_tool(tool) {
            skip(test, &format!("{tool} is not installed"));
            return false;
        }
    }
    true
}

/// Ctrl-C to a running sockx, then its end.
fn interrupt(listener: Listener) -> Finished {
    let pid = nix::unistd::Pid::from_raw(listener.running.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    listener.running.finish(Duration::from_secs(30))
}

/// A forwarder on loopback to `target` with these extra flags.
fn start_forwarder(target: &str, flags: &[&str]) -> Listener {
    let mut args = vec!["127.0.0.1:0", "--forward", target];
    args.extend_from_slice(flags);
    start_listen(&args)
}

/// A TCP client in python3: runs SCRIPT with `port` as argv[1] and returns its stdout.
fn python_client(script: &str, port: u16, extra: &[&str]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(port.to_string())
        .args(extra)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "the python3 client failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const HTTP_SERVER: &str = r#"
import http.server, os, sys, threading
os.chdir(sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

#[test]
fn curl_fetches_files_through_the_forwarder() {
    if !have(
        &["python3", "curl"],
        "curl_fetches_files_through_the_forwarder",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let body = payload(3 << 20, 7);
    std::fs::write(dir.path().join("blob"), &body).expect("write");
    let server = Python::start(HTTP_SERVER, &[dir.path().to_str().unwrap()]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", server.port()), &["-k", "-v"]);
    for _ in 0..3 {
        let fetched = Command::new("curl")
            .args(["-sS", "--fail", "--max-time", "60"])
            .arg(format!("http://127.0.0.1:{}/blob", forwarder.port))
            .output()
            .expect("curl runs");
        assert!(fetched.status.success(), "curl failed: {fetched:?}");
        assert!(fetched.stdout == body, "the file came through changed");
    }
    let finished = interrupt(forwarder);
    assert_eq!(finished.code(), 130);
    let target = format!("127.0.0.1:{}", server.port());
    let arrows = finished
        .stderr
        .lines()
        .filter(|line| line.ends_with(&format!("-> {target}")))
        .count();
    assert_eq!(
        arrows, 3,
        "one CLIENT -> TARGET line a connection: {}",
        finished.stderr
    );
    // The contract: -v prints each connection as CLIENT -> TARGET, and only so.
    assert!(
        !finished.stderr.contains("connection from"),
        "a second line for a connection: {}",
        finished.stderr
    );
    assert!(
        finished
            .stderr
            .lines()
            .any(|line| line.contains(&format!("-> {target} closed: sent 3.0 MiB"))),
        "no summary with the bytes: {}",
        finished.stderr
    );
}

/// `sockx listen 2375 --forward unix:/run/docker.sock`, with a python3 HTTP server on the
/// Unix socket standing in for dockerd.
#[test]
fn the_docker_socket_one_liner() {
    if !have(&["python3", "curl"], "the_docker_socket_one_liner") {
        return;
    }
    const UNIX_HTTP: &str = r#"
import http.server, socketserver, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def address_string(self):
        return "unix"
    def do_GET(self):
        body = b'{"ApiVersion":"1.47","path":"' + self.path.encode() + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
server = Server(sys.argv[1], Handler)
print("ready", flush=True)
server.serve_forever()
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("docker.sock");
    let _server = Python::start(UNIX_HTTP, &[socket.to_str().unwrap()]);
    let forwarder = start_forwarder(&format!("unix:{}", socket.display()), &["-k"]);
    let fetched = Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "30"])
        .arg(format!("http://127.0.0.1:{}/v1.47/version", forwarder.port))
        .output()
        .expect("curl runs");
    assert!(fetched.status.success(), "curl failed: {fetched:?}");
    assert_eq!(
        String::from_utf8_lossy(&fetched.stdout),
        r#"{"ApiVersion":"1.47","path":"/v1.47/version"}"#
    );
    assert_eq!(interrupt(forwarder).code(), 130);
}

/// `sockx listen unix:/tmp/pg.sock --forward HOST:PORT`: a TCP service on a Unix socket.
#[test]
fn a_unix_socket_forwards_to_a_tcp_service() {
    if !have(
        &["python3", "curl"],
        "a_unix_socket_forwards_to_a_tcp_service",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hello.txt"), "hello over a unix socket\n").expect("write");
    let server = Python::start(HTTP_SERVER, &[dir.path().to_str().unwrap()]);
    let socket = dir.path().join("front.sock");
    let socket_arg = format!("unix:{}", socket.display());
    let forwarder = start_listen(&[
        &socket_arg,
        "-k",
        "-v",
        "--forward",
        &format!("127.0.0.1:{}", server.port()),
    ]);
    let fetched = Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "30", "--unix-socket"])
        .arg(&socket)
        .arg("http://localhost/hello.txt")
        .output()
        .expect("curl runs");
    assert!(fetched.status.success(), "curl failed: {fetched:?}");
    assert_eq!(fetched.stdout, b"hello over a unix socket\n");
    let finished = interrupt(forwarder);
    assert_eq!(finished.code(), 130);
    assert!(
        finished.stderr.contains("(curl), uid ") && finished.stderr.contains(" -> 127.0.0.1:"),
        "{}",
        finished.stderr
    );
    assert!(!socket.exists(), "the socket file is left behind");
}

/// The client half-closes after sending; the target reads to EOF, then answers, and the
/// answer still reaches the client.
#[test]
fn the_clients_fin_reaches_the_target_as_a_half_close() {
    if !have(
        &["python3"],
        "the_clients_fin_reaches_the_target_as_a_half_close",
    ) {
        return;
    }
    const COUNT_TO_EOF: &str = r#"
import socket
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
total = 0
while True:
    data = conn.recv(65536)
    if not data:
        break
    total += len(data)
conn.sendall(b"got %d bytes after your FIN\n" % total)
conn.close()
"#;
    const SEND_THEN_SHUT: &str = r#"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
conn.sendall(b"x" * 1000000)
conn.shutdown(socket.SHUT_WR)
answer = b""
while True:
    data = conn.recv(65536)
    if not data:
        break
    answer += data
sys.stdout.write(answer.decode())
"#;
    let target = Python::start(COUNT_TO_EOF, &[]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", target.port()), &["-v"]);
    let answer = python_client(SEND_THEN_SHUT, forwarder.port, &[]);
    assert_eq!(answer, "got 1000000 bytes after your FIN\n");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished
            .stderr
            .contains("closed: sent 33 B, received 976.6 KiB"),
        "{}",
        finished.stderr
    );
}

/// The target half-closes first; the client reads to EOF, then sends, and what it sends
/// still reaches the target.
#[test]
fn the_targets_fin_reaches_the_client_as_a_half_close() {
    if !have(
        &["python3"],
        "the_targets_fin_reaches_the_client_as_a_half_close",
    ) {
        return;
    }
    const GREET_THEN_SHUT: &str = r#"
import socket
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
conn.sendall(b"hello, then FIN")
conn.shutdown(socket.SHUT_WR)
got = b""
while True:
    data = conn.recv(65536)
    if not data:
        break
    got += data
print(got.decode(), flush=True)
"#;
    const READ_THEN_SEND: &str = r#"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
got = b""
while True:
    data = conn.recv(65536)
    if not data:
        break
    got += data
conn.sendall(b"sent after the target's FIN")
conn.shutdown(socket.SHUT_WR)
conn.recv(1)
sys.stdout.write(got.decode())
"#;
    let target = Python::start(GREET_THEN_SHUT, &[]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", target.port()), &[]);
    let got = python_client(READ_THEN_SEND, forwarder.port, &[]);
    assert_eq!(got, "hello, then FIN");
    assert_eq!(target.next_line(), "sent after the target's FIN");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
}

/// A python3 server that accepts one connection and says how it ended.
const REPORT_END: &str = r#"
import socket, struct, sys
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
if len(sys.argv) > 1 and sys.argv[1] == "reset":
    conn.recv(5)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    print("reset sent", flush=True)
else:
    try:
        while conn.recv(65536):
            pass
        print("eof", flush=True)
    except ConnectionResetError:
        print("reset", flush=True)
"#;

#[test]
fn a_reset_by_the_client_resets_the_target() {
    if !have(&["python3"], "a_reset_by_the_client_resets_the_target") {
        return;
    }
    const RESET: &str = r#"
import socket, struct, sys, time
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
conn.sendall(b"hello")
time.sleep(0.5)
conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
conn.close()
"#;
    let target = Python::start(REPORT_END, &[]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", target.port()), &["-v"]);
    python_client(RESET, forwarder.port, &[]);
    assert_eq!(target.next_line(), "reset");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 1, "{}", finished.stderr);
    assert!(
        finished
            .stderr
            .contains("client: connection reset by peer, target reset"),
        "{}",
        finished.stderr
    );
}

#[test]
fn a_reset_by_the_target_resets_the_client() {
    if !have(&["python3"], "a_reset_by_the_target_resets_the_client") {
        return;
    }
    const SEE_RESET: &str = r#"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
conn.sendall(b"hello")
try:
    while conn.recv(65536):
        pass
    print("eof")
except ConnectionResetError:
    print("reset")
"#;
    let target = Python::start(REPORT_END, &["reset"]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", target.port()), &["-v"]);
    assert_eq!(python_client(SEE_RESET, forwarder.port, &[]), "reset\n");
    assert_eq!(target.next_line(), "reset sent");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 1, "{}", finished.stderr);
    assert!(
        finished
            .stderr
            .contains("target: connection reset by peer, client reset"),
        "{}",
        finished.stderr
    );
}

/// The target's address: a port nobody listens on (bound, then closed).
fn closed_port() -> u16 {
    common::relay::free_port()
}

const READ_TO_END: &str = r#"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
conn.settimeout(20)
try:
    data = conn.recv(100)
    print("eof" if not data else "data")
except ConnectionResetError:
    print("reset")
"#;

#[test]
fn an_unreachable_target_closes_the_client_and_fails() {
    if !have(
        &["python3"],
        "an_unreachable_target_closes_the_client_and_fails",
    ) {
        return;
    }
    let target = format!("127.0.0.1:{}", closed_port());
    let forwarder = start_forwarder(&target, &[]);
    let seen = python_client(READ_TO_END, forwarder.port, &[]);
    assert!(seen == "eof\n" || seen == "reset\n", "{seen}");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 1);
    assert!(
        finished.stderr.contains(&format!(
            "sockx: error: cannot connect to {target}: connection refused"
        )),
        "{}",
        finished.stderr
    );
}

#[test]
fn with_k_an_unreachable_target_is_said_with_v_and_serving_goes_on() {
    if !have(
        &["python3"],
        "with_k_an_unreachable_target_is_said_with_v_and_serving_goes_on",
    ) {
        return;
    }
    let target = format!("127.0.0.1:{}", closed_port());
    let forwarder = start_forwarder(&target, &["-k", "-v"]);
    for _ in 0..2 {
        let seen = python_client(READ_TO_END, forwarder.port, &[]);
        assert!(seen == "eof\n" || seen == "reset\n", "{seen}");
    }
    let finished = interrupt(forwarder);
    assert_eq!(finished.code(), 130);
    let said = finished
        .stderr
        .matches(&format!("cannot connect to {target}: connection refused"))
        .count();
    assert_eq!(said, 2, "{}", finished.stderr);
}

/// A python3 server that counts the connections it accepts and keeps them open.
const COUNT_CONNECTIONS: &str = r#"
import socket, threading
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
kept = []
while True:
    conn, _ = listener.accept()
    kept.append(conn)
    print("accepted %d" % len(kept), flush=True)
"#;

#[test]
fn a_denied_client_is_closed_and_never_reaches_the_target() {
    if !have(
        &["python3"],
        "a_denied_client_is_closed_and_never_reaches_the_target",
    ) {
        return;
    }
    let target = Python::start(COUNT_CONNECTIONS, &[]);
    let forwarder = start_forwarder(
        &format!("127.0.0.1:{}", target.port()),
        &["-k", "-v", "--allow", "127.1.2.0/24"],
    );
    let seen = python_client(READ_TO_END, forwarder.port, &[]);
    assert!(seen == "eof\n" || seen == "reset\n", "{seen}");
    let finished = interrupt(forwarder);
    assert!(
        finished.stderr.contains("refused 127.0.0.1:"),
        "{}",
        finished.stderr
    );
    assert!(
        target.rest.try_recv().is_err(),
        "the target saw a connection"
    );
}

#[test]
fn max_conns_closes_the_client_over_the_limit() {
    if !have(&["python3"], "max_conns_closes_the_client_over_the_limit") {
        return;
    }
    const SECOND_IS_REFUSED: &str = r#"
import socket, sys
port = int(sys.argv[1])
first = socket.create_connection(("127.0.0.1", port))
first.sendall(b"hold")
second = socket.create_connection(("127.0.0.1", port))
second.settimeout(20)
try:
    print("second: eof" if not second.recv(100) else "second: data")
except ConnectionResetError:
    print("second: eof")
first.close()
"#;
    let target = Python::start(COUNT_CONNECTIONS, &[]);
    let forwarder = start_forwarder(
        &format!("127.0.0.1:{}", target.port()),
        &["-k", "-v", "-m", "1"],
    );
    let seen = python_client(SECOND_IS_REFUSED, forwarder.port, &[]);
    assert_eq!(seen, "second: eof\n");
    assert_eq!(target.next_line(), "accepted 1");
    let finished = interrupt(forwarder);
    assert!(
        finished
            .stderr
            .contains("1 connection already open (--max-conns 1)"),
        "{}",
        finished.stderr
    );
    assert!(
        target.rest.try_recv().is_err(),
        "a second connection got through"
    );
}

#[test]
fn an_idle_connection_is_closed_after_w() {
    if !have(&["python3"], "an_idle_connection_is_closed_after_w") {
        return;
    }
    let target = Python::start(REPORT_END, &[]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", target.port()), &["-v", "-w", "1"]);
    // The client says nothing: both ends are closed after a second without traffic.
    let seen = python_client(READ_TO_END, forwarder.port, &[]);
    assert_eq!(seen, "eof\n");
    assert_eq!(target.next_line(), "eof");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished.stderr.contains("idle timeout"),
        "{}",
        finished.stderr
    );
}

/// Ctrl-C with connections open: each one's summary, then exit 130.
#[test]
fn ctrl_c_reports_every_open_connection() {
    if !have(&["python3"], "ctrl_c_reports_every_open_connection") {
        return;
    }
    const HOLD_TWO: &str = r#"
import socket, sys
port = int(sys.argv[1])
held = []
for i in range(2):
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(b"hello %d" % i)
    conn.settimeout(20)
    assert conn.recv(100) == b"hello %d" % i
    held.append(conn)
print("holding", flush=True)
sys.stdin.read()
"#;
    let echo = start_listen(&["127.0.0.1:0", "-k", "--echo"]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", echo.port), &["-k", "-v"]);
    let mut clients = Command::new("python3")
        .arg("-c")
        .arg(HOLD_TWO)
        .arg(forwarder.port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(clients.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line, "holding\n");
    let finished = interrupt(forwarder);
    drop(clients.stdin.take());
    let _ = clients.wait();
    assert_eq!(finished.code(), 130);
    let summaries = finished
        .stderr
        .lines()
        .filter(|line| line.contains(" interrupted: sent 7 B, received 7 B"))
        .count();
    assert_eq!(summaries, 2, "{}", finished.stderr);
    assert_eq!(interrupt(echo).code(), 130);
}

/// 200 clients at once through one forwarder to `sockx listen -k --echo`, each sending its
/// own bytes and checking every one that comes back.
#[test]
fn two_hundred_concurrent_clients_get_every_byte_back() {
    if !have(
        &["python3"],
        "two_hundred_concurrent_clients_get_every_byte_back",
    ) {
        return;
    }
    const MANY: &str = r#"
import asyncio, os, sys
port, clients, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
async def client(index):
    data = os.urandom(size)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    async def send():
        writer.write(data)
        await writer.drain()
        writer.write_eof()
    sender = asyncio.create_task(send())
    back = await reader.read(-1)
    await sender
    writer.close()
    return back == data
async def main():
    results = await asyncio.gather(*(client(i) for i in range(clients)))
    print("ok %d of %d" % (sum(results), clients))
asyncio.run(main())
"#;
    let echo = start_listen(&["127.0.0.1:0", "-k", "--echo"]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", echo.port), &["-k"]);
    let seen = python_client(MANY, forwarder.port, &["200", "262144"]);
    assert_eq!(seen, "ok 200 of 200\n");
    assert_eq!(interrupt(forwarder).code(), 130);
    assert_eq!(interrupt(echo).code(), 130);
}

/// A client that sends and never reads stalls its own connection only: another client's
/// exchange goes through meanwhile.
#[test]
fn a_stuck_connection_does_not_slow_the_others() {
    if !have(&["python3"], "a_stuck_connection_does_not_slow_the_others") {
        return;
    }
    const STUCK_AND_LIVELY: &str = r#"
import socket, sys, time
port = int(sys.argv[1])
stuck = socket.create_connection(("127.0.0.1", port))
stuck.setblocking(False)
sent = 0
deadline = time.time() + 20
# Fill every buffer on the way: the echo comes back and nobody reads it.
while time.time() < deadline:
    try:
        sent += stuck.send(b"s" * 65536)
    except BlockingIOError:
        time.sleep(0.2)
        try:
            sent += stuck.send(b"s" * 65536)
        except BlockingIOError:
            break
lively = socket.create_connection(("127.0.0.1", port))
lively.settimeout(20)
ok = 0
for i in range(50):
    lively.sendall(b"ping %d" % i)
    ok += lively.recv(100) == b"ping %d" % i
print("stuck after %s, lively %d of 50" % ("filling" if sent > 0 else "nothing", ok))
"#;
    let echo = start_listen(&["127.0.0.1:0", "-k", "--echo"]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", echo.port), &["-k"]);
    assert_eq!(
        python_client(STUCK_AND_LIVELY, forwarder.port, &[]),
        "stuck after filling, lively 50 of 50\n"
    );
    assert_eq!(interrupt(forwarder).code(), 130);
    assert_eq!(interrupt(echo).code(), 130);
}

/// A CA and a server certificate for `localhost` and 127.0.0.1 signed by it, made with
/// openssl in `dir`: `ca.pem`, `server.pem`, `server.key`.
fn make_certificates(dir: &std::path::Path) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?} failed");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=sockx test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

/// `openssl s_server -www` on a free loopback port: it answers a GET with a status page.
fn s_server(dir: &std::path::Path) -> (Peer, u16) {
    let mut child = Command::new("openssl")
        .args(["s_server", "-accept", "127.0.0.1:0", "-www"])
        .args(["-cert", "server.pem", "-key", "server.key"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let stdout = child.stdout.take().expect("piped");
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line
                .strip_prefix("ACCEPT ")
                .and_then(|addr| addr.rsplit_once(':'))
                .and_then(|(_, port)| port.parse::<u16>().ok())
            {
                let _ = sender.send(port);
            }
        }
    });
    let port = receiver
        .recv_timeout(Duration::from_secs(20))
        .expect("s_server says where it listens");
    (Peer { child }, port)
}

const GET: &str = r#"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
got = b""
conn.settimeout(20)
try:
    while True:
        data = conn.recv(65536)
        if not data:
            break
        got += data
except (ConnectionResetError, TimeoutError):
    pass
print(got.split(b"\r\n")[0].decode() if got else "nothing")
"#;

#[test]
fn forward_tls_speaks_verified_tls_to_openssl_s_server() {
    if !have(
        &["python3", "openssl"],
        "forward_tls_speaks_verified_tls_to_openssl_s_server",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    let (_server, port) = s_server(dir.path());
    let ca = dir.path().join("ca.pem");
    let forwarder = start_forwarder(
        &format!("localhost:{port}"),
        &["-4", "--forward-tls", "--forward-ca", ca.to_str().unwrap()],
    );
    assert_eq!(python_client(GET, forwarder.port, &[]), "HTTP/1.0 200 ok\n");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
}

#[test]
fn forward_tls_refuses_a_certificate_it_cannot_verify() {
    if !have(
        &["python3", "openssl"],
        "forward_tls_refuses_a_certificate_it_cannot_verify",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    let (_server, port) = s_server(dir.path());
    let forwarder = start_forwarder(&format!("127.0.0.1:{port}"), &["--forward-tls"]);
    assert_eq!(python_client(GET, forwarder.port, &[]), "nothing\n");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 1);
    common::relay::assert_one_error_line(
        &finished.stderr[finished.stderr.find("sockx:").unwrap()..],
    );
    assert!(
        finished.stderr.contains(&format!(
            "sockx: error: TLS handshake with 127.0.0.1:{port} failed: unknown issuer"
        )),
        "{}",
        finished.stderr
    );
    // The same server is reached with --forward-insecure, and -v still says what failed.
    let insecure = start_forwarder(
        &format!("127.0.0.1:{port}"),
        &["--forward-tls", "--forward-insecure", "-v"],
    );
    assert_eq!(python_client(GET, insecure.port, &[]), "HTTP/1.0 200 ok\n");
    let finished = insecure.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished
            .stderr
            .contains("certificate: CN=localhost (issuer CN=sockx test CA)")
            && finished.stderr.contains("unknown issuer"),
        "{}",
        finished.stderr
    );
}

#[test]
fn hex_dumps_both_directions() {
    if !have(&["python3"], "hex_dumps_both_directions") {
        return;
    }
    const ANSWER: &str = r#"
import socket
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
conn.recv(100)
conn.sendall(b"pong")
conn.close()
"#;
    const PING: &str = r#"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
conn.sendall(b"ping")
print(conn.recv(100).decode())
"#;
    let target = Python::start(ANSWER, &[]);
    let forwarder = start_forwarder(&format!("127.0.0.1:{}", target.port()), &["--hex"]);
    assert_eq!(python_client(PING, forwarder.port, &[]), "pong\n");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished.stderr.contains("< received 4 bytes at offset 0"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("> sent 4 bytes at offset 0"),
        "{}",
        finished.stderr
    );
    assert!(finished.stderr.contains("|ping|") && finished.stderr.contains("|pong|"));
}

/// A DNS-style UDP server in python3: answers each datagram with `answer:` and the datagram,
/// to its sender.
const UDP_ANSWER: &str = r#"
import socket
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
while True:
    data, peer = server.recvfrom(65535)
    server.sendto(b"answer:" + data, peer)
"#;

#[test]
fn udp_datagrams_go_through_whole_and_answers_come_back_to_each_client() {
    if !have(
        &["python3"],
        "udp_datagrams_go_through_whole_and_answers_come_back_to_each_client",
    ) {
        return;
    }
    const CLIENTS: &str = r#"
import socket, sys
port = int(sys.argv[1])
clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
ok = 0
for size in (1, 512, 1400, 20000, 60000):
    for index, client in enumerate(clients):
        client.settimeout(20)
        query = bytes([index]) * size
        client.sendto(query, ("127.0.0.1", port))
        answer, _ = client.recvfrom(65535)
        ok += answer == b"answer:" + query
print("ok %d" % ok)
"#;
    let server = Python::start(UDP_ANSWER, &[]);
    let forwarder = start_listen(&[
        "-u",
        "127.0.0.1:0",
        "--forward",
        &format!("127.0.0.1:{}", server.port()),
        "-k",
        "-v",
    ]);
    assert_eq!(python_client(CLIENTS, forwarder.port, &[]), "ok 15\n");
    let finished = interrupt(forwarder);
    assert_eq!(finished.code(), 130);
    let sessions = finished
        .stderr
        .lines()
        .filter(|line| line.contains(" interrupted: "))
        .count();
    assert_eq!(sessions, 3, "one session per client: {}", finished.stderr);
}

#[test]
fn a_udp_session_ends_after_w_and_without_k_so_does_sockx_hex_dumping_both_ways() {
    if !have(
        &["python3"],
        "a_udp_session_ends_after_w_and_without_k_so_does_sockx",
    ) {
        return;
    }
    const ONE: &str = r#"
import socket, sys
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(20)
client.sendto(b"query", ("127.0.0.1", int(sys.argv[1])))
print(client.recvfrom(65535)[0].decode())
"#;
    let server = Python::start(UDP_ANSWER, &[]);
    let forwarder = start_listen(&[
        "-u",
        "127.0.0.1:0",
        "--forward",
        &format!("127.0.0.1:{}", server.port()),
        "-w",
        "1",
        "-v",
        "--hex",
    ]);
    assert_eq!(python_client(ONE, forwarder.port, &[]), "answer:query\n");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        finished.stderr.contains("< received 5 bytes at offset 0")
            && finished.stderr.contains("> sent 12 bytes at offset 0"),
        "{}",
        finished.stderr
    );
    assert!(
        finished
            .stderr
            .contains("idle timeout: sent 12 B, received 5 B"),
        "{}",
        finished.stderr
    );
}

#[test]
fn udp_max_conns_caps_the_sessions() {
    if !have(&["python3"], "udp_max_conns_caps_the_sessions") {
        return;
    }
    const TWO: &str = r#"
import socket, sys
port = int(sys.argv[1])
first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
first.settimeout(20)
first.sendto(b"one", ("127.0.0.1", port))
print(first.recvfrom(100)[0].decode())
second = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
second.settimeout(1)
second.sendto(b"two", ("127.0.0.1", port))
try:
    print(second.recvfrom(100)[0].decode())
except TimeoutError:
    print("no answer")
"#;
    let server = Python::start(UDP_ANSWER, &[]);
    let forwarder = start_listen(&[
        "-u",
        "127.0.0.1:0",
        "--forward",
        &format!("127.0.0.1:{}", server.port()),
        "-k",
        "-v",
        "-m",
        "1",
    ]);
    assert_eq!(
        python_client(TWO, forwarder.port, &[]),
        "answer:one\nno answer\n"
    );
    let finished = interrupt(forwarder);
    assert!(
        finished
            .stderr
            .contains("1 sessions already open (--max-conns 1)"),
        "{}",
        finished.stderr
    );
}

#[test]
fn flags_that_cannot_go_with_forward_are_usage_errors() {
    for args in [
        &["listen", "0", "--forward", "127.0.0.1:9", "--echo"][..],
        &["listen", "0", "--forward", "127.0.0.1:9", "-e", "cat"],
        &["listen", "0", "--forward", "127.0.0.1:9", "-C"],
        &[
            "listen",
            "-u",
            "0",
            "--forward",
            "127.0.0.1:9",
            "--forward-tls",
        ],
        &["listen", "0", "--forward-tls"],
        &[
            "listen",
            "0",
            "--forward",
            "127.0.0.1:9",
            "--forward-sni",
            "x",
        ],
        &["listen", "0", "--forward", "256.1.1.1:9"],
        &["listen", "0", "--forward", "127.0.0.1:0"],
    ] {
        let output = sockx().args(args).output().expect("runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn stdin_is_not_read() {
    if !have(&["python3"], "stdin_is_not_read") {
        return;
    }
    const COUNT: &str = r#"
import socket
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
total = 0
while True:
    data = conn.recv(65536)
    if not data:
        break
    total += len(data)
print("got %d" % total, flush=True)
"#;
    const QUIET: &str = r#"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
conn.shutdown(socket.SHUT_WR)
conn.recv(10)
"#;
    let target = Python::start(COUNT, &[]);
    let mut forwarder = start_forwarder(&format!("127.0.0.1:{}", target.port()), &[]);
    // Whatever is on stdin never reaches the target.
    let feeding = forwarder.running.feed(b"from stdin".to_vec());
    feeding.join().expect("fed");
    python_client(QUIET, forwarder.port, &[]);
    assert_eq!(target.next_line(), "got 0");
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0);
    assert!(finished.stdout.is_empty());
}

/// TLS termination in front of a plain HTTP server: curl speaks HTTPS to the forwarder, which
/// speaks plain HTTP to python3's http.server.
#[test]
fn tls_termination_in_front_of_a_plain_http_server() {
    if !have(
        &["python3", "curl", "openssl"],
        "tls_termination_in_front_of_a_plain_http_server",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    let body = payload(2 << 20, 11);
    std::fs::write(dir.path().join("blob"), &body).expect("write");
    let server = Python::start(HTTP_SERVER, &[dir.path().to_str().unwrap()]);
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    let forwarder = start_forwarder(
        &format!("127.0.0.1:{}", server.port()),
        &[
            "-k",
            "-v",
            "--tls",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    let url = format!("https://127.0.0.1:{}/blob", forwarder.port);
    let ca = dir.path().join("ca.pem");
    for trust in [&["--cacert", ca.to_str().unwrap()][..], &["-k"][..]] {
        let fetched = Command::new("curl")
            .args(["-sS", "--fail", "--max-time", "60"])
            .args(trust)
            .arg(&url)
            .output()
            .expect("curl runs");
        assert!(
            fetched.status.success(),
            "curl {trust:?} failed: {fetched:?}"
        );
        assert!(fetched.stdout == body, "the file came through changed");
    }
    // Plain HTTP to the TLS port gets no page.
    let plain = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .arg(format!("http://127.0.0.1:{}/blob", forwarder.port))
        .output()
        .expect("curl runs");
    assert!(plain.stdout != body);
    let finished = interrupt(forwarder);
    assert_eq!(finished.code(), 130);
}

/// `--tls` and `--forward-tls` together re-encrypt: HTTPS in, TLS to openssl s_server out.
#[test]
fn tls_on_both_sides_re_encrypts() {
    if !have(&["curl", "openssl"], "tls_on_both_sides_re_encrypts") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    let (_server, port) = s_server(dir.path());
    let (cert, key, ca) = (
        dir.path().join("server.pem"),
        dir.path().join("server.key"),
        dir.path().join("ca.pem"),
    );
    let forwarder = start_forwarder(
        &format!("127.0.0.1:{port}"),
        &[
            "--tls",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--forward-tls",
            "--forward-ca",
            ca.to_str().unwrap(),
        ],
    );
    let fetched = Command::new("curl")
        .args(["-sS", "--max-time", "30", "--http1.0", "--cacert"])
        .arg(&ca)
        .arg(format!("https://127.0.0.1:{}/", forwarder.port))
        .output()
        .expect("curl runs");
    let page = String::from_utf8_lossy(&fetched.stdout);
    // s_server -www answers with a status page naming the session it saw: ours, in TLS.
    assert!(
        page.contains("Ciphers supported in s_server binary"),
        "{page}"
    );
    let finished = forwarder.running.finish(Duration::from_secs(30));
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
}
