//! Unix stream sockets in `connect` and the one-shot `listen`, against socat and nc -U.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::daemon::python_ready;
use common::relay::{Peer, Running, has_tool, payload, sockx_command, start_listen};

const LIMIT: Duration = Duration::from_secs(60);

/// Waits (generously) until `check` holds.
fn wait_for(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

fn needs(test: &str, tool: &str) -> bool {
    if has_tool(tool) {
        return true;
    }
    common::skip(test, &format!("{tool} is not installed"));
    false
}

#[test]
fn connect_relays_binary_data_both_ways_with_half_close() {
    if !needs(
        "connect_relays_binary_data_both_ways_with_half_close",
        "socat",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("echo.sock");
    // socat echoes back until our half-close, then closes its side.
    let _socat = Peer {
        child: Command::new("socat")
            .arg(format!("UNIX-LISTEN:{}", path.display()))
            .arg("EXEC:cat")
            .stdin(Stdio::null())
            .spawn()
            .expect("socat starts"),
    };
    let data = payload(1 << 20, 7);
    // --retry covers the moment before socat listens.
    let mut running = Running::start(sockx_command(&[
        "connect",
        "--retry",
        "20s",
        &format!("unix:{}", path.display()),
    ]));
    running.feed(data.clone());
    let finished = running.finish(LIMIT);
    assert_eq!(finished.code(), 0, "stderr: {}", finished.stderr);
    assert!(
        finished.stdout == data,
        "the echo differs from what was sent"
    );
}

#[test]
fn listen_relays_with_socat_both_ways_and_removes_its_file() {
    if !needs(
        "listen_relays_with_socat_both_ways_and_removes_its_file",
        "socat",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.sock");
    let addr = format!("unix:{}", path.display());
    let mut listener = start_listen(&["-v", &addr]);
    assert_eq!(listener.addr, addr);
    let to_client = payload(300_000, 1);
    let to_server = payload(200_000, 2);
    let input = dir.path().join("input");
    std::fs::write(&input, &to_server).expect("write input");
    listener.running.feed(to_client.clone());
    // -t: after its own EOF socat waits for ours instead of half a second.
    let socat = Command::new("socat")
        .args(["-t", "30", "-"])
        .arg(format!("UNIX-CONNECT:{}", path.display()))
        .stdin(std::fs::File::open(&input).expect("input"))
        .output()
        .expect("socat runs");
    assert!(socat.status.success(), "socat failed");
    assert!(socat.stdout == to_client, "socat got other bytes");
    let finished = listener.running.finish(LIMIT);
    assert_eq!(finished.code(), 0, "stderr: {}", finished.stderr);
    assert!(finished.stdout == to_server, "the server got other bytes");
    assert!(
        finished.stderr.contains("(socat), uid "),
        "-v names the peer: {}",
        finished.stderr
    );
    assert!(!path.exists(), "the socket file is left behind");
}

#[test]
fn listen_relays_with_nc_u_both_ways() {
    if !needs("listen_relays_with_nc_u_both_ways", "nc") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nc.sock");
    let mut listener = start_listen(&[&format!("unix:{}", path.display())]);
    let to_client = payload(100_000, 3);
    let to_server = payload(150_000, 4);
    let input = dir.path().join("input");
    std::fs::write(&input, &to_server).expect("write input");
    listener.running.feed(to_client.clone());
    // -N: nc half-closes at its EOF, then prints until ours.
    let nc = Command::new("nc")
        .arg("-N")
        .arg("-U")
        .arg(&path)
        .stdin(std::fs::File::open(&input).expect("input"))
        .output()
        .expect("nc runs");
    let finished = listener.running.finish(LIMIT);
    assert_eq!(finished.code(), 0, "stderr: {}", finished.stderr);
    assert!(finished.stdout == to_server, "the server got other bytes");
    assert!(nc.stdout == to_client, "nc got other bytes");
}

#[test]
fn connect_to_listen_over_an_abstract_name() {
    let name = format!("unix:@sockx-test-{}", std::process::id());
    let mut listener = start_listen(&[&name]);
    listener.running.feed(b"from listen".to_vec());
    let mut client = Running::start(sockx_command(&["connect", &name]));
    client.feed(b"from connect".to_vec());
    let client = client.finish(LIMIT);
    let server = listener.running.finish(LIMIT);
    assert_eq!(client.code(), 0, "stderr: {}", client.stderr);
    assert_eq!(server.code(), 0, "stderr: {}", server.stderr);
    assert_eq!(client.stdout, b"from listen");
    assert_eq!(server.stdout, b"from connect");
}

#[test]
fn a_stale_socket_file_is_replaced_and_the_mode_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stale.sock");
    common::stale_socket_file(&path);
    assert!(path.exists());
    let listener = start_listen(&["--unix-mode", "600", &format!("unix:{}", path.display())]);
    let mode = std::fs::metadata(&path)
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o600);
    let finished = listener.running.kill();
    assert!(finished.stderr.starts_with("listening on unix:"));
}

#[test]
fn a_live_socket_is_address_in_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("live.sock");
    let _live = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    let output = sockx_command(&["listen", &path.display().to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("sockx runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("address already in use"),
        "stderr: {stderr}"
    );
    assert!(path.exists(), "someone else's socket was removed");
}

/// Listens on the Unix address in argv[1] (`@name`: abstract) and prints `ready`.
const UNIX_HOLDER: &str = "import socket, sys, time
s = socket.socket(socket.AF_UNIX)
name = sys.argv[1]
s.bind('\\0' + name[1:] if name.startswith('@') else name)
s.listen()
print('ready', flush=True)
time.sleep(120)";

#[test]
fn a_live_socket_names_its_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("held.sock");
    let name = format!("@sockx-held-{}", std::process::id());
    for (address, argument) in [
        (
            path.display().to_string(),
            format!("unix:{}", path.display()),
        ),
        (name.clone(), format!("unix:{name}")),
    ] {
        let Some(holder) = python_ready(UNIX_HOLDER, &[&address]) else {
            common::skip("a_live_socket_names_its_holder", "python3 is not installed");
            return;
        };
        let output = sockx_command(&["listen", &argument])
            .stdin(Stdio::null())
            .output()
            .expect("sockx runs");
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines[0],
            format!("sockx: error: cannot listen on {argument}: address already in use"),
            "{stderr}"
        );
        let held = format!("hint: held by python3 (pid {}, user ", holder.0.id());
        assert!(lines[1].starts_with(&held), "{stderr}");
    }
    assert!(path.exists(), "someone else's socket was removed");
}

/// A listener with backlog 0 that never accepts, its queue filled by a connection of its
/// own: a further connect waits for room (Linux).
const FULL_QUEUE: &str = "import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(0)
queued = socket.socket(socket.AF_UNIX)
queued.connect(sys.argv[1])
print('ready', flush=True)
time.sleep(120)";

#[test]
fn connect_w_bounds_the_wait_for_a_full_accept_queue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("busy.sock");
    let Some(_busy) = python_ready(FULL_QUEUE, &[&path.display().to_string()]) else {
        common::skip(
            "connect_w_bounds_the_wait_for_a_full_accept_queue",
            "python3 is not installed",
        );
        return;
    };
    let target = format!("unix:{}", path.display());
    let output = sockx_command(&["connect", "-w", "300ms", &target])
        .stdin(Stdio::null())
        .output()
        .expect("sockx runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!("sockx: error: cannot connect to {target}: timed out"),
        "{stderr}"
    );
    // -w, not the 10 s default, was the limit.
    assert!(
        lines[1].contains("accept queue stayed full for 300ms"),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_while_waiting_removes_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("int.sock");
    let listener = start_listen(&[&format!("unix:{}", path.display())]);
    assert!(path.exists());
    let pid = listener.running.child.id().to_string();
    let status = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let finished = listener.running.finish(LIMIT);
    assert_eq!(finished.code(), 130, "stderr: {}", finished.stderr);
    wait_for("the socket file to go", || !Path::new(&path).exists());
}

#[test]
fn unix_addresses_refuse_ip_only_flags() {
    for args in [
        &["connect", "-p", "5000", "unix:/tmp/x.sock"][..],
        &["connect", "--proxy", "socks5://127.0.0.1:1", "/tmp/x.sock"],
        &["connect", "unix:"],
        &["connect", "/tmp/x.sock", "80"],
        &["listen", "--allow", "127.0.0.0/8", "unix:/tmp/x.sock"],
        &["listen", "--unix-mode", "600", "0"],
        &["listen", "--unix-mode", "999", "unix:/tmp/x.sock"],
        &["listen", "--unix-mode", "600", "unix:@abstract"],
    ] {
        let output = sockx_command(args)
            .stdin(Stdio::null())
            .output()
            .expect("sockx runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_missing_socket_is_exit_1_naming_it() {
    let output = sockx_command(&["connect", "-U", "/nonexistent/sockx.sock"])
        .stdin(Stdio::null())
        .output()
        .expect("sockx runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        "sockx: error: cannot connect to unix:/nonexistent/sockx.sock: no such file or directory"
    );
}

/// `setpriv` running the binary as nobody, or why it cannot (not root, no setpriv, the
/// binary not reachable for nobody).
fn as_nobody(test: &str) -> Option<impl Fn() -> Command> {
    if !common::is_root() {
        common::skip(test, "needs root to drop to nobody");
        return None;
    }
    let command = || {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(common::sockx_path())
            .env_clear()
            .env("NO_COLOR", "1");
        command
    };
    let runs = command().arg("--version").output();
    if !runs.as_ref().is_ok_and(|output| output.status.success()) {
        common::skip(
            test,
            "cannot run the binary as nobody (setpriv, permissions)",
        );
        return None;
    }
    Some(command)
}

/// A stale socket file that this user may not connect to (root's, mode 755, left by an
/// earlier run as root): the kernel's socket table says nothing is bound to it, so it is
/// replaced where the directory allows, and where it does not (a sticky /tmp) the error says
/// it is stale, never that a server listens on it.
#[test]
fn a_stale_socket_file_of_another_user_is_replaced_or_said_to_be_stale() {
    let test = "a_stale_socket_file_of_another_user_is_replaced_or_said_to_be_stale";
    let Some(nobody) = as_nobody(test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let path = dir.path().join("stale.sock");
    common::stale_socket_file(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let addr = format!("unix:{}", path.display());

    let mut server = nobody()
        .args(["listen", &addr])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv runs");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stderr.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(ready, format!("listening on {addr} (unix)\n"));

    // In a sticky directory nobody may not remove root's file.
    let sticky = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(sticky.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let path = sticky.path().join("stale.sock");
    common::stale_socket_file(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let addr = format!("unix:{}", path.display());
    let output = nobody()
        .args(["listen", &addr])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "sockx: error: cannot listen on {addr}: a stale socket file is there (nothing is \
             bound to it) and this user may not remove it\n\
             hint: remove it as its owner (root) or choose another path\n"
        )
    );
}
