//! `sockx listen`'s served modes against real peers on loopback: keep-open, echo, exec,
//! access control, connection limits, UDP, idle timeouts and bind errors.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{is_root, skip, sockx_path};

/// Long enough never to be hit unless something hangs.
const PATIENCE: Duration = Duration::from_secs(20);

/// A running `sockx listen`, its port read from the ready line; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(sockx_path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .arg("listen")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sockx starts");
        let stdin = child.stdin.take();
        let mut stdout_pipe = child.stdout.take().unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stdout);
        thread::spawn(move || {
            let mut buffer = [0u8; 65536];
            while let Ok(n) = stdout_pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        let mut lines = BufReader::new(child.stderr.take().unwrap());
        let mut ready = String::new();
        lines.read_line(&mut ready).unwrap();
        let port = ready
            .trim()
            .strip_prefix("listening on ")
            .and_then(|rest| rest.rsplit_once(' '))
            .and_then(|(addr, _)| addr.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("not a ready line: {ready:?}"))
            .port();
        let stderr = Arc::new(Mutex::new(ready));
        let log = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut line = String::new();
            while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
                log.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Server {
            child,
            port,
            stdin,
            stdout,
            stderr,
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr()).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn stdout(&self) -> Vec<u8> {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits until `done` holds for stderr (or fails the test after PATIENCE).
    fn wait_stderr(&self, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(&self.stderr()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; stderr so far: {:?}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until stdout holds at least `len` bytes.
    fn wait_stdout(&self, len: usize) -> Vec<u8> {
        wait_for(&format!("{len} bytes on stdout"), || {
            self.stdout.lock().unwrap().len() >= len
        });
        self.stdout()
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the exit code (None: killed by a signal).
    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads take the last output.
                thread::sleep(Duration::from_millis(50));
                return status.code();
            }
            assert!(Instant::now() < deadline, "sockx did not exit");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    stream.read_to_end(&mut received).expect("reads to EOF");
    received
}

/// PIDs of the live (or zombie) children of `pid`, from /proc.
fn children_of(pid: u32) -> Vec<(u32, char)> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(1).and_then(|ppid| ppid.parse::<u32>().ok()) == Some(pid) {
            children.push((child, fields[0].chars().next().unwrap_or('?')));
        }
    }
    children
}

/// Inodes of the established TCP sockets on local `port`.
fn established_inodes(port: u16) -> Vec<String> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields[1].rsplit_once(':').unwrap().1;
            if u16::from_str_radix(local_port, 16).unwrap() == port && fields[3] == "01" {
                inodes.push(fields[9].to_string());
            }
        }
    }
    inodes
}

/// The socket inodes `pid` holds open.
fn socket_fds(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().to_string();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn keep_open_serves_200_concurrent_clients_without_interleaving() {
    let mut server = Server::start(&["-k", "127.0.0.1:0"]);
    // No stdin (as under nohup or cron): each client's session ends with its FIN.
    drop(server.stdin.take());
    const CLIENTS: usize = 200;
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let message = |i: usize| -> Vec<u8> {
        let mut text = format!("<client {i:03} ");
        while text.len() < 3000 {
            text.push_str(&format!("{i:03}-"));
        }
        text.push_str(">\n");
        text.into_bytes()
    };
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let addr = server.addr();
            let data = message(i);
            thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                barrier.wait();
                stream.write_all(&data).unwrap();
                stream.shutdown(Shutdown::Write).unwrap();
                // The server closes once it has everything.
                stream.set_read_timeout(Some(PATIENCE)).unwrap();
                let _ = read_all(&mut stream);
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let total: usize = (0..CLIENTS).map(|i| message(i).len()).sum();
    let stdout = server.wait_stdout(total);
    assert_eq!(stdout.len(), total);
    let text = String::from_utf8(stdout).unwrap();
    for i in 0..CLIENTS {
        let whole = String::from_utf8(message(i)).unwrap();
        assert!(
            text.contains(&whole),
            "client {i}'s data is split or missing"
        );
    }
}

#[test]
fn keep_open_broadcasts_stdin_and_half_closes_at_its_end() {
    let mut server = Server::start(&["-k", "-v", "127.0.0.1:0"]);
    let mut clients: Vec<TcpStream> = (0..3).map(|_| server.connect()).collect();
    server.wait_stderr("three connections", |log| {
        log.matches("connection from").count() == 3
    });
    let mut stdin = server.stdin.take().unwrap();
    stdin.write_all(b"to everyone\n").unwrap();
    stdin.flush().unwrap();
    drop(stdin);
    for client in &mut clients {
        // Everything stdin had, then EOF (stdin's end half-closed our side)...
        assert_eq!(read_all(client), b"to everyone\n");
        // ...while the client can still talk to us.
        client.write_all(b"still heard\n").unwrap();
    }
    server.wait_stdout(3 * "still heard\n".len());
    assert!(server.is_running());
}

#[test]
fn a_client_that_resets_does_not_take_the_listener_down() {
    let mut server = Server::start(&["-k", "127.0.0.1:0"]);
    // No stdin (as under nohup or cron): each client's session ends with its FIN.
    drop(server.stdin.take());
    let rude = server.connect();
    let mut rude_writer = &rude;
    rude_writer.write_all(b"partial ").unwrap();
    socket2::SockRef::from(&rude)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(rude); // RST
    let silent = server.connect();
    drop(silent);
    let mut polite = server.connect();
    polite.write_all(b"after the reset\n").unwrap();
    polite.shutdown(Shutdown::Write).unwrap();
    let _ = read_all(&mut polite);
    wait_for("the polite client's data", || {
        String::from_utf8_lossy(&server.stdout()).contains("after the reset\n")
    });
    assert!(server.is_running(), "the listener died");
}

#[test]
fn echo_returns_every_byte_then_exits_after_one_connection() {
    let mut server = Server::start(&["--echo", "127.0.0.1:0"]);
    let data: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut stream = server.connect();
    let writer_stream = stream.try_clone().unwrap();
    let sent = data.clone();
    let writer = thread::spawn(move || {
        let mut writer_stream = writer_stream;
        writer_stream.write_all(&sent).unwrap();
        writer_stream.shutdown(Shutdown::Write).unwrap();
    });
    let back = read_all(&mut stream);
    writer.join().unwrap();
    assert!(
        back == data,
        "echoed bytes differ ({} of {})",
        back.len(),
        data.len()
    );
    assert_eq!(server.wait_exit(), Some(0));
    assert!(server.stdout().is_empty(), "echo wrote to stdout");
}

#[test]
fn echo_keep_open_serves_clients_at_once() {
    let server = Server::start(&["-k", "--echo", "127.0.0.1:0"]);
    let addr = server.addr();
    let clients: Vec<_> = (0..20u8)
        .map(|i| {
            thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream.set_read_timeout(Some(PATIENCE)).unwrap();
                let data = vec![i; 100_000];
                let mut writer = stream.try_clone().unwrap();
                let sent = data.clone();
                let send = thread::spawn(move || {
                    writer.write_all(&sent).unwrap();
                    writer.shutdown(Shutdown::Write).unwrap();
                });
                let back = read_all(&mut stream);
                send.join().unwrap();
                assert!(back == data, "client {i} got other bytes back");
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
}

#[test]
fn udp_echo_answers_each_datagram_to_its_sender() {
    let server = Server::start(&["-u", "--echo", "127.0.0.1:0"]);
    assert!(server.stderr().contains("(udp)"));
    let sockets: Vec<UdpSocket> = (0..2)
        .map(|_| {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_read_timeout(Some(PATIENCE)).unwrap();
            socket
        })
        .collect();
    for (i, socket) in sockets.iter().enumerate() {
        let message = format!("ping {i}");
        socket.send_to(message.as_bytes(), server.addr()).unwrap();
        let mut buffer = [0u8; 64];
        let (n, from) = socket.recv_from(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], message.as_bytes());
        assert_eq!(from, server.addr());
    }
}

#[test]
fn udp_listen_prints_datagrams_and_answers_the_most_recent_peer() {
    let mut server = Server::start(&["-u", "-v", "127.0.0.1:0"]);
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    for socket in [&a, &b] {
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
    }
    a.send_to(b"from a\n", server.addr()).unwrap();
    server.wait_stdout(7);
    b.send_to(b"from b\n", server.addr()).unwrap();
    assert_eq!(server.wait_stdout(14), b"from a\nfrom b\n");
    let mut stdin = server.stdin.take().unwrap();
    stdin.write_all(b"reply\n").unwrap();
    stdin.flush().unwrap();
    let mut buffer = [0u8; 64];
    let (n, _) = b.recv_from(&mut buffer).unwrap();
    assert_eq!(&buffer[..n], b"reply\n");
    server.wait_stderr("new-peer lines", |log| {
        log.matches("(new peer)").count() == 2
    });
    assert!(
        server
            .stderr()
            .contains(&a.local_addr().unwrap().to_string())
    );
}

#[test]
fn exec_splits_words_and_delivers_the_output() {
    let mut server = Server::start(&["-e", "printf '%s|%s' 'a b' c", "127.0.0.1:0"]);
    let mut stream = server.connect();
    assert_eq!(read_all(&mut stream), b"a b|c");
    assert_eq!(server.wait_exit(), Some(0));
}

#[test]
fn sh_exec_gets_the_environment_and_the_peers_eof() {
    let mut server = Server::start(&[
        "--sh-exec",
        "echo \"$SOCKX_PEER_ADDR $SOCKX_PEER_PORT $SOCKX_LOCAL_ADDR $SOCKX_LOCAL_PORT\"; wc -c",
        "127.0.0.1:0",
    ]);
    let mut stream = server.connect();
    stream.write_all(b"12345").unwrap();
    // wc only answers once it sees EOF on its stdin.
    stream.shutdown(Shutdown::Write).unwrap();
    let reply = String::from_utf8(read_all(&mut stream)).unwrap();
    let local = stream.local_addr().unwrap();
    let expected = format!(
        "{} {} 127.0.0.1 {}\n5\n",
        local.ip(),
        local.port(),
        server.port
    );
    assert_eq!(reply, expected);
    assert_eq!(server.wait_exit(), Some(0));
}

#[test]
fn exec_exit_status_is_the_childs() {
    let mut server = Server::start(&["--sh-exec", "exit 3", "127.0.0.1:0"]);
    let _stream = server.connect();
    assert_eq!(server.wait_exit(), Some(3));
}

#[test]
fn exec_keep_open_closes_each_connection_and_reaps_children() {
    let server = Server::start(&["-k", "-v", "-e", "cat", "127.0.0.1:0"]);
    let mut held = server.connect();
    server.wait_stderr("the child to start", |log| log.contains("started cat"));
    held.write_all(b"round trip").unwrap();
    let mut buffer = [0u8; 10];
    held.read_exact(&mut buffer).unwrap();
    assert_eq!(&buffer, b"round trip");
    held.shutdown(Shutdown::Write).unwrap();
    assert!(read_all(&mut held).is_empty());
    for _ in 0..5 {
        let mut stream = server.connect();
        stream.write_all(b"x").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_all(&mut stream), b"x");
    }
    server.wait_stderr("six children to end", |log| {
        log.matches("exited with 0").count() == 6
    });
    wait_for("no children left (zombies included)", || {
        children_of(server.pid()).is_empty()
    });
    // sockx keeps a descriptor of each connection only for its graceful close: once both
    // sides have closed, it holds none of them.
    wait_for("no connection socket left in sockx", || {
        let ours = socket_fds(server.pid());
        established_inodes(server.port)
            .iter()
            .all(|inode| !ours.contains(inode))
    });
    drop(held);
}

#[test]
fn exec_that_cannot_start_is_one_error_line() {
    let output = common::sockx()
        .args(["listen", "-e", "sockx-no-such-program", "127.0.0.1:0"])
        .timeout(PATIENCE)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("sockx: error: cannot run 'sockx-no-such-program'"));
    assert!(
        !stderr.contains("listening on"),
        "listened before checking: {stderr}"
    );
    let output = common::sockx()
        .args(["listen", "-e", "echo 'unclosed", "127.0.0.1:0"])
        .timeout(PATIENCE)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("sockx: error: "));
}

#[test]
fn max_conns_closes_the_rest_at_once() {
    let mut server = Server::start(&["-k", "-v", "-m", "1", "127.0.0.1:0"]);
    // No stdin (as under nohup or cron): each client's session ends with its FIN.
    drop(server.stdin.take());
    let mut first = server.connect();
    server.wait_stderr("the first connection", |log| {
        log.contains("connection from")
    });
    let mut second = server.connect();
    let refused = read_all_or_reset(&mut second);
    assert!(refused.is_empty());
    server.wait_stderr("the refusal", |log| log.contains("--max-conns 1"));
    assert!(
        server
            .stderr()
            .contains(": 1 connection already open (--max-conns 1)"),
        "{}",
        server.stderr()
    );
    first.write_all(b"first still served\n").unwrap();
    server.wait_stdout(19);
    // Once the first leaves, there is room again.
    first.shutdown(Shutdown::Write).unwrap();
    drop(first);
    server.wait_stderr("the first to end", |log| log.contains("closed:"));
    let mut third = server.connect();
    third.write_all(b"third\n").unwrap();
    third.shutdown(Shutdown::Write).unwrap();
    let _ = read_all_or_reset(&mut third);
    wait_for("the third client's data", || {
        String::from_utf8_lossy(&server.stdout()).contains("third\n")
    });
}

/// Reads to EOF; a reset counts as the end too (a refused connection may be either).
fn read_all_or_reset(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    received
}

#[test]
fn deny_refuses_and_allow_accepts_ipv4_on_the_dual_stack_socket() {
    // Port 0 with no host: the dual-stack [::] socket, where IPv4 peers are IPv4-mapped.
    let denied = Server::start(&["-k", "-v", "--echo", "--deny", "127.0.0.0/8", "0"]);
    let mut stream = denied.connect();
    let _ = stream.write_all(b"hello?");
    assert!(read_all_or_reset(&mut stream).is_empty());
    denied.wait_stderr("the refusal", |log| {
        log.contains("refused 127.0.0.1:") && log.contains("--deny 127.0.0.0/8")
    });

    let allowed = Server::start(&["-k", "--echo", "--allow", "127.0.0.1/32", "0"]);
    let mut stream = allowed.connect();
    stream.write_all(b"hello").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut stream), b"hello");

    let not_listed = Server::start(&["-k", "-v", "--echo", "--allow", "10.0.0.0/8", "0"]);
    let mut stream = not_listed.connect();
    assert!(read_all_or_reset(&mut stream).is_empty());
    not_listed.wait_stderr("the refusal", |log| log.contains("not in any --allow"));
}

#[test]
fn idle_timeout_closes_a_silent_connection() {
    let mut server = Server::start(&["-k", "-v", "-w", "300ms", "127.0.0.1:0"]);
    let mut silent = server.connect();
    // EOF from the server, without the client doing anything.
    assert!(read_all_or_reset(&mut silent).is_empty());
    server.wait_stderr("the idle line", |log| log.contains("idle timeout"));
    assert!(server.is_running());

    let mut echo = Server::start(&["--echo", "-w", "300ms", "127.0.0.1:0"]);
    let mut silent = echo.connect();
    assert!(read_all_or_reset(&mut silent).is_empty());
    assert_eq!(echo.wait_exit(), Some(0));
}

#[test]
fn address_in_use_names_the_holder() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap();
    let output = common::sockx()
        .args(["listen", &addr.to_string()])
        .timeout(PATIENCE)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!("sockx: error: cannot listen on {addr}: address already in use")
    );
    assert!(
        lines[1].starts_with("hint: held by ")
            && lines[1].contains(&format!("(pid {}", std::process::id())),
        "{stderr}"
    );
}

#[test]
fn privileged_port_without_privilege_says_so() {
    if !is_root() {
        skip(
            "privileged_port_without_privilege_says_so",
            "needs root to drop to nobody",
        );
        return;
    }
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|text| text.trim().parse::<u16>().ok())
        .unwrap_or(1024);
    if start <= 80 {
        skip(
            "privileged_port_without_privilege_says_so",
            "port 80 is not privileged on this host",
        );
        return;
    }
    let as_nobody = || {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .arg(sockx_path())
            .env_clear();
        command
    };
    // First make sure nobody can run the binary at all (setpriv present, the binary's
    // directories searchable): only then is a "Permission denied" from sockx the regression.
    let runs = as_nobody().arg("--version").output();
    if !runs.as_ref().is_ok_and(|output| output.status.success()) {
        let why = match &runs {
            Ok(output) => String::from_utf8_lossy(&output.stderr).trim().to_string(),
            Err(err) => format!("no setpriv: {err}"),
        };
        skip(
            "privileged_port_without_privilege_says_so",
            &format!("cannot run the binary as nobody: {why}"),
        );
        return;
    }
    let output = as_nobody()
        .args(["listen", "127.0.0.1:80"])
        .output()
        .expect("setpriv ran a moment ago");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("privileged"), "{stderr}");
    assert!(stderr.contains("CAP_NET_BIND_SERVICE"), "{stderr}");
}

#[test]
fn idle_timeout_ends_an_exec_command_that_does_no_io() {
    let server = Server::start(&["-k", "-v", "-w", "1s", "-e", "cat", "127.0.0.1:0"]);
    let mut stream = server.connect();
    // Traffic keeps the command alive past the timeout...
    let started = Instant::now();
    let mut byte = [0u8; 1];
    while started.elapsed() < Duration::from_millis(1500) {
        stream.write_all(b"k").unwrap();
        stream.read_exact(&mut byte).unwrap();
        assert_eq!(&byte, b"k");
        thread::sleep(Duration::from_millis(50));
    }
    // ...and silence ends it: the peer sees the connection close.
    assert!(read_all_or_reset(&mut stream).is_empty());
    server.wait_stderr("the idle line", |log| {
        log.contains("killed after the idle timeout")
    });
    wait_for("cat to be reaped", || children_of(server.pid()).is_empty());
}

#[test]
fn ctrl_c_prints_every_open_connections_summary_with_v() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let mut server = Server::start(&["-k", "-v", "127.0.0.1:0"]);
    let _quiet = server.connect();
    let mut talker = server.connect();
    talker.write_all(b"hi\n").unwrap();
    server.wait_stdout(3);
    server.wait_stderr("two connections", |log| {
        log.matches("connection from").count() == 2
    });
    kill(Pid::from_raw(server.pid() as i32), Signal::SIGINT).unwrap();
    assert_eq!(server.wait_exit(), Some(130));
    // The reader thread may still be taking the last lines after the exit.
    server.wait_stderr("both summaries", |log| {
        log.matches(" interrupted: ").count() >= 2
    });
    let log = server.stderr();
    assert_eq!(log.matches(" interrupted: ").count(), 2, "{log}");
    assert!(log.contains("received 3 B"), "{log}");

    let mut echo = Server::start(&["--echo", "-v", "127.0.0.1:0"]);
    let mut client = echo.connect();
    client.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    client.read_exact(&mut back).unwrap();
    kill(Pid::from_raw(echo.pid() as i32), Signal::SIGINT).unwrap();
    assert_eq!(echo.wait_exit(), Some(130));
    echo.wait_stderr("the summary", |log| log.contains(" interrupted: "));
    let log = echo.stderr();
    assert!(log.contains(" interrupted: "), "{log}");
    assert!(log.contains("received 4 B"), "{log}");
}

#[test]
fn keep_open_resets_clients_that_stop_reading_and_serves_the_rest() {
    const READERS: usize = 17;
    const STALLED: usize = 3;
    let mut server = Server::start(&["-k", "-v", "127.0.0.1:0"]);
    let data = common::relay::payload(4 << 20, 31);
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let mut stream = server.connect();
            let len = data.len();
            thread::spawn(move || {
                let mut got = vec![0u8; len];
                stream.read_exact(&mut got).map(|()| (got, stream))
            })
        })
        .collect();
    let mut stalled: Vec<TcpStream> = (0..STALLED).map(|_| server.connect()).collect();
    server.wait_stderr("every connection", |log| {
        log.matches("connection from").count() == READERS + STALLED
    });
    // Stdin stays open after the data: only the slow-client rule can end the stalled ones.
    let mut stdin = server.stdin.take().unwrap();
    stdin.write_all(&data).unwrap();
    stdin.flush().unwrap();

    let mut kept = Vec::new();
    for reader in readers {
        let (got, stream) = reader.join().unwrap().expect("a reader gets all of stdin");
        assert!(got == data, "a reader's bytes differ");
        kept.push(stream);
    }
    server.wait_stderr("the stalled clients' disconnection", |log| {
        log.matches(" too slow to take stdin: ").count() == STALLED
    });
    for stream in &mut stalled {
        // What reached its receive buffer, then the end (a reset); never a read that waits.
        let mut sink = [0u8; 64 << 10];
        loop {
            match stream.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(err) => panic!("a stalled client is still connected: {err}"),
            }
        }
    }
    let log = server.stderr();
    assert_eq!(
        log.matches(" too slow to take stdin: ").count(),
        STALLED,
        "{log}"
    );
    assert!(server.is_running());
    drop(stdin);
}

#[test]
fn keep_open_sends_stdin_to_a_client_that_half_closed_until_stdin_ends() {
    if !common::installed("socat") {
        return skip(
            "keep_open_sends_stdin_to_a_client_that_half_closed_until_stdin_ends",
            "socat is not installed",
        );
    }
    let mut server = Server::start(&["-k", "-v", "127.0.0.1:0"]);
    // socat's stdin is /dev/null: it half-closes at once, then prints what it receives.
    let socat = Command::new("socat")
        .args([
            "-t",
            "30",
            "STDIO",
            &format!("TCP:127.0.0.1:{}", server.port),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut socat = common::relay::Peer { child: socat };
    server.wait_stderr("the connection", |log| log.contains("connection from"));
    let feeder =
        common::relay::feed_slowly(server.stdin.take().unwrap(), 5, Duration::from_millis(200));
    let mut received = Vec::new();
    socat
        .child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut received)
        .unwrap();
    feeder.join().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&received),
        String::from_utf8_lossy(&common::relay::chunk_lines(5))
    );
    server.wait_stderr("the session's end", |log| log.contains(" closed: "));
    assert!(server.is_running());
}

#[test]
fn keep_open_recv_only_ends_each_session_with_its_client() {
    let mut server = Server::start(&["-k", "--recv-only", "127.0.0.1:0"]);
    let mut stdin = server.stdin.take().unwrap();
    stdin.write_all(b"never sent\n").unwrap();
    stdin.flush().unwrap();
    let mut client = server.connect();
    client.write_all(b"upload\n").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    // Stdin stays open, yet the session ends with the client's FIN, and nothing was sent.
    assert_eq!(read_all(&mut client), b"");
    server.wait_stdout(7);
    assert_eq!(server.stdout(), b"upload\n");
    assert!(server.is_running());
    drop(stdin);
}
