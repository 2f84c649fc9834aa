//! `sockx connect` against real peers on loopback.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, UdpSocket};
use std::thread;
use std::time::Duration;

use common::installed;
use common::relay::{
    Peer, Running, assert_one_error_line, chunk_lines, feed_slowly, free_port, payload,
    sockx_command, start_socat_listener,
};

const LIMIT: Duration = Duration::from_secs(60);

/// A peer that reads everything until EOF while sending `reply` (then half-closing);
/// returns what it read.
fn exchanging_peer(listener: TcpListener, reply: Vec<u8>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut writer = stream.try_clone().expect("clone");
        let sender = thread::spawn(move || {
            writer.write_all(&reply).expect("peer sends");
            writer.shutdown(Shutdown::Write).expect("peer half-closes");
        });
        let mut got = Vec::new();
        stream.read_to_end(&mut got).expect("peer reads");
        sender.join().expect("sender");
        got
    })
}

/// Reads `len` bytes in 16 KiB pieces with a pause between them (the pace of a slow reader;
/// only how likely the old defect showed depends on it, not what the tests assert).
fn read_slowly(stream: &mut std::net::TcpStream, len: usize) {
    let mut piece = vec![0u8; 16 << 10];
    for _ in 0..len / piece.len() {
        if stream.read_exact(&mut piece).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn connect(args: &[&str]) -> Running {
    Running::start(sockx_command(&[&["connect"], args].concat()))
}

#[test]
fn large_payloads_cross_both_ways_unchanged() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let upload = payload(32 << 20, 1);
    let download = payload(32 << 20, 2);
    let peer = exchanging_peer(listener, download.clone());

    let mut sockx = connect(&[&addr]);
    let feeder = sockx.feed(upload.clone());
    let done = sockx.finish(LIMIT);
    feeder.join().unwrap();

    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    let received = peer.join().unwrap();
    assert!(received == upload, "the peer got {} bytes", received.len());
    assert!(
        done.stdout == download,
        "stdout got {} bytes",
        done.stdout.len()
    );
    assert_eq!(done.stderr, "");
}

#[test]
fn half_close_lets_the_peer_answer_after_eof() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        stream.read_to_end(&mut request).unwrap();
        let answer = format!(
            "got {} bytes: {}",
            request.len(),
            String::from_utf8_lossy(&request)
        );
        stream.write_all(answer.as_bytes()).unwrap();
    });
    let mut sockx = connect(&["127.0.0.1", &addr.port().to_string()]);
    sockx.feed(b"hello\n".to_vec());
    let done = sockx.finish(LIMIT);
    peer.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        String::from_utf8_lossy(&done.stdout),
        "got 6 bytes: hello\n"
    );
}

#[test]
fn send_pieces_with_escapes_go_out_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        stream.read_to_end(&mut request).unwrap();
        stream.write_all(&request).unwrap();
        request
    });
    // stdin stays open and unused: --send replaces it.
    let sockx = connect(&[
        &addr,
        "--send",
        r"GET / HTTP/1.0\r\n",
        "--send",
        r"\x00\xff\t\\\0end",
    ]);
    let done = sockx.finish(LIMIT);
    let expected = b"GET / HTTP/1.0\r\n\x00\xff\t\\\x00end".to_vec();
    assert_eq!(peer.join().unwrap(), expected);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, expected);
}

#[test]
fn crlf_translates_stdin_line_endings() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = exchanging_peer(listener, Vec::new());
    let mut sockx = connect(&["-C", &addr]);
    sockx.feed(b"a\nb\r\nc\n".to_vec());
    let done = sockx.finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(peer.join().unwrap(), b"a\r\nb\r\nc\r\n");
}

#[test]
fn stdin_is_sent_whole_after_the_peers_fin() {
    // The issue's reproduction: a receiver whose stdin is /dev/null half-closes at once, while
    // our input is a pipe with pauses.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        got
    });
    let mut sockx = connect(&[&addr]);
    let feeder = feed_slowly(sockx.stdin.take().unwrap(), 5, Duration::from_millis(200));
    let done = sockx.finish(LIMIT);
    feeder.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        String::from_utf8(peer.join().unwrap()).unwrap(),
        "chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n"
    );
    assert_eq!(done.stdout, b"");
}

#[test]
fn stdout_closes_at_the_peers_fin_while_stdin_goes_on() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"bye\n").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        got
    });
    let mut child = sockx_command(&["connect", &addr]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // EOF on stdout while stdin is still open: the peer's direction is over on its own.
    let mut printed = Vec::new();
    stdout.read_to_end(&mut printed).unwrap();
    assert_eq!(printed, b"bye\n");
    assert!(
        child.try_wait().unwrap().is_none(),
        "sockx ended with stdin open"
    );
    stdin.write_all(b"still sent\n").unwrap();
    drop(stdin);
    let done = Running::start_spawned(child).finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(peer.join().unwrap(), b"still sent\n");
}

#[test]
fn a_terminal_on_stdin_ends_the_session_with_the_peer() {
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"bye\n").unwrap();
    });
    let mut command = sockx_command(&["connect", &addr]);
    command.stdin(std::process::Stdio::from(pty.slave));
    // Nobody types: the session still ends when the peer is done.
    let done = Running::start(command).finish(LIMIT);
    peer.join().unwrap();
    drop(pty.master);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"bye\n");
}

#[test]
fn recv_only_never_reads_stdin_and_ends_with_the_peer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"report\n").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        got
    });
    let mut sockx = connect(&["--recv-only", &addr]);
    // Stdin holds data and stays open: neither is sent nor waited for.
    let mut stdin = sockx.stdin.take().unwrap();
    stdin.write_all(b"never sent\n").unwrap();
    let done = sockx.finish(LIMIT);
    drop(stdin);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"report\n");
    assert_eq!(peer.join().unwrap(), b"");
}

#[test]
fn nc_listener_gets_every_chunk_of_a_slow_pipe() {
    if !installed("nc") {
        return common::skip(
            "nc_listener_gets_every_chunk_of_a_slow_pipe",
            "nc is not installed",
        );
    }
    // OpenBSD nc with stdin /dev/null and -N sends its FIN at once, then prints what it gets;
    // with -v it names the port it picked: `Listening on localhost PORT`.
    let mut nc = std::process::Command::new("nc")
        .args(["-v", "-N", "-l", "127.0.0.1", "0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut announce = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(nc.stderr.take().unwrap()),
        &mut announce,
    )
    .unwrap();
    let mut nc = Peer { child: nc };
    let port: u16 = announce
        .split_whitespace()
        .last()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("nc said {announce:?}"));
    let mut sockx = connect(&[&format!("127.0.0.1:{port}")]);
    let feeder = feed_slowly(sockx.stdin.take().unwrap(), 5, Duration::from_millis(200));
    let done = sockx.finish(LIMIT);
    feeder.join().unwrap();
    let mut received = Vec::new();
    nc.child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut received)
        .unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        String::from_utf8_lossy(&received),
        String::from_utf8_lossy(&chunk_lines(5))
    );
}

#[test]
fn reset_while_sending_is_exit_1_with_the_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // A receiver with nothing to say (stdin /dev/null) half-closes at once, then takes
        // 256 KiB at its own pace.
        stream.shutdown(Shutdown::Write).unwrap();
        read_slowly(&mut stream, 256 << 10);
        // SO_LINGER 0: close sends RST while sockx is still sending.
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    });
    let mut sockx = connect(&[&addr]);
    let feeder = sockx.feed(payload(32 << 20, 7));
    let done = sockx.finish(LIMIT);
    peer.join().unwrap();
    feeder.join().unwrap();
    assert_eq!(done.code(), 1, "stderr: {}", done.stderr);
    assert_one_error_line(&done.stderr);
    assert!(
        done.stderr.contains(&format!(
            "connection with {addr} lost: connection reset by peer"
        )),
        "{}",
        done.stderr
    );
}

#[test]
fn a_receiver_killed_mid_upload_is_exit_1_with_the_error() {
    if !installed("socat") {
        return common::skip(
            "a_receiver_killed_mid_upload_is_exit_1_with_the_error",
            "socat is not installed",
        );
    }
    // socat half-closes at once (its stdin is /dev/null) and writes what it receives to a pipe
    // nobody reads, so the upload cannot finish.
    let (mut socat, port) = start_socat_listener(
        &["-t", "60", "TCP-LISTEN:0,bind=127.0.0.1", "STDIO"],
        std::process::Stdio::null(),
        std::process::Stdio::piped(),
    );
    let mut socat_stdout = socat.child.stdout.take().unwrap();
    let addr = format!("127.0.0.1:{port}");
    let mut sockx = connect(&[&addr]);
    let feeder = sockx.feed(payload(32 << 20, 8));
    // Once 256 KiB have arrived, the receiver is mid-upload (and long past its half-close).
    let mut first = vec![0u8; 256 << 10];
    socat_stdout
        .read_exact(&mut first)
        .expect("socat passes on what it receives");
    socat.child.kill().unwrap();
    let done = sockx.finish(LIMIT);
    feeder.join().unwrap();
    assert_eq!(done.code(), 1, "stderr: {}", done.stderr);
    assert_one_error_line(&done.stderr);
    assert!(
        done.stderr.contains(&format!(
            "connection with {addr} lost: connection reset by peer"
        )),
        "{}",
        done.stderr
    );
}

#[test]
fn retry_waits_for_a_server_that_starts_late() {
    let port = free_port();
    let sockx = connect(&[
        "--retry",
        "20s",
        "--send",
        "ping",
        &format!("127.0.0.1:{port}"),
    ]);
    thread::sleep(Duration::from_millis(600));
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the port is still free");
    let (mut stream, _) = listener.accept().unwrap();
    let mut request = Vec::new();
    stream.read_to_end(&mut request).unwrap();
    stream.write_all(b"pong").unwrap();
    drop(stream);
    let done = sockx.finish(LIMIT);
    assert_eq!(request, b"ping");
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"pong");
}

#[test]
fn retry_gives_up_with_one_line() {
    let port = free_port();
    let done = connect(&["--retry", "300ms", &format!("127.0.0.1:{port}")]).finish(LIMIT);
    assert_eq!(done.code(), 1);
    assert_one_error_line(&done.stderr);
    assert!(
        done.stderr.contains("connection refused"),
        "{}",
        done.stderr
    );
}

#[test]
fn refused_is_exit_1_with_one_line_naming_the_address() {
    let port = free_port();
    let done = connect(&[&format!("127.0.0.1:{port}")]).finish(LIMIT);
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("sockx: error: cannot connect to 127.0.0.1:{port}: connection refused\n")
    );
    assert!(done.stdout.is_empty());
}

#[test]
fn ipv6_loopback() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        common::skip("ipv6_loopback", "no IPv6 loopback");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let peer = exchanging_peer(listener, b"over v6".to_vec());
    let done = connect(&["--send", "hi", &format!("[::1]:{port}")]).finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"over v6");
    assert_eq!(peer.join().unwrap(), b"hi");

    let listener = TcpListener::bind("[::1]:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let peer = exchanging_peer(listener, b"two words".to_vec());
    let done = connect(&["--send", "x", "::1", &port]).finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"two words");
    peer.join().unwrap();
}

#[test]
fn udp_datagrams_and_replies() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let echo = thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        let mut seen = Vec::new();
        socket
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        for _ in 0..2 {
            let (got, from) = socket.recv_from(&mut buffer).unwrap();
            seen.push(buffer[..got].to_vec());
            let mut reply = b"echo:".to_vec();
            reply.extend_from_slice(&buffer[..got]);
            // Answer late: the client must still be waiting after its input ended.
            thread::sleep(Duration::from_millis(300));
            socket.send_to(&reply, from).unwrap();
        }
        seen
    });
    let done = connect(&["-u", &addr, "--send", r"one\n", "--send", r"two\n"]).finish(LIMIT);
    assert_eq!(
        echo.join().unwrap(),
        vec![b"one\n".to_vec(), b"two\n".to_vec()]
    );
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        String::from_utf8_lossy(&done.stdout),
        "echo:one\necho:two\n"
    );
}

#[test]
fn udp_stdin_is_sent_and_replies_printed() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let echo = thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        let (got, from) = socket.recv_from(&mut buffer).unwrap();
        socket.send_to(&buffer[..got], from).unwrap();
    });
    let mut sockx = connect(&["-u", "-i", "1s", &addr]);
    sockx.feed(b"datagram\n".to_vec());
    let done = sockx.finish(LIMIT);
    echo.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"datagram\n");
}

#[test]
fn reset_mid_stream_is_one_error_line_and_exit_1() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(&payload(100_000, 3)).unwrap();
        thread::sleep(Duration::from_millis(200));
        // SO_LINGER 0: close sends RST.
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    });
    let sockx = connect(&[&addr]);
    let done = sockx.finish(LIMIT);
    peer.join().unwrap();
    assert_eq!(done.code(), 1, "stderr: {}", done.stderr);
    assert_one_error_line(&done.stderr);
    assert!(
        done.stderr
            .contains(&format!("connection with {addr} lost")),
        "{}",
        done.stderr
    );
    assert_eq!(
        done.stdout,
        payload(100_000, 3),
        "data before the reset is kept"
    );
}

#[test]
fn idle_timeout_ends_a_silent_session() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // Silent until sockx gives up and closes.
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let done = connect(&["-i", "300ms", &addr]).finish(LIMIT);
    peer.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
}

#[test]
fn idle_timeout_ends_a_session_that_waits_for_stdin() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"done\n").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    // The peer's direction is over and stdin stays open and silent: -i still ends it.
    let mut sockx = connect(&["-v", "-i", "300ms", &addr]);
    let stdin = sockx.stdin.take();
    let done = sockx.finish(LIMIT);
    drop(stdin);
    peer.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"done\n");
    assert!(done.stderr.contains(" idle timeout: "), "{}", done.stderr);
}

#[test]
fn verbose_reports_on_stderr_only() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = exchanging_peer(listener, b"reply".to_vec());
    let done = connect(&["-v", "--send", "12345", &addr]).finish(LIMIT);
    peer.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"reply");
    assert!(
        done.stderr.contains(&format!("resolves to {addr}")),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains(&format!("connected to {addr} from 127.0.0.1:")),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("sent 5 B, received 5 B in "),
        "{}",
        done.stderr
    );
}

#[test]
fn hex_dump_marks_direction_and_offset() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = exchanging_peer(listener, b"OK".to_vec());
    let done = connect(&["--hex", "--send", "AB", &addr]).finish(LIMIT);
    peer.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"OK");
    assert!(
        done.stderr.contains("> sent 2 bytes at offset 0 ("),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("41 42"), "{}", done.stderr);
    assert!(
        done.stderr.contains("< received 2 bytes at offset 0 ("),
        "{}",
        done.stderr
    );
}

#[test]
fn malformed_arguments_exit_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["127.0.0.1:0"],
        &["127.0.0.1:65536"],
        &["127.0.0.1"],
        &["127.0.0.1", "0"],
        &["127.0.0.1", "http-nope"],
        &["[::1:80"],
        &["[fe80::zz]:80"],
        &["::1:80"],
        &["-w", "5x", "127.0.0.1:80"],
        &["--retry", "soon", "127.0.0.1:80"],
        &["-i", "-1", "127.0.0.1:80"],
        &["-p", "0", "127.0.0.1:80"],
        &["--send", r"\q", "127.0.0.1:80"],
        &["--send", r"\x4", "127.0.0.1:80"],
        &[],
    ];
    for args in cases {
        let done = connect(args).finish(LIMIT);
        assert_eq!(done.code(), 2, "{args:?}: {}", done.stderr);
        assert_one_error_line(&done.stderr);
    }
}

#[test]
fn source_address_and_port_are_used() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let source_port = free_port();
    let peer = thread::spawn(move || {
        let (mut stream, from) = listener.accept().unwrap();
        let mut sink = Vec::new();
        stream.read_to_end(&mut sink).unwrap();
        from
    });
    let port = source_port.to_string();
    let done = connect(&["-s", "127.0.0.1", "-p", &port, "--send", "x", &addr]).finish(LIMIT);
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(
        peer.join().unwrap(),
        format!("127.0.0.1:{source_port}").parse().unwrap()
    );
}

#[test]
fn a_reader_that_goes_away_ends_quietly() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // Far more than any pipe holds; fails once sockx is gone.
        let _ = stream.write_all(&payload(64 << 20, 5));
    });
    let mut child = sockx_command(&["connect", &addr]).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut running = Running::start_spawned(child);
    drop(running.stdin.take());
    let done = running.finish(LIMIT);
    peer.join().unwrap();
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stderr, "");
}

#[test]
fn no_shutdown_keeps_the_write_side_open() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4];
        stream.read_exact(&mut request).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut more = [0u8; 1];
        // No FIN may arrive: the read times out instead of returning 0.
        let outcome = stream.read(&mut more);
        stream.write_all(b"done").unwrap();
        (request, outcome.map_err(|err| err.kind()))
    });
    let done = connect(&["--no-shutdown", "--send", "data", &addr]).finish(LIMIT);
    let (request, outcome) = peer.join().unwrap();
    assert_eq!(&request, b"data");
    assert!(
        matches!(
            outcome,
            Err(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
        ),
        "the peer saw {outcome:?} instead of an open connection"
    );
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"done");
}

#[test]
fn ctrl_c_prints_the_summary_and_exits_130() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (accepted, wait_accepted) = std::sync::mpsc::channel();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"hello").unwrap();
        accepted.send(()).unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let sockx = connect(&["-v", &addr]);
    wait_accepted.recv_timeout(LIMIT).unwrap();
    // Let the greeting reach stdout first.
    thread::sleep(Duration::from_millis(200));
    kill(Pid::from_raw(sockx.child.id() as i32), Signal::SIGINT).unwrap();
    let done = sockx.finish(LIMIT);
    peer.join().unwrap();
    assert_eq!(done.code(), 130, "stderr: {}", done.stderr);
    assert_eq!(done.stdout, b"hello");
    assert!(
        done.stderr.contains("interrupted: sent 0 B, received 5 B"),
        "{}",
        done.stderr
    );
}

#[test]
fn timeout_is_exit_1_with_one_line() {
    // A listener with a full backlog drops further SYNs: the handshake hangs.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let _filler = std::net::TcpStream::connect(addr).unwrap();
    let done = connect(&["-w", "300ms", &addr.to_string()]).finish(LIMIT);
    assert_eq!(done.code(), 1);
    assert_eq!(
        done.stderr,
        format!("sockx: error: cannot connect to {addr}: timed out\n")
    );
}
