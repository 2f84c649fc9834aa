//! A `sockx listen` watched while it runs: its stdout and stderr are collected as they come, so
//! that a test can wait for what it expects (and interrupt or kill it afterwards).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::relay::{parse_ready_line, sockx_command};

/// Long enough never to be hit unless something hangs.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A `sockx listen` whose stdout and stderr are collected as they come.
pub struct Live {
    /// The process.
    pub child: Child,
    /// The address from the ready line (`127.0.0.1:4000`, `unix:/tmp/d.sock`).
    pub addr: String,
    /// The port from the ready line (0 for a Unix socket).
    pub port: u16,
    /// Its stdin, until a test takes it.
    pub stdin: Option<ChildStdin>,
    /// Everything on stdout so far.
    pub stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The stderr lines before the ready line (with `--tls`, the certificate's).
    pub before_ready: Vec<String>,
    /// The ready line.
    pub ready: String,
    /// Told when stdout and stderr have reached their end ([`Live::finish`]).
    ended: Vec<mpsc::Receiver<()>>,
}

impl Live {
    /// Starts `sockx listen ARGS` and waits for its ready line.
    pub fn start(args: &[&str]) -> Live {
        Live::start_with(args, Stdio::piped())
    }

    /// [`Live::start`] with this stdout (e.g. a pipe whose reader is gone). Lines before the
    /// ready line are kept in [`Live::before_ready`].
    pub fn start_with(args: &[&str], stdout: Stdio) -> Live {
        let mut command = sockx_command(&[&["listen"], args].concat());
        command.stdout(stdout);
        Live::spawn(command)
    }

    /// A `sockx listen` started by another program (`unshare … SOCKX listen …`), with the
    /// environment sockx gets in every test; `args` are the program's, the binary's path
    /// among them.
    pub fn start_via(program: &str, args: &[&str]) -> Live {
        let clean = sockx_command(&[]);
        let mut via = std::process::Command::new(program);
        via.env_clear()
            .envs(
                clean
                    .get_envs()
                    .filter_map(|(key, value)| Some((key, value?))),
            )
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Live::spawn(via)
    }

    fn spawn(mut command: std::process::Command) -> Live {
        let args: Vec<_> = command.get_args().map(|arg| arg.to_owned()).collect();
        let mut child = command.spawn().expect("sockx starts");
        let mut errors = BufReader::new(child.stderr.take().unwrap());
        let mut before_ready = Vec::new();
        let (ready, addr, port) = loop {
            let mut line = String::new();
            if errors.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("no ready line from {args:?}: {before_ready:?}");
            }
            match parse_ready_line(&line) {
                Some((addr, port)) => break (line, addr, port),
                None => before_ready.push(line.trim_end().to_string()),
            }
        };
        let mut ended = Vec::new();
        let stdout = match child.stdout.take() {
            Some(pipe) => collect(pipe, Vec::new(), &mut ended),
            None => Arc::default(),
        };
        let early = before_ready
            .iter()
            .map(|line| format!("{line}\n"))
            .collect::<String>();
        let stderr = collect(errors, format!("{early}{ready}").into_bytes(), &mut ended);
        Live {
            stdin: child.stdin.take(),
            child,
            addr,
            port,
            stdout,
            stderr,
            before_ready,
            ready: ready.trim_end().to_string(),
            ended,
        }
    }

    /// Waits until `done` holds for stdout.
    pub fn wait_stdout(&self, done: impl Fn(&[u8]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(&self.stdout.lock().unwrap()) {
            assert!(Instant::now() < deadline, "stdout: {:?}", self.stdout);
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until `done` holds for stderr; returns stderr.
    pub fn wait_stderr(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned();
            if done(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "stderr: {text}");
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Live {
    /// Everything on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Sends SIGINT (Ctrl-C) to this sockx, by its PID, and waits for its exit code.
    pub fn interrupt(&mut self) -> Option<i32> {
        self.signal(nix::sys::signal::Signal::SIGINT)
    }

    /// Sends `signal` to this sockx, by its PID, and waits for its exit code (`None`: it
    /// ended by the signal).
    pub fn signal(&mut self, signal: nix::sys::signal::Signal) -> Option<i32> {
        use nix::unistd::Pid;
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("a PID"));
        nix::sys::signal::kill(pid, signal).expect("the signal is sent");
        self.wait_exit()
    }

    /// Waits for the exit code (`None`: killed by a signal), then for the last of the output.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let code = self.wait_status();
        thread::sleep(Duration::from_millis(50));
        code
    }

    /// Waits for the exit code, then until stdout and stderr have reached their end (all of
    /// the output is in [`Live::stdout`] and [`Live::stderr`]).
    pub fn finish(&mut self) -> Option<i32> {
        let code = self.wait_status();
        for ended in self.ended.drain(..) {
            let _ = ended.recv_timeout(PATIENCE);
        }
        code
    }

    fn wait_status(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "sockx did not exit; stderr: {}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `from` to its end on a thread, into the returned buffer (which starts with `early`);
/// a receiver pushed onto `ended` is told at the end.
fn collect(
    mut from: impl Read + Send + 'static,
    early: Vec<u8>,
    ended: &mut Vec<mpsc::Receiver<()>>,
) -> Arc<Mutex<Vec<u8>>> {
    let sink = Arc::new(Mutex::new(early));
    let into = Arc::clone(&sink);
    let (done, end) = mpsc::channel();
    ended.push(end);
    thread::spawn(move || {
        let mut buffer = [0u8; 65536];
        while let Ok(n) = from.read(&mut buffer) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buffer[..n]);
        }
        let _ = done.send(());
    });
    sink
}
