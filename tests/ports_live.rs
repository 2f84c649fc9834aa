//! `sockx ports -i` (TCP internals, checked against `ss -tni` on the same sockets) and
//! `sockx ports --watch` (a listener opened and closed while it runs).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::{Netns, pids_of, sockx, sockx_path};
use serde_json::Value;

/// How long any one expected event may take on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `sockx ports ARGS --json` and returns the objects.
fn ports_json(args: &[&str]) -> Vec<Value> {
    let output = sockx()
        .arg("ports")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn local_of(row: &Value) -> SocketAddr {
    let ip = row["local_addr"].as_str().unwrap().parse().unwrap();
    SocketAddr::new(ip, row["local_port"].as_u64().unwrap() as u16)
}

fn remote_of(row: &Value) -> Option<SocketAddr> {
    let ip = row["remote_addr"].as_str()?.parse().ok()?;
    Some(SocketAddr::new(ip, row["remote_port"].as_u64()? as u16))
}

/// Whether this test process is among the holders. Not "the only one": another test of this
/// binary that starts a child at that moment shares every descriptor with it until it execs.
fn held_by_me(row: &Value) -> bool {
    pids_of(row).contains(&me())
}

fn me() -> u64 {
    u64::from(std::process::id())
}

/// What `ss -tni` says of one socket: its queues and the `key:value` fields of its detail line.
#[derive(Debug)]
struct SsSocket {
    recv_q: u64,
    send_q: u64,
    fields: HashMap<String, String>,
}

impl SsSocket {
    /// A numeric field, 0 when ss left it out (it prints `bytes_acked` only once non-zero).
    fn number(&self, key: &str) -> u64 {
        self.fields
            .get(key)
            .map_or(0, |value| value.parse().unwrap())
    }

    /// `rtt:RTT/RTTVAR` in milliseconds, 0 when absent (a listener).
    fn rtt(&self) -> (f64, f64) {
        self.fields.get("rtt").map_or((0.0, 0.0), |value| {
            let (rtt, var) = value.split_once('/').unwrap();
            (rtt.parse().unwrap(), var.parse().unwrap())
        })
    }
}

/// Runs `ss -tni` (every state) with `filter` and returns each socket by (local, peer); a
/// listener's peer is `None`.
fn ss_sockets(filter: &str) -> Option<HashMap<(SocketAddr, Option<SocketAddr>), SsSocket>> {
    let output = StdCommand::new("ss")
        .args(["-tnHi", "state", "all", filter])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut sockets = HashMap::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let columns: Vec<&str> = line.split_whitespace().collect();
        if columns.len() < 5 || line.starts_with(char::is_whitespace) {
            continue;
        }
        let local: SocketAddr = columns[3].parse().ok()?;
        let peer = columns[4].parse::<SocketAddr>().ok();
        let mut fields = HashMap::new();
        if lines
            .peek()
            .is_some_and(|next| next.starts_with(char::is_whitespace))
        {
            for word in lines.next()?.split_whitespace() {
                if let Some((key, value)) = word.split_once(':') {
                    fields.insert(key.to_string(), value.to_string());
                }
            }
        }
        let socket = SsSocket {
            recv_q: columns[1].parse().ok()?,
            send_q: columns[2].parse().ok()?,
            fields,
        };
        sockets.insert((local, peer), socket);
    }
    Some(sockets)
}

/// Polls `check` until it holds or the deadline passes.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn info_agrees_with_ss_field_by_field() {
    if StdCommand::new("ss").arg("-V").output().is_err() {
        common::skip("info_agrees_with_ss_field_by_field", "ss is not installed");
        return;
    }
    // A connection with data each way: the server reads what it got, the client leaves the
    // server's answer unread (RECV-Q 300). Nothing moves afterwards, so both tools see the same.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(server_addr).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(&[1; 5000]).unwrap();
    let mut got = vec![0; 5000];
    server.read_exact(&mut got).unwrap();
    server.write_all(&[2; 300]).unwrap();
    let client_addr = client.local_addr().unwrap();
    let ports = [
        server_addr.port().to_string(),
        client_addr.port().to_string(),
    ];
    // By address and port: another test's socket may have the same port number on another
    // loopback address (or be in TIME_WAIT on it); only these three sockets are compared.
    let filter = format!("( src {server_addr} or src {client_addr} )");
    // Wait until the last ACKs are in (each side's data acknowledged; the connecting side
    // counts its SYN too): after that nothing changes the counters or the congestion windows.
    let server_end = server.local_addr().unwrap();
    eventually("the transfer to settle", || {
        let rows = ports_json(&["-a", "-i", &ports[0], &ports[1]]);
        let acked = |local: SocketAddr| {
            rows.iter()
                .find(|row| local_of(row) == local && remote_of(row).is_some())
                .and_then(|row| row["tcp_info"]["bytes_acked"].as_u64())
        };
        acked(client_addr) >= Some(5000) && acked(server_end) >= Some(300)
    });

    let ours = [
        (server_addr, None),
        (client_addr, Some(server_addr)),
        (server_end, Some(client_addr)),
    ];
    let mut rows = ports_json(&["-a", "-i", &ports[0], &ports[1]]);
    rows.retain(|row| ours.contains(&(local_of(row), remote_of(row))));
    let mut ss = ss_sockets(&filter).expect("ss output parses");
    ss.retain(|key, _| ours.contains(key));
    assert_eq!(rows.len(), 3, "listener and both ends: {rows:?}");
    assert_eq!(ss.len(), 3, "{ss:?}");
    for row in &rows {
        let key = (local_of(row), remote_of(row));
        let theirs = ss
            .get(&key)
            .unwrap_or_else(|| panic!("ss lacks {key:?}: {ss:?}"));
        let info = &row["tcp_info"];
        let field = |name: &str| info[name].as_u64().unwrap();
        assert_eq!(field("recv_q"), theirs.recv_q, "recv_q of {key:?}");
        assert_eq!(field("send_q"), theirs.send_q, "send_q of {key:?}");
        assert_eq!(field("cwnd"), theirs.number("cwnd"), "cwnd of {key:?}");
        assert_eq!(
            field("bytes_acked"),
            theirs.number("bytes_acked"),
            "{key:?}"
        );
        assert_eq!(
            field("bytes_received"),
            theirs.number("bytes_received"),
            "{key:?}"
        );
        assert_eq!(field("retrans"), 0, "{key:?}");
        // The RTT moves only when an ACK comes in; allow for one arriving between the tools.
        let (rtt, rttvar) = theirs.rtt();
        assert!(
            (info["rtt_ms"].as_f64().unwrap() - rtt).abs() < 1.0,
            "{key:?}: {info} vs {rtt}"
        );
        assert!(
            (info["rttvar_ms"].as_f64().unwrap() - rttvar).abs() < 1.0,
            "{key:?}"
        );
    }
    let client_row = rows
        .iter()
        .find(|row| local_of(row) == client_addr)
        .unwrap();
    assert_eq!(client_row["tcp_info"]["recv_q"], 300);
    assert_eq!(client_row["tcp_info"]["bytes_received"], 300);
    assert!(held_by_me(client_row), "{client_row}");
    drop((client, server));
}

#[test]
fn a_full_accept_backlog_shows_as_the_listeners_queues() {
    use socket2::{Domain, Socket, Type};
    // A listener with a backlog of 3 that never accepts, and 3 clients: the queue is at its
    // limit (the kernel drops connections past it).
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(3).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let port = addr.port().to_string();
    let _clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();

    let mut last = Vec::new();
    eventually("three connections in the accept queue", || {
        last = ports_json(&["-i", &port]);
        last.len() == 1 && last[0]["tcp_info"]["recv_q"] == 3
    });
    assert_eq!(last[0]["state"], "LISTEN");
    assert_eq!(last[0]["tcp_info"]["send_q"], 3, "the limit: {}", last[0]);

    // The table shows the same in SEND-Q and RECV-Q.
    let output = sockx().args(["ports", "-i", &port]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let headers: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let cells: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let column = |name: &str| headers.iter().position(|h| *h == name).unwrap();
    assert_eq!(cells[column("SEND-Q")], "3", "{text}");
    assert_eq!(cells[column("RECV-Q")], "3", "{text}");
    let pids: Vec<&str> = cells[column("PID")].split(',').collect();
    assert!(pids.contains(&me().to_string().as_str()), "{text}");
}

#[test]
fn info_on_udp_is_null_and_the_columns_are_dashes() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port().to_string();
    let rows = ports_json(&["-u", "-i", &port]);
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["tcp_info"].is_null(), "{}", rows[0]);
    assert!(rows[0].as_object().unwrap().contains_key("tcp_info"));
    // Without -i there is no such field at all.
    let rows = ports_json(&["-u", &port]);
    assert!(!rows[0].as_object().unwrap().contains_key("tcp_info"));
}

/// Moves 1 MB over loopback inside the namespace while its input hook drops one packet in five,
/// then holds the connection open until stdin closes.
const LOSSY_TRANSFER: &str = "import socket, sys, threading
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen()
c = socket.create_connection(l.getsockname(), timeout=60)
s, _ = l.accept(); s.settimeout(60)
def drain():
    left = 8 << 20
    while left:
        got = len(s.recv(65536))
        if not got:
            sys.exit('the connection ended early')
        left -= got
t = threading.Thread(target=drain); t.start()
c.sendall(b'x' * (8 << 20)); t.join()
print(l.getsockname()[1], flush=True)
sys.stdin.read()";

#[test]
fn a_lossy_link_shows_retransmits() {
    let test = "a_lossy_link_shows_retransmits";
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(reason) => return common::skip(test, &reason),
    };
    // A loopback MTU of an Ethernet link. Loopback still passes GSO packets of up to 64 KiB,
    // so the transfer is 8 MiB: enough packets that some are always dropped.
    let mtu = netns
        .command("ip")
        .args(["link", "set", "lo", "mtu", "1500"])
        .status();
    assert!(mtu.unwrap().success());
    // One random tenth of the full-sized data segments arriving on lo is dropped (this kernel
    // has no netem). SYNs and ACKs always pass: losing those too made runs of back-to-back
    // timeouts likely enough that the backed-off retransmission timer stalled a run for minutes.
    let rule = "add table inet lossy; \
                add chain inet lossy input { type filter hook input priority 0; }; \
                add rule inet lossy input iif lo meta length > 1000 numgen random mod 10 0 drop";
    match netns.command("nft").arg(rule).output() {
        // A rule nft refuses is our mistake, not a missing capability.
        Ok(output) => assert!(
            output.status.success(),
            "nft refused the rule: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(_) => return common::skip(test, "nft is not installed"),
    }
    let mut python = match netns
        .command("python3")
        .args(["-c", LOSSY_TRANSFER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(_) => return common::skip(test, "python3 is not available"),
    };
    let mut line = String::new();
    BufReader::new(python.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().to_string();
    assert!(!port.is_empty(), "the transfer did not finish");

    // The sender is the client end, whose local port is not the listener's: ask by remote.
    let output = netns
        .sockx()
        .args(["ports", "-i", "--json", "-r", &port])
        .output()
        .unwrap();
    let rows: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "the sending end: {rows:?}");
    drop(python.stdin.take());
    let _ = python.kill();
    let _ = python.wait();
    let retransmits: u64 = rows
        .iter()
        .filter_map(|row| row["tcp_info"]["retrans"].as_u64())
        .sum();
    assert!(retransmits > 0, "{rows:?}");
}

/// A running `sockx ports --watch`, its stdout lines arriving on a channel.
struct Watcher {
    child: Child,
    lines: Receiver<String>,
}

impl Watcher {
    /// Starts `sockx -v ports --watch ARGS` and waits until its first listing is done (the
    /// `watching every` line on stderr), so that anything opened afterwards is a change.
    fn start(args: &[&str]) -> Watcher {
        let mut child = StdCommand::new(sockx_path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .args(["-v", "ports", "--watch"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (send, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let (ready, started) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if line.starts_with("watching every") {
                    let _ = ready.send(());
                }
            }
        });
        started
            .recv_timeout(DEADLINE)
            .expect("the watcher printed its first listing");
        Watcher { child, lines }
    }

    /// The next stdout line.
    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(DEADLINE)
            .expect("the watcher printed a line")
    }

    /// Ctrl-C, as a user stops it; returns the exit code.
    fn interrupt(mut self) -> Option<i32> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        self.child.wait().unwrap().code()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP socket bound to an ephemeral loopback port but not listening yet: its port is known
/// before it shows up as a listener.
fn bound_socket() -> (socket2::Socket, u16) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    (socket, port)
}

#[test]
fn watch_json_reports_a_listener_coming_and_going() {
    let before = TcpListener::bind("127.0.0.1:0").unwrap();
    let before_port = before.local_addr().unwrap().port();
    let (later, later_port) = bound_socket();
    let watcher = Watcher::start(&[
        "--json",
        "--interval",
        "200ms",
        &before_port.to_string(),
        &later_port.to_string(),
    ]);

    // First the matching set as it is: a plain socket object.
    let first: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(first["local_port"], before_port);
    assert!(first.get("event").is_none(), "{first}");

    later.listen(16).unwrap();
    let added: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(added["event"], "added", "{added}");
    assert_eq!(added["local_port"], later_port);
    assert_eq!(added["state"], "LISTEN");
    assert!(held_by_me(&added), "{added}");
    let time = added["time"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(time).is_ok(), "{time}");

    drop(later);
    let removed: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(removed["event"], "removed", "{removed}");
    assert_eq!(removed["local_port"], later_port);
    assert!(
        held_by_me(&removed),
        "the - line says whose it was: {removed}"
    );

    assert_eq!(watcher.interrupt(), Some(130));
    drop(before);
}

#[test]
fn watch_follows_unix_sockets_with_x() {
    let dir = tempfile::tempdir().unwrap();
    let before_path = dir.path().join("before.sock");
    let later_path = dir.path().join("later.sock");
    let before = std::os::unix::net::UnixListener::bind(&before_path).unwrap();
    let watcher = Watcher::start(&[
        "-x",
        "--json",
        "--interval",
        "200ms",
        &before_path.display().to_string(),
        &later_path.display().to_string(),
    ]);
    let first: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(first["path"], before_path.display().to_string());
    assert!(first.get("event").is_none(), "{first}");

    let later = std::os::unix::net::UnixListener::bind(&later_path).unwrap();
    let added: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(added["event"], "added", "{added}");
    assert_eq!(added["proto"], "unix");
    assert_eq!(added["path"], later_path.display().to_string());
    assert_eq!(added["state"], "LISTEN");
    assert!(held_by_me(&added), "{added}");

    drop(later);
    let removed: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(removed["event"], "removed", "{removed}");
    assert_eq!(removed["path"], later_path.display().to_string());
    assert!(held_by_me(&removed), "{removed}");

    assert_eq!(watcher.interrupt(), Some(130));
    drop(before);
}

#[test]
fn watch_lines_carry_the_time_the_sign_and_the_owner() {
    let (later, port) = bound_socket();
    let watcher = Watcher::start(&["--interval", "200ms", &port.to_string()]);
    later.listen(16).unwrap();
    let added = watcher.next_line();
    drop(later);
    let removed = watcher.next_line();
    for (line, sign) in [(&added, '+'), (&removed, '-')] {
        let words: Vec<&str> = line.split_whitespace().collect();
        let clock = words[0].as_bytes();
        assert!(
            clock.len() == 8 && clock[2] == b':' && clock[5] == b':',
            "{line}"
        );
        assert_eq!(words[1], sign.to_string(), "{line}");
        assert_eq!(
            words[2..5],
            ["tcp", "127.0.0.1", &port.to_string()],
            "{line}"
        );
        assert!(
            words[5].split(',').any(|pid| pid == me().to_string()),
            "{line}"
        );
        assert!(!line.contains('\x1b'), "no colour under NO_COLOR: {line}");
    }
    assert_eq!(watcher.interrupt(), Some(130));
}

#[test]
fn watch_keeps_the_owner_filters() {
    // Only sockets of a process by another name: the new listener is not reported.
    let (mine, port) = bound_socket();
    let filtered = Watcher::start(&[
        "--json",
        "--interval",
        "200ms",
        "--process",
        "no-such-process-name",
        &port.to_string(),
    ]);
    mine.listen(16).unwrap();
    // The listener is there for a watcher without the filter.
    let unfiltered = Watcher::start(&["--json", "--interval", "200ms", &port.to_string()]);
    let row: Value = serde_json::from_str(&unfiltered.next_line()).unwrap();
    assert_eq!(row["local_port"], port);
    assert!(
        filtered.lines.recv_timeout(Duration::from_secs(1)).is_err(),
        "nothing matched the owner filter"
    );
    assert_eq!(unfiltered.interrupt(), Some(130));
    assert_eq!(filtered.interrupt(), Some(130));
}

#[test]
fn watch_flags_are_checked() {
    for args in [
        &["ports", "--interval", "1s"][..],
        &["ports", "--watch", "--kill", "--yes"],
        &["ports", "--watch", "--by", "port"],
        &["ports", "-i", "--by", "remote"],
        &["ports", "--watch", "--interval", "soon"],
        &["ports", "--watch", "--interval", "0"],
        &["ports", "--watch", "--interval", "1ms"],
    ] {
        let output = sockx().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("sockx: error:"), "{args:?}: {stderr}");
    }
}

#[test]
fn watch_ends_quietly_when_its_reader_goes_away() {
    // As `sockx ports --watch | head -1`: nothing changes after the first line, yet it ends.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut child = StdCommand::new(sockx_path())
        .env_clear()
        .env("NO_COLOR", "1")
        .args(["ports", "--watch", "--json", &port])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["local_port"].to_string(), port);
    drop(stdout);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the watcher did not end");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    drop(listener);
}

#[test]
fn info_keeps_every_filter() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port().to_string();
    let _client = TcpStream::connect(addr).unwrap();
    let (_server, _) = listener.accept().unwrap();
    let pid = me().to_string();

    let established = ports_json(&["-i", "--state", "established", "--pid", &pid, &port]);
    assert_eq!(established.len(), 1, "{established:?}");
    assert_eq!(established[0]["state"], "ESTABLISHED");
    assert!(established[0]["tcp_info"]["cwnd"].as_u64() > Some(0));
    let listening = ports_json(&["-i", "-t", "-4", &port]);
    assert_eq!(listening.len(), 1, "{listening:?}");
    assert_eq!(listening[0]["state"], "LISTEN");
    assert!(ports_json(&["-i", "-u", &port]).is_empty());
    assert!(ports_json(&["-i", "-6", &port]).is_empty());
}

#[test]
fn watch_with_all_and_state_reports_a_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    // The client's port is known before it connects; bound, it is not ESTABLISHED yet.
    let (client, client_port) = bound_socket();
    let watcher = Watcher::start(&[
        "-a",
        "--state",
        "established",
        "--json",
        "--interval",
        "200ms",
        &client_port.to_string(),
    ]);
    client.connect(&server.into()).unwrap();
    let added: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(added["event"], "added", "{added}");
    assert_eq!(added["state"], "ESTABLISHED");
    assert_eq!(added["local_port"], client_port);
    assert_eq!(remote_of(&added), Some(server));
    assert!(held_by_me(&added), "{added}");

    drop(client);
    let removed: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(removed["event"], "removed", "{removed}");
    assert_eq!(removed["local_port"], client_port);
    assert_eq!(watcher.interrupt(), Some(130));
}

#[test]
fn watch_with_remote_reports_who_connects_there() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    let watcher = Watcher::start(&[
        "--json",
        "--interval",
        "200ms",
        "-r",
        &server.port().to_string(),
    ]);
    let client = TcpStream::connect(server).unwrap();
    let added: Value = serde_json::from_str(&watcher.next_line()).unwrap();
    assert_eq!(added["event"], "added", "{added}");
    assert_eq!(local_of(&added), client.local_addr().unwrap());
    assert_eq!(remote_of(&added), Some(server));
    assert!(held_by_me(&added), "{added}");
    assert_eq!(watcher.interrupt(), Some(130));
}

#[test]
fn watch_without_privileges_counts_the_hidden_owners() {
    let test = "watch_without_privileges_counts_the_hidden_owners";
    let as_nobody = || {
        let mut command = StdCommand::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(sockx_path())
            .env_clear()
            .env("NO_COLOR", "1");
        command
    };
    let runs = as_nobody()
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !common::is_root() || !runs {
        return common::skip(test, "needs root and setpriv to run sockx as another user");
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut child = as_nobody()
        .args(["ports", "--watch", &port])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (send, first) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(stderr.lines().next().and_then(Result::ok));
    });
    let line = first
        .recv_timeout(DEADLINE)
        .ok()
        .flatten()
        .unwrap_or_default();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(
        line.contains("1 socket has no known owner: its process belongs to another user"),
        "{line}"
    );
}
