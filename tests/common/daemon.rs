//! Third-party servers the tests start on loopback (tinyproxy, nginx, redis, python3 scripts…):
//! on a port that was free a moment ago, with their own config in a temp dir, waited for until
//! they accept, and ended by their own PID when dropped ([`Daemon`]).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::relay::free_port;
use super::{Daemon, Netns};

/// Debian's python3 (with the python3-* packages the tests install), not a PATH-first one.
pub const PYTHON: &str = "/usr/bin/python3";

/// How long a daemon may take to accept on a loaded machine.
const STARTUP: Duration = Duration::from_secs(30);

/// How many ports to try: a free port can be taken between choosing it and the daemon's bind.
const ATTEMPTS: usize = 5;

/// Waits until something accepts on 127.0.0.1:`port`; false once `child` has exited or the
/// deadline passed.
pub fn wait_accepting(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + STARTUP;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

/// [`wait_accepting`] inside a namespace: the connection is tried from in there (python3).
pub fn wait_accepting_in(ns: &Netns, child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + STARTUP;
    while Instant::now() < deadline {
        let connected = ns
            .command("python3")
            .args([
                "-c",
                &format!("import socket; socket.create_connection(('127.0.0.1', {port}), 1)"),
            ])
            .stderr(Stdio::null())
            .status();
        if connected.is_ok_and(|status| status.success()) {
            return true;
        }
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Runs `make(port)` on a port that was free a moment ago until it accepts there; one that
/// exits first (the port was taken meanwhile) is tried again on another port. None if it never
/// accepted (not startable, or it kept exiting).
pub fn on_free_port(mut make: impl FnMut(u16) -> Command) -> Option<(Daemon, u16)> {
    for _ in 0..ATTEMPTS {
        let port = free_port();
        let mut daemon = Daemon(make(port).spawn().ok()?);
        if wait_accepting(&mut daemon.0, port) {
            return Some((daemon, port));
        }
    }
    None
}

/// A daemon started with its own config file, and the temp dir that holds the file.
pub struct Configured {
    /// Where it accepts (on 127.0.0.1, or inside the namespace).
    pub port: u16,
    /// Dropped (ended) before the dir is removed.
    _daemon: Daemon,
    _dir: tempfile::TempDir,
}

/// Starts `program ARGS` on a free loopback port, `config(port)` its config file and
/// `args(config_path)` its arguments, stdio closed ([`on_free_port`]). None if it never accepted.
pub fn with_config(
    program: &str,
    config: impl Fn(u16) -> String,
    args: impl Fn(&Path) -> Vec<String>,
) -> Option<Configured> {
    let dir = tempfile::tempdir().ok()?;
    let conf = dir.path().join("daemon.conf");
    let (daemon, port) = on_free_port(|port| {
        // A config that cannot be written starts a daemon that fails, and so is tried again.
        let _ = std::fs::write(&conf, config(port));
        let mut command = Command::new(program);
        command
            .args(args(&conf))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    })?;
    Some(Configured {
        port,
        _daemon: daemon,
        _dir: dir,
    })
}

/// tinyproxy (HTTP CONNECT) on 127.0.0.1, allowing 127.0.0.1, with Basic auth when `auth`
/// names a user and password. Note that it closes both ways at the client's FIN.
pub fn tinyproxy(auth: Option<(&str, &str)>) -> Option<Configured> {
    let auth_line = auth.map_or(String::new(), |(user, pass)| {
        format!("BasicAuth {user} {pass}\n")
    });
    with_config(
        "tinyproxy",
        |port| {
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nLogLevel Critical\n{auth_line}"
            )
        },
        |conf| vec!["-d".into(), "-c".into(), conf.display().to_string()],
    )
}

/// Runs a [`PYTHON`] server `script` (with `args` in `sys.argv[1:]`) that prints its port on
/// its first line; the rest of its stdout is drained.
pub fn python_server(script: &str, args: &[&str]) -> (Daemon, u16) {
    let mut child = Command::new(PYTHON)
        .args(["-u", "-c", script])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let daemon = Daemon(child);
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().and_then(Result::ok).unwrap_or_default();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the server prints its port, not {line:?}"));
    thread::spawn(move || lines.for_each(drop));
    (daemon, port)
}

/// Runs a [`PYTHON`] `script` (with `args` in `sys.argv[1:]`) that prints `ready` once it
/// listens where the test told it (a Unix socket path or `@name`); the rest of its stdout is
/// drained. `None` without python3.
pub fn python_ready(script: &str, args: &[&str]) -> Option<Daemon> {
    if !Path::new(PYTHON).exists() {
        return None;
    }
    let mut child = Command::new(PYTHON)
        .args(["-u", "-c", script])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let daemon = Daemon(child);
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(line.trim(), "ready", "the script says when it listens");
    thread::spawn(move || lines.for_each(drop));
    Some(daemon)
}
