//! `sockx connect --proxy` through real proxies on loopback: Dante (SOCKS4/4a/5) and
//! tinyproxy (HTTP CONNECT with Basic auth), each started with its own config in a temp dir.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use common::daemon::{self, Configured, tinyproxy, wait_accepting_in};
use common::relay::{Running, assert_one_error_line, sockx_command};
use common::{Netns, is_root, skip};

const LIMIT: Duration = Duration::from_secs(60);

/// Dante allowing 127.0.0.0/8 to reach only `allowed_port` on 127.0.0.1.
fn dante_config(port: u16, allowed_port: u16) -> String {
    format!(
        "logoutput: stderr\n\
         internal: 127.0.0.1 port = {port}\n\
         external: 127.0.0.1\n\
         clientmethod: none\n\
         socksmethod: none\n\
         user.privileged: root\n\
         user.unprivileged: nobody\n\
         client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
         socks pass {{ from: 127.0.0.0/8 to: 127.0.0.1/32 port = {allowed_port} }}\n\
         socks block {{ from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }}\n"
    )
}

fn dante(allowed_port: u16) -> Option<Configured> {
    daemon::with_config(
        "danted",
        |port| dante_config(port, allowed_port),
        |conf| vec!["-f".into(), conf.display().to_string()],
    )
}

/// Why the Dante tests cannot run here, if they cannot.
fn dante_missing() -> Option<&'static str> {
    if !is_root() {
        Some("Dante needs root to switch to its unprivileged user")
    } else if !common::installed("danted") {
        Some("danted is not installed (apt-get install dante-server)")
    } else {
        None
    }
}

/// A peer that greets at once (so its first bytes can arrive together with the proxy's
/// reply), reads `expect` bytes and answers with them, then closes; returns what it read.
/// (It does not wait for a half-close: tinyproxy closes both ways at the client's FIN.)
fn greeting_peer(
    listener: TcpListener,
    greeting: &'static [u8],
    expect: usize,
) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.write_all(greeting).expect("greet");
        let mut got = vec![0; expect];
        stream.read_exact(&mut got).expect("read");
        stream.write_all(&got).expect("answer");
        let _ = stream.shutdown(Shutdown::Write);
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        got
    })
}

fn connect_through(proxy: &str, peer: &str, input: &[u8]) -> common::relay::Finished {
    connect_with(&["--proxy", proxy, peer], input)
}

fn connect_with(args: &[&str], input: &[u8]) -> common::relay::Finished {
    let mut sockx = Running::start(sockx_command(&[&["connect"], args].concat()));
    let feeder = sockx.feed(input.to_vec());
    let done = sockx.finish(LIMIT);
    feeder.join().unwrap();
    done
}

#[test]
fn socks5_carries_both_directions_and_the_first_bytes() {
    if let Some(reason) = dante_missing() {
        return skip("socks5_carries_both_directions_and_the_first_bytes", reason);
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let peer = greeting_peer(listener, b"hello from the peer\n", 24);
    let proxy = dante(target.port()).expect("danted starts");

    let done = connect_through(
        &format!("socks5://127.0.0.1:{}", proxy.port),
        &target.to_string(),
        b"ping through the tunnel\n",
    );

    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(peer.join().unwrap(), b"ping through the tunnel\n");
    assert_eq!(
        done.stdout,
        b"hello from the peer\nping through the tunnel\n".to_vec()
    );
}

#[test]
fn verbose_lines_name_the_target_and_the_proxy_it_is_reached_through() {
    if let Some(reason) = dante_missing() {
        return skip(
            "verbose_lines_name_the_target_and_the_proxy_it_is_reached_through",
            reason,
        );
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let peer = greeting_peer(listener, b"hi\n", 1);
    let proxy = dante(target.port()).expect("danted starts");
    let through = format!("{target} through 127.0.0.1:{}", proxy.port);

    let done = connect_with(
        &[
            "-v",
            "--proxy",
            &format!("socks5://127.0.0.1:{}", proxy.port),
            &target.to_string(),
        ],
        b"x",
    );

    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(peer.join().unwrap(), b"x");
    // Not "connected to 127.0.0.1:PROXY" and "127.0.0.1:PROXY closed by peer".
    assert!(
        done.stderr
            .contains(&format!("connected to {through} from 127.0.0.1:")),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains(&format!("\n{through} closed by peer: ")),
        "{}",
        done.stderr
    );
}

#[test]
fn socks4_and_socks5h_reach_the_peer() {
    // socks4a is not here: neither Dante nor pproxy speaks it (both read the name's
    // 0.0.0.x marker as an address).
    if let Some(reason) = dante_missing() {
        return skip("socks4_and_socks5h_reach_the_peer", reason);
    }
    for scheme in ["socks4", "socks5h"] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = listener.local_addr().unwrap();
        let peer = greeting_peer(listener, b"hi\n", 1);
        let proxy = dante(target.port()).expect("danted starts");
        // socks5h hands the name to the proxy; `localhost` is in /etc/hosts.
        let name = if scheme == "socks4" {
            target.to_string()
        } else {
            format!("localhost:{}", target.port())
        };
        let done = connect_through(&format!("{scheme}://127.0.0.1:{}", proxy.port), &name, b"x");
        assert_eq!(done.code(), 0, "{scheme}: {}", done.stderr);
        assert_eq!(done.stdout, b"hi\nx".to_vec(), "{scheme}");
        assert_eq!(peer.join().unwrap(), b"x");
    }
}

#[test]
fn a_socks_refusal_names_the_proxys_reason() {
    if let Some(reason) = dante_missing() {
        return skip("a_socks_refusal_names_the_proxys_reason", reason);
    }
    let allowed = TcpListener::bind("127.0.0.1:0").unwrap();
    let forbidden = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = dante(allowed.local_addr().unwrap().port()).expect("danted starts");
    let target = forbidden.local_addr().unwrap().to_string();

    let done = connect_through(&format!("socks5://127.0.0.1:{}", proxy.port), &target, b"");
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert_one_error_line(&done.stderr);
    assert!(
        done.stderr
            .contains("proxy refused: connection not allowed by ruleset"),
        "{}",
        done.stderr
    );

    let done = connect_through(&format!("socks4://127.0.0.1:{}", proxy.port), &target, b"");
    assert_eq!(done.code(), 1, "{}", done.stderr);
    assert!(done.stderr.contains("proxy refused: "), "{}", done.stderr);
}

#[test]
fn http_connect_with_basic_auth_and_the_407_without() {
    if !common::installed("tinyproxy") {
        return skip(
            "http_connect_with_basic_auth_and_the_407_without",
            "tinyproxy is not installed",
        );
    }
    let proxy = tinyproxy(Some(("bob", "s3cret"))).expect("tinyproxy starts");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap().to_string();

    let refused = connect_through(&format!("http://127.0.0.1:{}", proxy.port), &target, b"");
    assert_eq!(refused.code(), 1, "{}", refused.stderr);
    assert_one_error_line(&refused.stderr);
    assert!(
        refused
            .stderr
            .contains("proxy answered HTTP 407 Proxy Authentication Required"),
        "{}",
        refused.stderr
    );

    let peer = greeting_peer(listener, b"200 ready\r\n", 10);
    // tinyproxy closes both ways at the client's FIN, so the write side stays open.
    let done = connect_with(
        &[
            "--no-shutdown",
            "--proxy",
            &format!("http://bob:s3cret@127.0.0.1:{}", proxy.port),
            &target,
        ],
        b"\x00\xffbinary\r\n",
    );
    assert_eq!(done.code(), 0, "stderr: {}", done.stderr);
    assert_eq!(peer.join().unwrap(), b"\x00\xffbinary\r\n");
    assert_eq!(done.stdout, b"200 ready\r\n\x00\xffbinary\r\n".to_vec());
}

#[test]
fn socks5h_leaves_the_name_to_the_proxy() {
    // In a namespace of our own whose resolver is 127.0.0.1 (where nothing answers), a name
    // only the proxy knows: socks5h reaches it, socks5 (resolved here) cannot.
    if let Some(reason) = dante_missing() {
        return skip("socks5h_leaves_the_name_to_the_proxy", reason);
    }
    if !common::installed("unshare") {
        return skip("socks5h_leaves_the_name_to_the_proxy", "no unshare");
    }
    let ns = match Netns::create() {
        Ok(ns) => ns,
        Err(reason) => return skip("socks5h_leaves_the_name_to_the_proxy", &reason),
    };
    let etc = Path::new("/etc/netns").join(&ns.name);
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
    let _cleanup = RemoveOnDrop(etc.clone());

    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        "127.0.0.1 localhost\n127.0.0.1 svc.proxy-only.test\n",
    )
    .unwrap();
    let conf = dir.path().join("danted.conf");
    std::fs::write(&conf, dante_config(1080, 7070)).unwrap();
    // Dante sees its own /etc/hosts: a private mount namespace with the file bound over it.
    let mut proxy = ns
        .command("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            &format!(
                "mount --bind {} /etc/hosts && exec danted -f {}",
                hosts.display(),
                conf.display()
            ),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_accepting_in(&ns, &mut proxy, 1080), "danted starts");
    let _proxy = common::Daemon(proxy);

    let target_server = ns
        .command("python3")
        .args([
            "-c",
            "import socket\n\
             s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('127.0.0.1', 7070)); s.listen(1); print('ready', flush=True)\n\
             c, _ = s.accept(); c.sendall(b'found it\\n'); c.shutdown(socket.SHUT_WR)\n\
             while c.recv(65536): pass\n",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut target_server = common::Daemon(target_server);
    let mut ready = [0u8; 6];
    target_server
        .0
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut ready)
        .unwrap();

    let local = ns
        .sockx()
        .args([
            "connect",
            "--proxy",
            "socks5://127.0.0.1:1080",
            "svc.proxy-only.test:7070",
        ])
        .write_stdin("")
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert_eq!(local.status.code(), Some(1), "{local:?}");
    let stderr = String::from_utf8_lossy(&local.stderr);
    assert!(stderr.contains("svc.proxy-only.test"), "{stderr}");

    let remote = ns
        .sockx()
        .args([
            "connect",
            "--proxy",
            "socks5h://127.0.0.1:1080",
            "svc.proxy-only.test:7070",
        ])
        .write_stdin("")
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    assert_eq!(remote.stdout, b"found it\n");
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn proxy_misuse_is_exit_2() {
    for args in [
        &[
            "connect",
            "-u",
            "--proxy",
            "socks5://127.0.0.1:1",
            "127.0.0.1:53",
        ][..],
        &["connect", "--proxy", "ftp://127.0.0.1:1", "127.0.0.1:9"][..],
        &[
            "connect",
            "--proxy",
            "socks4://u:p@127.0.0.1:1",
            "127.0.0.1:9",
        ][..],
        &["connect", "--proxy", "127.0.0.1:1080", "127.0.0.1:9"][..],
    ] {
        let output = common::sockx().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert_one_error_line(&String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn an_unreachable_proxy_is_a_network_failure() {
    let port = common::relay::free_port();
    let output = common::sockx()
        .args([
            "connect",
            "--proxy",
            &format!("socks5://127.0.0.1:{port}"),
            "127.0.0.1:9",
        ])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_one_error_line(&stderr);
    assert!(
        stderr.contains(&format!(
            "sockx: error: cannot connect to proxy 127.0.0.1:{port}: connection refused"
        )),
        "{stderr}"
    );
}
