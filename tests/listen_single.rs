//! `sockx listen` in its default mode: one TCP connection relayed to stdin/stdout.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use common::relay::{Running, assert_one_error_line, payload, sockx_command, start_listen};

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
fn ends_when_the_sender_is_done_even_with_stdin_open() {
    let listener = start_listen(&["127.0.0.1:0"]);
    let mut stream = TcpStream::connect(("127.0.0.1", listener.port)).unwrap();
    stream.write_all(b"file contents\n").unwrap();
    drop(stream);
    // The test keeps listen's stdin open.
    let done = listener.running.finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"file contents\n");
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
    let listener = start_listen(&["-v", "0"]);
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
    let running = Running::start(sockx_command(&[
        "listen",
        "-q",
        &format!("127.0.0.1:{port}"),
    ]));
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
    let listener = start_listen(&["-v", "127.0.0.1:0"]);
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
