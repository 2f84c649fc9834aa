//! `sockx listen`'s modes under trouble: an `--exec` child that does not read its input (the
//! graceful close, against curl), UDP `--echo` against forged and reflector datagrams, Ctrl-C
//! in UDP mode, running out of descriptors, `--hex` with `--echo`/`--exec`, and flags that
//! cannot go together.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::relay::{parse_ready_line, payload};
use common::{is_root, skip, sockx_path};

/// Long enough never to be hit unless something hangs.
const PATIENCE: Duration = Duration::from_secs(60);

/// A running `sockx listen` (possibly behind `sh -c 'ulimit …; exec …'`), its stderr
/// collected; killed when dropped.
struct Listen {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Listen {
    /// `sockx listen ARGS`, ready.
    fn start(args: &[&str]) -> Listen {
        Listen::spawn(Command::new(sockx_path()), args, None)
    }

    /// `sockx listen ARGS` with at most `limit` open descriptors.
    fn with_fd_limit(limit: u32, args: &[&str]) -> Listen {
        let mut command = Command::new("sh");
        command.args(["-c", &format!("ulimit -n {limit} && exec \"$0\" \"$@\"")]);
        command.arg(sockx_path());
        Listen::spawn(command, args, None)
    }

    /// With `port` given, the ready line is not awaited (`-q` prints none): the caller waits
    /// until the port answers.
    fn spawn(mut command: Command, args: &[&str], port: Option<u16>) -> Listen {
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .arg("listen")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("sockx starts");
        let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
        let mut first_line = String::new();
        let port = match port {
            Some(port) => port,
            None => {
                stderr.read_line(&mut first_line).expect("stderr");
                parse_ready_line(&first_line)
                    .unwrap_or_else(|| panic!("not a ready line: {first_line:?}"))
                    .1
            }
        };
        let log = Arc::new(Mutex::new(first_line));
        let sink = Arc::clone(&log);
        let reader = thread::spawn(move || {
            let mut line = String::new();
            while stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Listen {
            child,
            port,
            stderr: log,
            reader: Some(reader),
        }
    }

    /// Waits until stderr holds `needle`.
    fn wait_stderr(&self, needle: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.stderr.lock().unwrap().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} on stderr: {}",
                self.stderr.lock().unwrap()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Sends SIGINT (Ctrl-C) and returns the exit code (None: killed by the signal) and stderr.
    fn interrupt(self) -> (Option<i32>, String) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let pid = Pid::from_raw(self.child.id() as i32);
        kill(pid, Signal::SIGINT).expect("SIGINT");
        self.finish()
    }

    /// Waits for the exit; the exit code (None: killed by a signal) and stderr.
    fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("sockx did not exit");
            }
            thread::sleep(Duration::from_millis(10));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status.code(), self.stderr.lock().unwrap().clone())
    }

    /// Kills it and returns its stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        self.finish().1
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 2 MiB HTTP response in a file, for a child that writes it without reading its input.
fn http_response_file() -> tempfile::NamedTempFile {
    let body = payload(2 << 20, 7);
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    write!(
        file,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    file.write_all(&body).unwrap();
    file.flush().unwrap();
    file
}

/// curl POSTs `body` (which the child never reads) and must get the whole response.
fn curl_gets_it_all(port: u16, body: &std::path::Path, expected: usize) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60", "-o", "-", "--data-binary"])
        .arg(format!("@{}", body.display()))
        .arg(format!("http://127.0.0.1:{port}/"))
        .stdin(Stdio::null())
        .output()
        .expect("curl runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), expected, "curl got part of the response");
}

#[test]
fn exec_child_that_never_reads_still_delivers_every_byte_to_curl() {
    if !common::installed("curl") {
        return skip("exec_child_that_never_reads…", "curl is not installed");
    }
    let response = http_response_file();
    let body_len = 2 << 20;
    let mut request_body = tempfile::NamedTempFile::new().unwrap();
    request_body.write_all(&payload(256 * 1024, 3)).unwrap();
    let command = format!("cat {}", response.path().display());
    // One-shot: closing with the request unread used to reset the connection (curl: 56).
    for _ in 0..3 {
        let listen = Listen::start(&["127.0.0.1:0", "--exec", &command]);
        curl_gets_it_all(listen.port, request_body.path(), body_len);
        assert_eq!(listen.finish().0, Some(0));
    }
    // -k: every connection closes gracefully too.
    let listen = Listen::start(&["-k", "127.0.0.1:0", "--exec", &command]);
    for _ in 0..3 {
        curl_gets_it_all(listen.port, request_body.path(), body_len);
    }
}

#[test]
fn exec_connection_ends_when_the_child_exits_though_the_peer_keeps_sending() {
    let listen = Listen::start(&["-k", "127.0.0.1:0", "--exec", "head -c 5"]);
    let mut stream = TcpStream::connect(listen.addr()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    // More than the child reads: the rest is unread when it exits.
    stream.write_all(&payload(100_000, 1)).unwrap();
    let mut got = Vec::new();
    // The peer never closes its side: the child's exit alone ends the connection (EOF, no
    // reset).
    stream.read_to_end(&mut got).expect("EOF, not a reset");
    assert_eq!(got, payload(100_000, 1)[..5]);
}

/// Clients at once, each sending its own bytes and expecting exactly `reply(i, sent)`.
fn clients_at_once(
    addr: SocketAddr,
    count: usize,
    reply: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
) -> usize {
    let barrier = Arc::new(Barrier::new(count));
    let reply = Arc::new(reply);
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let reply = Arc::clone(&reply);
            thread::spawn(move || {
                let stream = TcpStream::connect(addr);
                // Everyone connected (most wait in the backlog) before anyone is done.
                barrier.wait();
                let mut stream = stream.ok()?;
                stream.set_read_timeout(Some(PATIENCE)).ok()?;
                let sent = payload(3000, i as u64);
                stream.write_all(&sent).ok()?;
                stream.shutdown(Shutdown::Write).ok()?;
                let mut got = Vec::new();
                stream.read_to_end(&mut got).ok()?;
                (got == reply(&sent)).then_some(())
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join())
        .filter(|joined| matches!(joined, Ok(Some(()))))
        .count()
}

fn warnings(stderr: &str) -> usize {
    stderr.matches("sockx: warning:").count()
}

#[test]
fn out_of_descriptors_echo_serves_every_client_and_warns_once() {
    let listen = Listen::with_fd_limit(32, &["-k", "--echo", "127.0.0.1:0"]);
    let served = clients_at_once(listen.addr(), 100, |sent| sent.to_vec());
    let stderr = listen.stop();
    assert_eq!(served, 100, "clients dropped; stderr: {stderr}");
    assert_eq!(warnings(&stderr), 1, "{stderr}");
}

#[test]
fn out_of_descriptors_exec_serves_every_client_and_warns_once() {
    let listen = Listen::with_fd_limit(32, &["-k", "-e", "cat", "127.0.0.1:0"]);
    let served = clients_at_once(listen.addr(), 40, |sent| sent.to_vec());
    let stderr = listen.stop();
    assert_eq!(served, 40, "clients dropped; stderr: {stderr}");
    assert!(warnings(&stderr) <= 1, "{stderr}");
}

#[test]
fn quiet_prints_no_warning_when_out_of_descriptors() {
    let port = common::relay::free_port();
    let mut command = Command::new("sh");
    command.args(["-c", "ulimit -n 24 && exec \"$0\" \"$@\""]);
    command.arg(sockx_path());
    let addr = format!("127.0.0.1:{port}");
    let listen = Listen::spawn(command, &["-q", "-k", "--echo", &addr], Some(port));
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(listen.addr()).is_err() {
        assert!(Instant::now() < deadline, "the listener never answered");
        thread::sleep(Duration::from_millis(20));
    }
    let served = clients_at_once(listen.addr(), 60, |sent| sent.to_vec());
    let stderr = listen.stop();
    assert_eq!(served, 60);
    assert_eq!(stderr, "", "-q printed something");
}

#[test]
fn echo_hex_dumps_both_directions() {
    let listen = Listen::start(&["--echo", "--hex", "127.0.0.1:0"]);
    let mut stream = TcpStream::connect(listen.addr()).unwrap();
    stream.write_all(b"hello echo").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    stream.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"hello echo");
    let (code, stderr) = listen.finish();
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("< received 10 bytes at offset 0"),
        "{stderr}"
    );
    assert!(stderr.contains("> sent 10 bytes at offset 0"), "{stderr}");
    assert!(stderr.contains("|hello echo|"), "{stderr}");
}

#[test]
fn exec_hex_dumps_both_directions_and_keeps_the_exec_semantics() {
    let listen = Listen::start(&["--sh-exec", "tr a-z A-Z; exit 4", "--hex", "127.0.0.1:0"]);
    let mut stream = TcpStream::connect(listen.addr()).unwrap();
    stream.write_all(b"shout this").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    stream.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"SHOUT THIS");
    let (code, stderr) = listen.finish();
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("< received 10 bytes at offset 0"),
        "{stderr}"
    );
    assert!(stderr.contains("> sent 10 bytes at offset 0"), "{stderr}");
    assert!(stderr.contains("|SHOUT THIS|"), "{stderr}");
}

#[test]
fn udp_with_exec_is_a_usage_error() {
    for flag in ["--exec", "--sh-exec"] {
        let output = common::sockx()
            .args(["listen", "-u", flag, "cat", "127.0.0.1:0"])
            .timeout(PATIENCE)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("sockx: error: "), "{stderr}");
        assert!(!stderr.contains("listening on"), "{stderr}");
    }
}

#[test]
fn udp_ctrl_c_exits_130_with_a_summary() {
    let listen = Listen::start(&["-u", "-v", "127.0.0.1:0"]);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.send_to(b"ping", listen.addr()).unwrap();
    // The datagram is in once -v has named its sender.
    listen.wait_stderr("(new peer)");
    let (code, stderr) = listen.interrupt();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("udp: received 1 datagram (4 B), sent 0 datagrams (0 B) in "),
        "{stderr}"
    );
}

/// The echo listener answers a normal client after the datagrams the test made it drop:
/// once that answer is back, they were processed (one socket, handled in order).
fn round_trip(listener: SocketAddr) {
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.send_to(b"normal", listener).unwrap();
    let mut buffer = [0u8; 64];
    let (n, from) = client.recv_from(&mut buffer).expect("the echo answers");
    assert_eq!((&buffer[..n], from), (&b"normal"[..], listener));
}

/// A UDP datagram with a forged source, sent through a raw socket (root only).
fn send_forged(from: SocketAddr, to: SocketAddr, data: &[u8]) -> std::io::Result<()> {
    use socket2::{Domain, Protocol, Socket, Type};
    let raw = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::UDP))?;
    let SocketAddr::V4(source) = from else {
        panic!("IPv4 only");
    };
    // IP_HDRINCL: we write the IP header too, so the source address is ours to choose.
    raw.set_header_included_v4(true)?;
    let total = 20 + 8 + data.len();
    let mut packet = Vec::with_capacity(total);
    packet.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0, 0, 64, 17]);
    packet.extend_from_slice(&[0, 0]); // header checksum: filled in by the kernel
    packet.extend_from_slice(&source.ip().octets());
    let SocketAddr::V4(dest) = to else {
        panic!("IPv4 only");
    };
    packet.extend_from_slice(&dest.ip().octets());
    let udp_len = 8 + data.len();
    packet.extend_from_slice(&source.port().to_be_bytes());
    packet.extend_from_slice(&dest.port().to_be_bytes());
    packet.extend_from_slice(&(udp_len as u16).to_be_bytes());
    packet.extend_from_slice(&[0, 0]); // no UDP checksum (allowed over IPv4)
    packet.extend_from_slice(data);
    raw.send_to(&packet, &to.into())?;
    Ok(())
}

#[test]
fn udp_echo_never_answers_its_own_address() {
    if !is_root() {
        return skip(
            "udp_echo_never_answers_its_own_address",
            "a forged datagram needs a raw socket (root)",
        );
    }
    let listen = Listen::start(&["-u", "--echo", "-v", "127.0.0.1:0"]);
    // One datagram "from" the listener itself: answered, it would answer itself forever.
    send_forged(listen.addr(), listen.addr(), b"loop").expect("raw socket");
    listen.wait_stderr("not answering");
    round_trip(listen.addr());
    let (code, stderr) = listen.interrupt();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("it comes from our own address"), "{stderr}");
    assert!(
        stderr.contains("received 2 datagrams (10 B), sent 1 datagram (6 B) in "),
        "{stderr}"
    );
    assert!(stderr.contains("; 1 not answered"), "{stderr}");
}

#[test]
fn two_udp_echo_listeners_do_not_ping_pong() {
    if !is_root() {
        return skip(
            "two_udp_echo_listeners_do_not_ping_pong",
            "port 7 and a forged datagram need root",
        );
    }
    // An echo service on port 7 (the reflector port) and another on a free port.
    let Ok(free) = UdpSocket::bind("127.0.0.1:7") else {
        return skip("two_udp_echo_listeners_do_not_ping_pong", "port 7 is taken");
    };
    drop(free);
    let seven = Listen::start(&["-u", "--echo", "-v", "127.0.0.1:7"]);
    let other = Listen::start(&["-u", "--echo", "-v", "127.0.0.1:0"]);
    // One forged datagram to port 7 "from" the other echo listener.
    send_forged(other.addr(), seven.addr(), b"pong").expect("raw socket");
    // Port 7 answers it once; the other does not answer port 7.
    other.wait_stderr("not answering");
    round_trip(seven.addr());
    round_trip(other.addr());
    let (code, seven_log) = seven.interrupt();
    assert_eq!(code, Some(130));
    let (code, other_log) = other.interrupt();
    assert_eq!(code, Some(130));
    assert!(
        seven_log.contains("received 2 datagrams (10 B), sent 2 datagrams (10 B)"),
        "{seven_log}"
    );
    assert!(
        other_log.contains("received 2 datagrams (10 B), sent 1 datagram (6 B)"),
        "{other_log}"
    );
    assert!(
        other_log.contains("not answering 127.0.0.1:7: it comes from port 7"),
        "{other_log}"
    );
}

#[test]
fn udp_echo_does_not_answer_reflector_ports() {
    if !is_root() {
        return skip(
            "udp_echo_does_not_answer_reflector_ports",
            "binding ports 53 and 123 needs root",
        );
    }
    let listen = Listen::start(&["-u", "--echo", "-v", "127.0.0.1:0"]);
    let mut sent = 0;
    for port in [53, 123] {
        let Ok(socket) = UdpSocket::bind(("127.0.0.1", port)) else {
            continue;
        };
        socket.send_to(b"reflect", listen.addr()).unwrap();
        sent += 1;
        listen.wait_stderr(&format!("not answering 127.0.0.1:{port}"));
    }
    if sent == 0 {
        return skip(
            "udp_echo_does_not_answer_reflector_ports",
            "ports 53 and 123 are taken",
        );
    }
    round_trip(listen.addr());
    let (code, stderr) = listen.interrupt();
    assert_eq!(code, Some(130));
    assert!(stderr.contains("sent 1 datagram (6 B) in "), "{stderr}");
    assert!(
        stderr.contains(&format!("; {sent} not answered")),
        "{stderr}"
    );
}
