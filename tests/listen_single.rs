//! `sockx listen` in its default mode: one TCP connection relayed to stdin/stdout.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use common::installed;
use common::relay::{
    Peer, Running, assert_one_error_line, chunk_lines, feed_slowly, payload, sockx_command,
    start_listen, start_listen_with,
};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn ready_line_names_the_real_port() {
    let listener = start_listen(&["127.0.0.1:0"]);
    assert_ne!(listener.port, 0);
    assert_eq!(listener.addr, format!("127.0.0.1:{}", listener.port));
    assert_eq!(
        listener.running.early_stderr,
        format!("listening on 127.0.0.1:{} (tcp)\n", listener.port)
    );
    listener.running.kill();
}

#[test]
fn large_payloads_cross_both_ways_unchanged() {
    let mut listener = start_listen(&["127.0.0.1:0"]);
    let to_client = payload(32 << 20, 11);
    let from_client = payload(32 << 20, 12);
    let feeder = listener.running.feed(to_client.clone());

    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let upload = from_client.clone();
    let sender = thread::spawn(move || {
        writer.write_all(&upload).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut received = Vec::new();
    stream.read_to_end(&mut received).unwrap();
    sender.join().unwrap();
    feeder.join().unwrap();

    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert!(received == to_client, "client got {} bytes", received.len());
    assert!(
        done.stdout == from_client,
        "stdout got {} bytes",
        done.stdout.len()
    );
}

#[test]
fn a_terminal_on_stdin_ends_the_session_when_the_sender_is_done() {
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let listener = start_listen_with(&["127.0.0.1:0"], Stdio::from(pty.slave));
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    stream.write_all(b"file contents\n").unwrap();
    drop(stream);
    // Nobody types on the terminal: `sockx listen > file` still ends with the sender.
    let done = listener.running.finish(LIMIT);
    drop(pty.master);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"file contents\n");
}

#[test]
fn a_listener_without_stdin_gets_every_chunk_of_a_slow_sender() {
    // The reproduction: `sockx listen </dev/null >out` and a `sockx connect` fed by a
    // loop that pauses between lines.
    let listener = start_listen_with(&["127.0.0.1:0"], Stdio::null());
    let mut sender = Running::start(sockx_command(&["connect", &listener.addr]));
    let feeder = feed_slowly(sender.stdin.take().unwrap(), 5, Duration::from_millis(200));
    let sent = sender.finish(LIMIT);
    feeder.join().unwrap();
    let done = listener.running.finish(LIMIT);
    assert_eq!(sent.code(), 0, "connect: {}", sent.stderr);
    assert_eq!(done.code(), 0, "listen: {}", done.stderr);
    assert_eq!(
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&chunk_lines(5))
    );
}

#[test]
fn nc_sends_every_chunk_of_a_slow_pipe() {
    if !installed("nc") {
        return common::skip("nc_sends_every_chunk_of_a_slow_pipe", "nc is not installed");
    }
    let listener = start_listen_with(&["127.0.0.1:0"], Stdio::null());
    let mut nc = Command::new("nc")
        .args(["-N", "127.0.0.1", &listener.port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let feeder = feed_slowly(nc.stdin.take().unwrap(), 5, Duration::from_millis(200));
    let _nc = Peer { child: nc };
    let done = listener.running.finish(LIMIT);
    feeder.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&chunk_lines(5))
    );
}

#[test]
fn a_socat_client_that_half_closed_gets_every_chunk_of_stdin() {
    if !installed("socat") {
        return common::skip(
            "a_socat_client_that_half_closed_gets_every_chunk_of_stdin",
            "socat is not installed",
        );
    }
    let mut listener = start_listen(&["127.0.0.1:0"]);
    // socat's stdin is /dev/null: it half-closes at once, then prints what it receives.
    let socat = Command::new("socat")
        .args([
            "-t",
            "30",
            "STDIO",
            &format!("TCP:127.0.0.1:{}", listener.port),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut socat = Peer { child: socat };
    let feeder = feed_slowly(
        listener.running.stdin.take().unwrap(),
        5,
        Duration::from_millis(200),
    );
    let mut received = Vec::new();
    socat
        .child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut received)
        .unwrap();
    feeder.join().unwrap();
    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        String::from_utf8_lossy(&received),
        String::from_utf8_lossy(&chunk_lines(5))
    );
}

#[test]
fn recv_only_ends_with_the_sender_and_sends_nothing() {
    let mut listener = start_listen(&["--recv-only", "127.0.0.1:0"]);
    let mut stdin = listener.running.stdin.take().unwrap();
    stdin.write_all(b"never sent\n").unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    stream.write_all(b"upload\n").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).unwrap();
    let done = listener.running.finish(LIMIT);
    drop(stdin);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"upload\n");
    assert_eq!(got, b"");
}

#[test]
fn reset_while_sending_is_exit_1_with_the_error() {
    let mut listener = start_listen(&["127.0.0.1:0"]);
    let feeder = listener.running.feed(payload(32 << 20, 21));
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    // A client with nothing to say half-closes, reads 256 KiB at its pace, then resets.
    stream.shutdown(Shutdown::Write).unwrap();
    let mut piece = vec![0u8; 16 << 10];
    for _ in 0..16 {
        if stream.read_exact(&mut piece).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
    let done = listener.running.finish(LIMIT);
    feeder.join().unwrap();
    assert_eq!(done.code(), 1, "stderr: {}", done.stderr);
    let error = done.stderr.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_one_error_line(&error);
    assert!(error.contains("lost: connection reset by peer"), "{error}");
}

#[test]
fn a_client_killed_mid_download_is_exit_1_with_the_error() {
    if !installed("socat") {
        return common::skip(
            "a_client_killed_mid_download_is_exit_1_with_the_error",
            "socat is not installed",
        );
    }
    let mut listener = start_listen(&["127.0.0.1:0"]);
    let feeder = listener.running.feed(payload(32 << 20, 22));
    // socat half-closes at once and writes what it receives to a pipe nobody reads.
    let socat = Command::new("socat")
        .args([
            "-t",
            "60",
            "STDIO",
            &format!("TCP:127.0.0.1:{}", listener.port),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut socat = Peer { child: socat };
    // Once 256 KiB have arrived, the client is mid-download (and long past its half-close).
    let mut first = vec![0u8; 256 << 10];
    socat
        .child
        .stdout
        .take()
        .unwrap()
        .read_exact(&mut first)
        .expect("socat passes on what it receives");
    socat.child.kill().unwrap();
    let done = listener.running.finish(LIMIT);
    feeder.join().unwrap();
    assert_eq!(done.code(), 1, "stderr: {}", done.stderr);
    let error = done.stderr.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_one_error_line(&error);
    assert!(error.contains("lost: connection reset by peer"), "{error}");
}

#[test]
fn half_close_lets_the_client_answer() {
    let mut listener = start_listen(&["127.0.0.1:0"]);
    listener.running.feed(b"question".to_vec());
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    let mut question = Vec::new();
    stream.read_to_end(&mut question).unwrap();
    stream.write_all(b"answer to ").unwrap();
    stream.write_all(&question).unwrap();
    drop(stream);
    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"answer to question");
}

#[test]
fn dual_stack_by_default() {
    let listener = start_listen_with(&["-v", "0"], Stdio::null());
    // 0.0.0.0 is right only where the host has no IPv6 at all; elsewhere it is the defect.
    let has_ipv6 = TcpListener::bind("[::]:0").is_ok();
    if !has_ipv6 {
        common::skip("dual_stack_by_default", "no IPv6: bound to 0.0.0.0");
        assert!(listener.addr.starts_with("0.0.0.0:"), "{}", listener.addr);
        listener.running.kill();
        return;
    }
    if !listener.addr.starts_with("[::]:") {
        let addr = listener.addr.clone();
        listener.running.kill();
        panic!("IPv6 is available but sockx listened on {addr}");
    }
    // Reached over IPv4 although bound to [::].
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    stream.write_all(b"v4 client").unwrap();
    drop(stream);
    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"v4 client");
    // Shown as IPv4, not as ::ffff:127.0.0.1.
    assert!(
        done.stderr.contains("connection from 127.0.0.1:"),
        "{}",
        done.stderr
    );
}

#[test]
fn quiet_prints_nothing_on_stderr() {
    let port = common::relay::free_port();
    let mut command = sockx_command(&["listen", "-q", &format!("127.0.0.1:{port}")]);
    command.stdin(Stdio::null());
    let running = Running::start(command);
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    };
    stream.write_all(b"quiet").unwrap();
    drop(stream);
    let done = running.finish(LIMIT);
    assert_eq!(done.code(), 0);
    assert_eq!(done.stderr, "");
    assert_eq!(done.stdout, b"quiet");
}

#[test]
fn verbose_names_the_peer_and_counts_bytes() {
    let listener = start_listen_with(&["-v", "127.0.0.1:0"], Stdio::null());
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    let client = stream.local_addr().unwrap();
    stream.write_all(b"1234567").unwrap();
    drop(stream);
    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert!(
        done.stderr.contains(&format!("connection from {client}")),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("received 7 B in "), "{}", done.stderr);
}

#[test]
fn deny_closes_the_peer_and_keeps_waiting() {
    let listener = start_listen(&["-v", "--deny", "127.0.0.1/32", "127.0.0.1:0"]);
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buffer = [0u8; 16];
    // Closed at once: EOF (or a reset), never a timeout.
    match stream.read(&mut buffer) {
        Ok(0) => {}
        Ok(n) => panic!("a denied peer got {n} bytes"),
        Err(err) => assert_ne!(err.kind(), std::io::ErrorKind::WouldBlock),
    }
    let done = listener.running.kill();
    assert!(
        done.stderr.contains("refused connection from 127.0.0.1:"),
        "{}",
        done.stderr
    );
}

#[test]
fn reset_mid_stream_is_one_error_line_and_exit_1() {
    let listener = start_listen(&["127.0.0.1:0"]);
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    stream.write_all(b"partial").unwrap();
    thread::sleep(Duration::from_millis(200));
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 1, "stderr: {}", done.stderr);
    let error = done.stderr.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_one_error_line(&error);
    assert!(error.contains("lost: connection reset by peer"), "{error}");
    assert_eq!(done.stdout, b"partial");
}

#[test]
fn malformed_arguments_exit_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["65536"],
        &["127.0.0.1:65536"],
        &["-1"],
        &["[::1"],
        &["[::1]"],
        &["nope..host:80"],
        &["-w", "bad", "0"],
        &["--allow", "10.0.0.0/33", "0"],
        &[],
    ];
    for args in cases {
        let done = Running::start(sockx_command(&[&["listen"], *args].concat())).finish(LIMIT);
        assert_eq!(done.code(), 2, "{args:?}: {}", done.stderr);
        assert_one_error_line(&done.stderr);
    }
}

#[test]
fn idle_timeout_closes_a_silent_connection() {
    let listener = start_listen(&["-w", "300ms", "127.0.0.1:0"]);
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    let mut rest = Vec::new();
    // sockx closed the connection: the client sees EOF.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0);
}

#[test]
fn sockx_connect_talks_to_sockx_listen() {
    let mut listener = start_listen(&["127.0.0.1:0"]);
    listener.running.feed(b"from listen\n".to_vec());
    let mut client = Running::start(sockx_command(&[
        "connect",
        &format!("127.0.0.1:{}", listener.port),
    ]));
    client.feed(b"from connect\n".to_vec());
    let client = client.finish(LIMIT);
    let server = listener.running.finish(LIMIT);
    assert_eq!(client.code(), 0, "stderr: {}", client.stderr);
    assert_eq!(server.code(), 0, "stderr: {}", server.stderr);
    assert_eq!(client.stdout, b"from listen\n");
    assert_eq!(server.stdout, b"from connect\n");
}

#[test]
fn ctrl_c_while_waiting_exits_130() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let listener = start_listen(&["127.0.0.1:0"]);
    let pid = Pid::from_raw(listener.running.child.id() as i32);
    kill(pid, Signal::SIGINT).unwrap();
    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 130, "stderr: {}", done.stderr);
    assert!(!done.stderr.contains("error"), "{}", done.stderr);
}
