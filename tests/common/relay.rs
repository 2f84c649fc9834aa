//! Helpers for the relay tests: payloads, a `sockx listen` child that announced its port,
//! and children whose stdout and stderr are drained on threads.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// `len` pseudo-random bytes (xorshift), different for each `seed`.
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A running sockx whose stdout and stderr are collected in the background.
pub struct Running {
    /// The child process.
    pub child: Child,
    /// Its stdin, when piped and not yet closed.
    pub stdin: Option<ChildStdin>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<String>>,
    /// stderr lines read before the background drain started (the ready line).
    pub early_stderr: String,
}

/// What a finished sockx left behind.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote on stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote on stderr.
    pub stderr: String,
}

impl Finished {
    /// The exit code (panics on death by signal, which a test should report).
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal; stderr: {}", self.stderr))
    }
}

/// The sockx binary with a clean environment, stdin piped, stdout and stderr piped.
pub fn sockx_command(args: &[&str]) -> Command {
    let mut command = Command::new(super::sockx_path());
    command.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

impl Running {
    /// Starts `command` and drains its output on threads.
    pub fn start(mut command: Command) -> Running {
        Running::start_spawned(command.spawn().expect("sockx starts"))
    }

    /// Drains the output of an already started child (what the test did not take).
    pub fn start_spawned(mut child: Child) -> Running {
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().map(|mut out| {
            thread::spawn(move || {
                let mut data = Vec::new();
                let _ = out.read_to_end(&mut data);
                data
            })
        });
        let stderr = child.stderr.take().map(|mut err| {
            thread::spawn(move || {
                let mut text = String::new();
                let _ = err.read_to_string(&mut text);
                text
            })
        });
        Running {
            child,
            stdin,
            stdout,
            stderr,
            early_stderr: String::new(),
        }
    }

    /// Writes `data` to stdin on a thread, then closes stdin (EOF).
    pub fn feed(&mut self, data: Vec<u8>) -> JoinHandle<()> {
        let mut stdin = self.stdin.take().expect("stdin is piped");
        thread::spawn(move || {
            let _ = stdin.write_all(&data);
        })
    }

    /// Waits for the end (killing the child after `limit`, which fails the test).
    pub fn finish(mut self, limit: Duration) -> Finished {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default());
                panic!(
                    "sockx did not finish within {limit:?}; stderr: {}{}",
                    self.early_stderr,
                    stderr.unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        drop(self.stdin.take());
        let stdout = self
            .stdout
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Finished {
            status,
            stdout,
            stderr: format!("{}{}", self.early_stderr, stderr),
        }
    }

    /// Kills the child (for servers a test is done with) and returns what it printed.
    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        self.finish(Duration::from_secs(10))
    }
}

/// `sockx listen ARGS` started and ready: its port comes from the ready line on stderr.
pub struct Listener {
    /// The running process.
    pub running: Running,
    /// The address from the ready line, e.g. `127.0.0.1:40000` or `[::]:40000`.
    pub addr: String,
    /// The port from the ready line.
    pub port: u16,
}

/// Starts `sockx listen ARGS` and waits (up to 10 s) for `listening on ADDR:PORT (PROTO)`.
pub fn start_listen(args: &[&str]) -> Listener {
    start_listen_with(args, Stdio::piped())
}

/// [`start_listen`] with this stdin (`Stdio::null()` for a listener under nohup or cron).
pub fn start_listen_with(args: &[&str], stdin: Stdio) -> Listener {
    let mut command = sockx_command(&[&["listen"], args].concat());
    command.stdin(stdin).stderr(Stdio::piped());
    let mut child = command.spawn().expect("sockx listen starts");
    let stdin = child.stdin.take();
    let stderr = child.stderr.take().expect("stderr is piped");
    let (sender, receiver) = mpsc::channel();
    let drain = thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        // With --tls the certificate's line comes before the ready line: both are early.
        let mut early = String::new();
        loop {
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let certificate = line.starts_with("tls certificate sha256 ");
            early.push_str(&line);
            if !certificate {
                break;
            }
        }
        let _ = sender.send(early);
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        rest
    });
    let early = match receiver.recv_timeout(Duration::from_secs(10)) {
        Ok(early) => early,
        Err(_) => {
            let _ = child.kill();
            panic!("no ready line from sockx listen {args:?}");
        }
    };
    let line = early.lines().last().unwrap_or_default().to_string();
    let (addr, port) = parse_ready_line(&line)
        .unwrap_or_else(|| panic!("unexpected stderr before the ready line: {early:?}"));
    let stdout = child.stdout.take().map(|mut out| {
        thread::spawn(move || {
            let mut data = Vec::new();
            let _ = out.read_to_end(&mut data);
            data
        })
    });
    Listener {
        running: Running {
            child,
            stdin,
            stdout,
            stderr: Some(drain),
            early_stderr: early,
        },
        addr,
        port,
    }
}

/// `listening on 127.0.0.1:4000 (tcp)` (or `(udp)`, `(tls)`) gives `("127.0.0.1:4000", 4000)`;
/// `listening on unix:/tmp/a.sock (unix)` (or `(unix-dgram)`, `(tls)`) gives
/// `("unix:/tmp/a.sock", 0)`.
pub fn parse_ready_line(line: &str) -> Option<(String, u16)> {
    let rest = line.trim_end().strip_prefix("listening on ")?;
    let (addr, proto) = rest.rsplit_once(' ')?;
    if matches!(proto, "(unix)" | "(unix-dgram)" | "(tls)") && addr.starts_with("unix:") {
        return Some((addr.to_string(), 0));
    }
    if proto != "(tcp)" && proto != "(udp)" && proto != "(tls)" {
        return None;
    }
    let port = addr.rsplit_once(':')?.1.parse().ok()?;
    Some((addr.to_string(), port))
}

/// A loopback port that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Asserts that stderr is exactly one `sockx: error:` line (plus an optional `hint:` line)
/// and no panic text.
pub fn assert_one_error_line(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!stderr.contains("panicked"), "panic in stderr: {stderr}");
    assert!(
        !lines.is_empty() && lines[0].starts_with("sockx: error: "),
        "stderr: {stderr:?}"
    );
    assert!(
        lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
        "more than one error line: {stderr:?}"
    );
}

/// `chunk 1\nchunk 2\n…` up to `count`: what a slow writer sends.
pub fn chunk_lines(count: usize) -> Vec<u8> {
    (1..=count)
        .map(|i| format!("chunk {i}\n"))
        .collect::<String>()
        .into_bytes()
}

/// Writes [`chunk_lines`]`(count)` one line at a time with `pause` before each, as
/// `(for i in …; do echo chunk $i; sleep …; done) |` does, then closes `stdin` (EOF).
pub fn feed_slowly(mut stdin: ChildStdin, count: usize, pause: Duration) -> JoinHandle<()> {
    thread::spawn(move || {
        for i in 1..=count {
            thread::sleep(pause);
            if stdin.write_all(format!("chunk {i}\n").as_bytes()).is_err() {
                return;
            }
        }
    })
}

/// True when `tool` is on PATH: [`super::installed`], by the name tests/unix.rs calls it.
pub fn has_tool(tool: &str) -> bool {
    super::installed(tool)
}

/// A third-party program run by a test, killed (by its own PID) when dropped.
pub struct Peer {
    /// The child process.
    pub child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `socat -d -d ARGS` (its first address a `TCP-LISTEN:0,…`) and returns it with the
/// port from its `listening on AF=2 127.0.0.1:PORT` line; the rest of stderr is drained.
pub fn start_socat_listener(args: &[&str], stdin: Stdio, stdout: Stdio) -> (Peer, u16) {
    let mut child = Command::new("socat")
        .args(["-d", "-d"])
        .args(args)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("socat starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut port = None;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if port.is_none()
                && let Some(at) = line.find("listening on ")
                && let Some(found) = line[at..]
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.trim().parse::<u16>().ok())
            {
                port = Some(found);
                let _ = sender.send(found);
            }
        }
    });
    let peer = Peer { child };
    let port = receiver
        .recv_timeout(Duration::from_secs(10))
        .expect("socat says where it listens");
    (peer, port)
}
