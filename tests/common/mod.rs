//! Helpers shared by the integration tests: the binary with a clean environment, root and
//! network-namespace fixtures.
#![allow(dead_code)]

use std::process::Command as StdCommand;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;

/// The real `sockx` binary with a cleared environment (PATH kept, NO_COLOR set).
pub fn sockx() -> Command {
    let mut command = Command::cargo_bin("sockx").expect("the sockx binary is built");
    command.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command.env("NO_COLOR", "1");
    command
}

/// The path of the built binary, for tests that spawn it with `std::process`.
pub fn sockx_path() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("sockx")
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Records why a test is skipped; returns so the test can `return` right after.
///
/// The harness hides what a passing test prints, so the reason also goes to a log that
/// `tests/run.sh` counts and prints after the suite (`SOCKX_SKIP_LOG`, default
/// `target/tmp/skipped.log`).
pub fn skip(test: &str, reason: &str) {
    use std::io::Write;
    let line = format!("SKIPPED {test}: {}", reason.replace('\n', " "));
    eprintln!("{line}");
    let log = std::env::var_os("SOCKX_SKIP_LOG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped.log"));
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// A network namespace made for one test and deleted when dropped. Only loopback is up inside.
pub struct Netns {
    /// The namespace's name, for `ip netns exec NAME`.
    pub name: String,
}

static NETNS_COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Netns {
    /// Creates a fresh namespace with `lo` up, or returns the reason it cannot
    /// (not root, no `ip`, or namespaces not permitted).
    pub fn create() -> Result<Netns, String> {
        if !is_root() {
            return Err("needs root to create a network namespace".into());
        }
        let name = format!(
            "sockx-test-{}-{}",
            std::process::id(),
            NETNS_COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let added = StdCommand::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|err| format!("cannot run ip: {err}"))?;
        if !added.status.success() {
            return Err(format!(
                "ip netns add failed: {}",
                String::from_utf8_lossy(&added.stderr).trim()
            ));
        }
        let netns = Netns { name };
        let up = netns
            .command("ip")
            .args(["link", "set", "lo", "up"])
            .status();
        if !up.is_ok_and(|status| status.success()) {
            return Err("cannot bring lo up in the namespace".into());
        }
        Ok(netns)
    }

    /// A std command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> StdCommand {
        let mut command = StdCommand::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// The real `sockx` binary inside the namespace, with a cleared environment.
    pub fn sockx(&self) -> Command {
        let mut command = Command::new("ip");
        command.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command.env("NO_COLOR", "1");
        command
            .args(["netns", "exec", &self.name])
            .arg(sockx_path());
        command
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = StdCommand::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}
pub mod daemon;
pub mod live;
pub mod pki;
pub mod relay;
pub mod s_server;

/// Whether `program` is on PATH (a test that needs it skips with a reason otherwise).
pub fn installed(program: &str) -> bool {
    StdCommand::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Leaves a stale socket file at `path`: bound by a python3 child that exits, so nobody
/// listens on it. (Bound in the test process, a child that a parallel test forks holds the
/// socket until it execs, and the file then looks live for a moment.)
pub fn stale_socket_file(path: &std::path::Path) {
    let status = StdCommand::new("python3")
        .args([
            "-c",
            "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
        ])
        .arg(path)
        .status()
        .expect("python3 runs");
    assert!(
        status.success(),
        "python3 could not bind {}",
        path.display()
    );
}

/// A peer process the test started (a server, a proxy, a daemon), ended by its own PID when
/// dropped.
pub struct Daemon(pub std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Bytes as text, lossily.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON objects on a command's stdout, one a line.
pub fn json_lines(output: &std::process::Output) -> Vec<serde_json::Value> {
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

/// The field names of a JSON object (empty for anything else), for exact-field-set checks.
pub fn json_keys(value: &serde_json::Value) -> std::collections::BTreeSet<&str> {
    value
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The PIDs in a `ports --json` row's `processes`, in its order.
pub fn pids_of(row: &serde_json::Value) -> Vec<u64> {
    row["processes"]
        .as_array()
        .expect("a row has processes")
        .iter()
        .map(|process| process["pid"].as_u64().expect("a process has a pid"))
        .collect()
}
