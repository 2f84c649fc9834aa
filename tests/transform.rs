//! `--crlf` and `--hex` on every data path that applies them: the relay (tests/connect.rs),
//! `-u` in listen and connect, and `-k`'s stdin broadcast. Each path sends the same
//! translation and dumps with its own per-direction offsets.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::Stdio;
use std::thread;
use std::time::Instant;

use common::live::{Live, PATIENCE};
use common::relay::{Running, sockx_command};

fn udp_peer() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    socket
}

#[test]
fn listen_udp_sends_stdin_as_crlf_and_dumps_both_directions() {
    let mut listener = Live::start(&["-u", "--crlf", "--hex", "127.0.0.1:0"]);
    let peer = udp_peer();
    let server = format!("127.0.0.1:{}", listener.port);
    peer.send_to(b"hello\n", &server).unwrap();
    let mut stdin = listener.stdin.take().unwrap();
    // A CR at the end of one write pairs with the LF at the start of the next.
    stdin.write_all(b"a\nb\r").unwrap();
    stdin.flush().unwrap();
    let mut buffer = [0u8; 64];
    let mut got = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while got != b"a\r\nb\r\nc\r\n" && Instant::now() < deadline {
        if got == b"a\r\nb\r" {
            stdin.write_all(b"\nc\n").unwrap();
            stdin.flush().unwrap();
        }
        let (n, _) = peer.recv_from(&mut buffer).unwrap();
        got.extend_from_slice(&buffer[..n]);
    }
    assert_eq!(got, b"a\r\nb\r\nc\r\n");
    listener.wait_stdout(|out| out == b"hello\n");
    listener.wait_stderr(|log| {
        log.contains("< received 6 bytes at offset 0 ")
            && log.contains("> sent 5 bytes at offset 0 ")
            && log.contains("> sent 4 bytes at offset 5 ")
    });
}

#[test]
fn listen_udp_echo_dumps_what_it_answers() {
    let listener = Live::start(&["-u", "--echo", "--hex", "127.0.0.1:0"]);
    let peer = udp_peer();
    let server = format!("127.0.0.1:{}", listener.port);
    for message in [&b"one"[..], b"three"] {
        peer.send_to(message, &server).unwrap();
        let mut buffer = [0u8; 64];
        let (n, _) = peer.recv_from(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], message);
    }
    listener.wait_stderr(|log| {
        [
            "< received 3 bytes at offset 0 ",
            "> sent 3 bytes at offset 0 ",
            "< received 5 bytes at offset 3 ",
            "> sent 5 bytes at offset 3 ",
        ]
        .iter()
        .all(|block| log.contains(block))
    });
}

#[test]
fn keep_open_broadcasts_stdin_as_crlf_and_dumps_it_once() {
    let mut listener = Live::start(&["-k", "--crlf", "--hex", "127.0.0.1:0"]);
    let addr = format!("127.0.0.1:{}", listener.port);
    let clients: Vec<TcpStream> = (0..2)
        .map(|_| {
            let stream = TcpStream::connect(&addr).unwrap();
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            stream
        })
        .collect();
    // A client whose data reached stdout has been accepted and takes stdin.
    for (i, mut client) in clients.iter().enumerate() {
        client.write_all(format!("c{i}\n").as_bytes()).unwrap();
    }
    listener.wait_stdout(|out| out.len() == 6);
    let mut stdin = listener.stdin.take().unwrap();
    stdin.write_all(b"x\ny\n").unwrap();
    drop(stdin);
    for client in &clients {
        let mut got = Vec::new();
        BufReader::new(client).read_to_end(&mut got).unwrap();
        assert_eq!(got, b"x\r\ny\r\n");
    }
    let stderr = listener.wait_stderr(|log| log.contains("> sent 6 bytes at offset 0 "));
    assert_eq!(stderr.matches("> sent ").count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("< received 3 bytes at offset 0 ").count(),
        2,
        "{stderr}"
    );
}

#[test]
fn connect_udp_sends_each_piece_as_crlf_and_dumps_the_reply() {
    let server = udp_peer();
    let addr = server.local_addr().unwrap().to_string();
    let answer = thread::spawn(move || {
        let mut buffer = [0u8; 64];
        let mut seen = Vec::new();
        for _ in 0..2 {
            let (n, from) = server.recv_from(&mut buffer).unwrap();
            seen.push(buffer[..n].to_vec());
            server.send_to(b"ok", from).unwrap();
        }
        seen
    });
    let mut command = sockx_command(&[
        "connect", "-u", "--crlf", "--hex", "-i", "1s", "--send", "a\\n", "--send", "b\\n", &addr,
    ]);
    command.stdin(Stdio::null());
    let done = Running::start(command).finish(PATIENCE);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        answer.join().unwrap(),
        vec![b"a\r\n".to_vec(), b"b\r\n".to_vec()]
    );
    assert_eq!(done.stdout, b"okok");
    for block in [
        "> sent 3 bytes at offset 0 ",
        "> sent 3 bytes at offset 3 ",
        "< received 2 bytes at offset 0 ",
        "< received 2 bytes at offset 2 ",
    ] {
        assert!(done.stderr.contains(block), "{block}: {}", done.stderr);
    }
}

#[test]
fn connect_udp_crlf_counts_a_send_piece_as_it_goes_out() {
    // 40,000 LFs become 80,000 bytes: more than one UDP datagram can hold.
    let piece = "\\n".repeat(40_000);
    let done = common::sockx()
        .args(["connect", "-u", "--crlf", "--send", &piece, "127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.contains("80000 bytes"), "{stderr}");
}
