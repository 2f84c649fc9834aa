//! `sockx probe` against real peers on loopback (and, as root, a network-namespace fixture).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, UdpSocket};
use std::process::{Output, Stdio};
use std::thread;
use std::time::Duration;

use common::{Netns, json_lines, skip, sockx, text};
use predicates::prelude::*;

/// A listener on 127.0.0.1 and its port.
fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    listener().1
}

#[test]
fn an_open_port_is_open_and_exits_zero() {
    let (_listener, port) = listener();
    sockx()
        .args(["probe", &format!("127.0.0.1:{port}")])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(format!(
                r"^127\.0\.0\.1:{port}\s+open\s+syn-ack\s+[0-9.]+ms\n$"
            ))
            .unwrap(),
        )
        .stderr(predicate::str::contains("1 port on 1 host"));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (_listener, port) = listener();
    let target = format!("127.0.0.1:{port}");
    sockx()
        .args(["probe", "--color", "always", &target])
        .assert()
        .success()
        .stdout(predicate::str::contains("\x1b[32mopen\x1b[0m"));
    sockx()
        .args(["probe", &target])
        .assert()
        .success()
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn a_refused_port_is_closed_and_exits_one() {
    let port = closed_port();
    sockx()
        .args(["probe", "127.0.0.1", "-p", &port.to_string()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("closed"))
        .stdout(predicate::str::contains("conn-refused"));
    // The netcat form HOST PORT.
    sockx()
        .args(["probe", "-q", "127.0.0.1", &port.to_string()])
        .assert()
        .code(1)
        .stderr("");
}

#[test]
fn mixed_ports_need_any() {
    let (_listener, open) = listener();
    let closed = closed_port();
    let target = format!("127.0.0.1:{open},{closed}");
    let all = sockx().args(["probe", &target]).assert().code(1);
    let stdout = text(&all.get_output().stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    sockx().args(["probe", "--any", &target]).assert().success();
    sockx()
        .args(["probe", "--any", &format!("127.0.0.1:{closed}")])
        .assert()
        .code(1);
}

#[test]
fn json_has_exactly_the_contract_fields() {
    let (_listener, open) = listener();
    let closed = closed_port();
    let output = sockx()
        .args(["probe", "--json", &format!("127.0.0.1:{open},{closed}")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let rows = json_lines(&output);
    assert_eq!(rows.len(), 2);
    let expected: BTreeSet<&str> = ["host", "addr", "port", "proto", "state", "reason", "rtt_ms"]
        .into_iter()
        .collect();
    for row in &rows {
        assert_eq!(common::json_keys(row), expected);
        assert_eq!(row["host"], "127.0.0.1");
        assert_eq!(row["addr"], "127.0.0.1");
        assert_eq!(row["proto"], "tcp");
    }
    assert_eq!(rows[0]["port"], open);
    assert_eq!(rows[0]["state"], "open");
    assert_eq!(rows[0]["reason"], "syn-ack");
    assert!(rows[0]["rtt_ms"].is_f64());
    assert_eq!(rows[1]["state"], "closed");
    assert_eq!(rows[1]["reason"], "conn-refused");
}

#[test]
fn banner_is_read_and_escaped() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"SSH-2.0-test\r\n\x00").unwrap();
        thread::sleep(Duration::from_millis(500));
    });
    let output = sockx()
        .args(["probe", "--banner", "--json", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // The JSON string holds the text itself (the encoder escapes it once), not the
    // terminal's escaped form.
    let rows = json_lines(&output);
    assert_eq!(rows[0]["banner"], "SSH-2.0-test\r\n\0");
    assert!(
        text(&output.stdout).contains(r#""banner":"SSH-2.0-test\r\n\u0000""#),
        "{}",
        text(&output.stdout)
    );
    server.join().unwrap();

    // The text line shows it escaped.
    let (second, port) = crate::listener();
    let server = thread::spawn(move || {
        let (mut stream, _) = second.accept().unwrap();
        stream.write_all(b"SSH-2.0-test\r\n\x1b").unwrap();
        thread::sleep(Duration::from_millis(500));
    });
    sockx()
        .args(["probe", "--banner", &format!("127.0.0.1:{port}")])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("SSH-2.0-test\\r\\n\\x1b\n"));
    server.join().unwrap();
}

#[test]
fn more_than_32_ports_list_only_open_ones_unless_state_says_otherwise() {
    let (_listener, open) = listener();
    let start = open.saturating_sub(20).max(1);
    let range = format!("127.0.0.1:{start}-{}", start + 39);
    let output = sockx()
        .args(["probe", "-t", "300ms", &range])
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert!(
        stdout.lines().all(|line| line.contains(" open ")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("127.0.0.1:{open} ")), "{stdout}");
    let all = sockx()
        .args(["probe", "-t", "300ms", "--state", "all", &range])
        .output()
        .unwrap();
    assert_eq!(text(&all.stdout).lines().count(), 40);
    let closed = sockx()
        .args(["probe", "-t", "300ms", "--state", "closed,filtered", &range])
        .output()
        .unwrap();
    let closed_out = text(&closed.stdout);
    assert!(!closed_out.contains(" open "), "{closed_out}");
    assert!(!closed_out.is_empty());
    // Up to 32 ports, every one is listed.
    let small = format!("127.0.0.1:{start}-{}", start + 31);
    let output = sockx()
        .args(["probe", "-t", "300ms", &small])
        .output()
        .unwrap();
    assert_eq!(text(&output.stdout).lines().count(), 32);
}

/// Ports with a TCP listener in this network namespace, from /proc/net/tcp{,6}.
fn listening_ports() -> BTreeSet<u16> {
    let mut ports = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(content) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in content.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 3
                && fields[3] == "0A"
                && let Some((_, port)) = fields[1].rsplit_once(':')
            {
                ports.insert(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports
}

#[test]
fn ephemeral_ports_without_listeners_are_never_open() {
    // Connecting to 127.0.0.1:P can be given P as its own source port and connect to itself
    // (a self-connect); such a port must never be reported open. In a namespace of its own
    // nothing listens, so the whole ephemeral range must come back without an open port.
    if let Ok(netns) = Netns::create() {
        let output = netns
            .sockx()
            .args([
                "probe",
                "-v",
                "-t",
                "300ms",
                "--json",
                "127.0.0.1:32768-60999",
            ])
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(text(&output.stdout), "", "{}", text(&output.stderr));
        assert!(text(&output.stderr).contains("28232 closed"));
        return;
    }
    // Without a namespace, other programs may listen in the range: every port reported open
    // must have had a real listener before or after the scan.
    let before = listening_ports();
    let output = sockx()
        .args(["probe", "-t", "300ms", "--json", "127.0.0.1:40000-44999"])
        .output()
        .unwrap();
    let after = listening_ports();
    for row in json_lines(&output) {
        let port = row["port"].as_u64().unwrap() as u16;
        assert!(
            before.contains(&port) || after.contains(&port),
            "port {port} reported open without a listener: {row}"
        );
    }
}

#[test]
fn wait_for_a_late_server() {
    let port = closed_port();
    let server = thread::spawn(move || {
        thread::sleep(Duration::from_secs(1));
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        thread::sleep(Duration::from_secs(5));
        drop(listener);
    });
    sockx()
        .args([
            "probe",
            "--wait",
            "10s",
            "--interval",
            "100ms",
            &format!("127.0.0.1:{port}"),
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .success()
        .stdout(predicate::str::contains("open"));
    server.join().unwrap();
}

#[test]
fn wait_deadline_names_the_target() {
    let (_listener, open) = listener();
    let closed = closed_port();
    sockx()
        .args([
            "probe",
            "--wait",
            "1s",
            "-t",
            "200ms",
            &format!("127.0.0.1:{open}"),
            &format!("127.0.0.1:{closed}"),
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(format!(
            "sockx: error: timed out after 1s waiting for 127.0.0.1:{closed}\n"
        ));
}

/// `/etc/netns/NAME/resolv.conf` for a test's namespace (`ip netns exec` bind-mounts it over
/// `/etc/resolv.conf`), removed when dropped.
struct NetnsResolver {
    dir: std::path::PathBuf,
}

impl NetnsResolver {
    /// Points the namespace's resolver at 127.0.0.1 inside it, where nothing answers: a name
    /// lookup fails at once and no query leaves the machine.
    fn loopback_only(netns: &Netns) -> std::io::Result<NetnsResolver> {
        let dir = std::path::Path::new("/etc/netns").join(&netns.name);
        std::fs::create_dir_all(&dir)?;
        let resolver = NetnsResolver { dir };
        std::fs::write(
            resolver.dir.join("resolv.conf"),
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        )?;
        Ok(resolver)
    }
}

impl Drop for NetnsResolver {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        // The parent goes too when no other test's namespace uses it.
        let _ = std::fs::remove_dir("/etc/netns");
    }
}

#[test]
fn wait_retries_names_that_do_not_resolve() {
    const NAME: &str = "wait_retries_names_that_do_not_resolve";
    // The lookup runs in a namespace whose resolver is its own loopback: never the system's.
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(reason) => return skip(NAME, &reason),
    };
    let _resolver = match NetnsResolver::loopback_only(&netns) {
        Ok(resolver) => resolver,
        Err(err) => return skip(NAME, &format!("cannot write /etc/netns: {err}")),
    };
    netns
        .sockx()
        .args(["probe", "--wait", "600ms", "no-such-host.invalid:80"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "timed out after 600ms waiting for no-such-host.invalid:80",
        ))
        .stderr(predicate::str::contains("hint: cannot resolve"));
}

#[test]
fn verbose_wait_says_what_each_round_found() {
    let port = closed_port();
    let output = sockx()
        .args([
            "probe",
            "-v",
            "--wait",
            "500ms",
            "--interval",
            "100ms",
            &format!("127.0.0.1:{port}"),
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let rounds: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("round "))
        .collect();
    assert!(rounds.len() >= 2, "{stderr}");
    assert!(
        rounds[0].starts_with("round 1 after ")
            && rounds[0].ends_with(&format!(": 127.0.0.1:{port} closed (conn-refused)")),
        "{stderr}"
    );
}

#[test]
fn a_missing_command_is_said_before_waiting() {
    // The old behaviour waited the whole 60 s first, then failed with the OS's text.
    let port = closed_port();
    sockx()
        .args([
            "probe",
            "--wait",
            "60s",
            &format!("127.0.0.1:{port}"),
            "--",
            "sockx-no-such-program",
        ])
        .timeout(Duration::from_secs(10))
        .assert()
        .code(127)
        .stderr(
            "sockx: error: cannot run 'sockx-no-such-program': command not found\n\
             hint: give the full path, or use -- sh -c '…' for shell syntax\n",
        );
}

#[test]
fn wait_runs_the_command_and_passes_its_status_on() {
    let (_listener, port) = listener();
    sockx()
        .args([
            "probe",
            "--wait",
            "5s",
            &format!("127.0.0.1:{port}"),
            "--",
            "sh",
            "-c",
            "echo ran; exit 7",
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(7)
        .stdout("ran\n");
}

#[test]
fn wait_never_runs_the_command_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let port = closed_port();
    sockx()
        .args([
            "probe",
            "--wait",
            "500ms",
            &format!("127.0.0.1:{port}"),
            "--",
            "touch",
        ])
        .arg(&marker)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1);
    assert!(!marker.exists());
}

#[test]
fn latency_lines_and_stats() {
    let (_listener, port) = listener();
    let output = sockx()
        .args([
            "probe",
            "--count",
            "5",
            "--interval",
            "50ms",
            &format!("127.0.0.1:{port}"),
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let attempts: Vec<&str> = stdout.lines().filter(|l| l.contains("seq=")).collect();
    assert_eq!(attempts.len(), 5, "{stdout}");
    assert!(attempts.iter().all(|l| l.contains("open")));
    assert!(stdout.contains("5 sent, 5 ok, 0% loss"), "{stdout}");
    assert!(stdout.contains("rtt min/avg/max/stddev = "), "{stdout}");
    assert!(stdout.contains("rtt p50/p95/p99 = "), "{stdout}");

    let json = sockx()
        .args([
            "probe",
            "--json",
            "--count",
            "3",
            "--interval",
            "20ms",
            &format!("127.0.0.1:{port}"),
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let rows = json_lines(&json);
    assert_eq!(rows.len(), 4);
    let summary = &rows[3];
    assert_eq!(
        (summary["sent"].as_u64(), summary["ok"].as_u64()),
        (Some(3), Some(3))
    );
    let min = summary["min_ms"].as_f64().unwrap();
    let max = summary["max_ms"].as_f64().unwrap();
    let p50 = summary["p50_ms"].as_f64().unwrap();
    assert!(min <= p50 && p50 <= max);
}

#[test]
fn latency_failures_exit_one() {
    let port = closed_port();
    sockx()
        .args([
            "probe",
            "--count",
            "2",
            "--interval",
            "10ms",
            &format!("127.0.0.1:{port}"),
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("2 sent, 0 ok, 100% loss"));
}

#[test]
fn ctrl_c_ends_count_zero_with_a_summary() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let (_listener, port) = listener();
    let child = std::process::Command::new(common::sockx_path())
        .args([
            "probe",
            "--count",
            "0",
            "--interval",
            "100ms",
            &format!("127.0.0.1:{port}"),
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(700));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains(" sent, "), "{stdout}");
    assert!(stdout.contains("0% loss"), "{stdout}");
}

/// Ctrl-C on a scan prints the open ports found so far and the summary, then exits 130.
#[test]
fn ctrl_c_on_a_scan_keeps_what_was_found() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let (listener, port) = listener();
    // One probe at a time: the open port first, then every port of eight loopback addresses.
    let child = std::process::Command::new(common::sockx_path())
        .args([
            "probe",
            "-c",
            "1",
            &format!("127.0.0.1:{port}"),
            "127.0.0.0/29",
            "-p",
            "all",
        ])
        .env_clear()
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The probe of the open port has connected once the listener accepts it.
    let _ = listener.accept().unwrap();
    thread::sleep(Duration::from_millis(300));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(130), "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!("127.0.0.1:{port}  open  syn-ack")),
        "{stdout}"
    );
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains(" on 9 hosts in "), "{stderr}");
    assert!(last.contains("; interrupted, "), "{stderr}");
}

#[test]
fn ctrl_c_stops_a_wait_with_130() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let port = closed_port();
    let mut child = std::process::Command::new(common::sockx_path())
        .args([
            "probe",
            "--wait",
            "60s",
            &format!("127.0.0.1:{port}"),
            "--",
            "true",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

/// The first Ctrl-C is left to a wind-down (here: the command `--wait` started, which gets
/// the terminal's Ctrl-C itself); a second one always ends sockx with 130.
#[test]
fn a_second_ctrl_c_always_ends_the_run() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let (_listener, port) = listener();
    let mut child = std::process::Command::new(common::sockx_path())
        .args([
            "probe",
            "--wait",
            "60s",
            &format!("127.0.0.1:{port}"),
            "--",
            "sh",
            "-c",
            "echo started; exec cat",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut started = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut started)
        .unwrap();
    assert_eq!(started, "started\n");
    let pid = Pid::from_raw(child.id() as i32);
    kill(pid, Signal::SIGINT).unwrap();
    thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the command still runs"
    );
    kill(pid, Signal::SIGINT).unwrap();
    // Bounded: a sockx that ignored the second Ctrl-C would wait for cat for ever.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    // cat ends with its input.
    drop(child.stdin.take());
    assert_eq!(status.and_then(|status| status.code()), Some(130));
}

#[test]
fn udp_reply_is_open_and_silence_or_icmp_is_not() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = peer.local_addr().unwrap().port();
    let echo = thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        peer.send_to(&buf[..n], from).unwrap();
        buf[..n].to_vec()
    });
    sockx()
        .args([
            "probe",
            "-u",
            "--payload",
            "\\x00hi\\n",
            &format!("127.0.0.1:{port}"),
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .success()
        .stdout(predicate::str::contains("open"))
        .stdout(predicate::str::contains("udp-response"));
    assert_eq!(echo.join().unwrap(), b"\x00hi\n");

    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    sockx()
        .args([
            "probe",
            "-u",
            "-t",
            "500ms",
            "--json",
            &format!("127.0.0.1:{closed}"),
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            r#""state":"closed","reason":"port-unreach""#,
        ))
        .stdout(predicate::str::contains(r#""proto":"udp""#));

    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    sockx()
        .args([
            "probe",
            "-u",
            "-t",
            "300ms",
            &format!("127.0.0.1:{silent_port}"),
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("open|filtered"))
        .stdout(predicate::str::contains("no-response"));
}

#[test]
fn cidr_blocks_probe_every_address() {
    let (_listener, port) = listener();
    let output = sockx()
        .args([
            "probe",
            "-t",
            "300ms",
            "--json",
            &format!("127.0.0.0/30:{port}"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let rows = json_lines(&output);
    let hosts: Vec<&str> = rows.iter().map(|r| r["host"].as_str().unwrap()).collect();
    assert_eq!(hosts, ["127.0.0.0", "127.0.0.1", "127.0.0.2", "127.0.0.3"]);
    assert_eq!(rows[1]["state"], "open");
    sockx()
        .args([
            "probe",
            "-t",
            "300ms",
            "--any",
            &format!("127.0.0.0/30:{port}"),
        ])
        .assert()
        .success();
    sockx()
        .args(["probe", "127.0.0.0/8:22,80"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("too many probes"));
}

#[test]
fn malformed_input_exits_two() {
    let cases: &[&[&str]] = &[
        &["127.0.0.1:0"],
        &["127.0.0.1:65536"],
        &["127.0.0.1:90-80"],
        &["127.0.0.1:nosuchservice"],
        &["127.0.0.1", "-p", "0"],
        &["127.0.0.1", "-p", "1-70000"],
        &["127.0.0.1", "-p", "nosuchservice"],
        &["127.0.0.1"],
        &["bad host:80"],
        &["[::1:80"],
        &["127.0.0.1:80", "-t", "fast"],
        &["127.0.0.1:80", "--wait", "soon"],
        &["127.0.0.1:80", "--state", "opened"],
        &["127.0.0.1:80", "-u", "--payload", "\\xZZ"],
        &["127.0.0.1:80", "-c", "0"],
        &["127.0.0.0/33:80"],
        &["-6", "127.0.0.1:80"],
        &["127.0.0.1:80", "--", "true"],
    ];
    for args in cases {
        let output = sockx().arg("probe").args(*args).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("sockx: error: "), "{args:?}: {stderr}");
    }
}

/// A probe of a one-shot `sockx listen` closes with a FIN: the listener sees an ordinary end
/// and exits 0 (a reset made it fail with "reset by peer"). Scan, `--wait` and `--count`.
#[test]
fn small_probes_close_with_a_fin() {
    for mode in [&[][..], &["--wait", "5s"], &["--count", "1"]] {
        let mut listen = common::relay::start_listen(&["127.0.0.1:0"]);
        drop(listen.running.stdin.take());
        sockx()
            .arg("probe")
            .args(mode)
            .arg(format!("127.0.0.1:{}", listen.port))
            .timeout(Duration::from_secs(20))
            .assert()
            .success();
        let finished = listen.running.finish(Duration::from_secs(10));
        assert_eq!(finished.code(), 0, "{mode:?}: {}", finished.stderr);
    }
}

#[test]
fn a_udp_payload_over_65507_bytes_is_invalid_input() {
    let port = closed_port();
    let target = format!("127.0.0.1:{port}");
    sockx()
        .args(["probe", "-u", &target, "--payload", &"x".repeat(65_508)])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "sockx: error: --payload is 65508 bytes",
        ));
    // The largest datagram is sent (and the closed port says so).
    sockx()
        .args(["probe", "-u", &target, "--payload", &"x".repeat(65_507)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("closed"));
}

/// With no free local port (`ip_local_port_range` used up in a namespace), a probe says so
/// (`no-local-port`) within its timeout, and `--wait` and `--count` keep their pace; before,
/// every probe spent 5 s backing off, then said `filtered error`.
#[test]
fn no_free_local_port_is_said_within_every_deadline() {
    const NAME: &str = "no_free_local_port_is_said_within_every_deadline";
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(reason) => return skip(NAME, &reason),
    };
    let range = netns
        .command("sysctl")
        .args(["-qw", "net.ipv4.ip_local_port_range=40000 40001"])
        .status();
    if !range.is_ok_and(|status| status.success()) {
        return skip(NAME, "cannot set ip_local_port_range in the namespace");
    }
    // Two listeners hold both local ports; the probed port is one of them (open).
    let Some(mut holder) = listeners_in(&netns, &[40000, 40001]) else {
        return skip(NAME, "python3 listeners failed");
    };
    let target = "127.0.0.1:40000";
    let timed = |args: &[&str]| {
        let begun = std::time::Instant::now();
        let output = netns
            .sockx()
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        (output, begun.elapsed())
    };
    let (scan, took) = timed(&["probe", "--json", "-t", "300ms", target]);
    assert_eq!(scan.status.code(), Some(1), "{}", text(&scan.stderr));
    let rows = json_lines(&scan);
    assert_eq!(rows[0]["reason"], "no-local-port", "{rows:?}");
    assert!(took < Duration::from_secs(4), "a 300ms probe took {took:?}");

    let (wait, took) = timed(&["probe", "--wait", "1s", "-t", "200ms", target]);
    assert_eq!(wait.status.code(), Some(1));
    assert!(
        text(&wait.stderr).contains("hint: no free local port"),
        "{}",
        text(&wait.stderr)
    );
    assert!(took < Duration::from_secs(4), "--wait 1s took {took:?}");

    let (count, took) = timed(&[
        "probe",
        "--count",
        "3",
        "-t",
        "300ms",
        "--interval",
        "300ms",
        target,
    ]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(count.status.code(), Some(1));
    assert_eq!(
        text(&count.stdout).matches("no-local-port").count(),
        3,
        "{}",
        text(&count.stdout)
    );
    assert!(took < Duration::from_secs(5), "--count 3 took {took:?}");
}

/// With no descriptor left for a socket (and none of ours in flight to free one), a probe says
/// `no-descriptors` within its timeout; before, it backed off for 5 s and said `filtered error`.
#[test]
fn no_descriptor_is_said_within_the_timeout() {
    let port = closed_port();
    let begun = std::time::Instant::now();
    // Four descriptors: stdin, stdout, stderr and the poller; any inherited one closed first.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("for fd in 3 4 5 6 7 8 9; do eval \"exec $fd>&-\"; done; ulimit -n 4 && exec \"$0\" probe --json -t 300ms \"$1\"")
        .arg(common::sockx_path())
        .arg(format!("127.0.0.1:{port}"))
        .env_clear()
        .output()
        .unwrap();
    let took = begun.elapsed();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let rows = json_lines(&output);
    assert_eq!(rows[0]["reason"], "no-descriptors", "{rows:?}");
    assert_eq!(rows[0]["state"], "filtered", "{rows:?}");
    assert!(took < Duration::from_secs(4), "a 300ms probe took {took:?}");
}

/// Starts a python listener holding `ports` inside `netns`; returns the child once ready.
fn listeners_in(netns: &Netns, ports: &[u16]) -> Option<std::process::Child> {
    let script = "import socket, sys, time\nheld = []\nfor p in map(int, sys.argv[1:]):\n    s = socket.socket()\n    s.bind(('127.0.0.1', p))\n    s.listen(128)\n    held.append(s)\nprint('ready', flush=True)\ntime.sleep(120)\n";
    let mut child = netns
        .command("python3")
        .arg("-c")
        .arg(script)
        .args(ports.iter().map(u16::to_string))
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    (line.trim() == "ready").then_some(child)
}

/// A fresh namespace whose input hook drops TCP to `ports` (e.g. `1000-1999`), or why not.
fn namespace_dropping(ports: &str) -> Result<Netns, String> {
    let netns = Netns::create()?;
    let rules = format!(
        "table inet f {{\n chain in {{\n  type filter hook input priority 0;\n  tcp dport {ports} drop\n }}\n}}\n"
    );
    let mut nft = netns
        .command("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run nft: {err}"))?;
    nft.stdin
        .take()
        .ok_or("no stdin for nft")?
        .write_all(rules.as_bytes())
        .map_err(|err| err.to_string())?;
    match nft.wait() {
        Ok(status) if status.success() => Ok(netns),
        _ => Err("nft refused the rules".to_string()),
    }
}

#[test]
fn running_out_of_descriptors_backs_off_instead_of_failing() {
    let netns = match namespace_dropping("1000-1099") {
        Ok(netns) => netns,
        Err(reason) => {
            return skip(
                "running_out_of_descriptors_backs_off_instead_of_failing",
                &reason,
            );
        }
    };
    // 40 descriptors and a window of 500 while 100 dropped ports hold their sockets: socket()
    // fails with EMFILE; the scan must back off and still give every port its true state.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 40 && exec ip netns exec \"$1\" \"$0\" probe 127.0.0.1:1-2000 -c 500 -t 300ms --json --state all")
        .arg(common::sockx_path())
        .arg(&netns.name)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let rows = json_lines(&output);
    assert_eq!(rows.len(), 2000);
    for row in rows {
        let port = row["port"].as_u64().unwrap();
        let want = if (1000..=1099).contains(&port) {
            "filtered"
        } else {
            "closed"
        };
        assert_eq!(row["state"], want, "{row}");
    }
}

#[test]
fn full_scan_in_a_namespace_with_a_dropped_range() {
    let netns = match namespace_dropping("1000-1999") {
        Ok(netns) => netns,
        Err(reason) => return skip("full_scan_in_a_namespace_with_a_dropped_range", &reason),
    };
    let open: [u16; 4] = [22, 8080, 31337, 50001];
    let Some(mut holder) = listeners_in(&netns, &open) else {
        return skip(
            "full_scan_in_a_namespace_with_a_dropped_range",
            "python3 listeners failed",
        );
    };
    let output = netns
        .sockx()
        .args([
            "probe",
            "127.0.0.1",
            "-p",
            "all",
            "-t",
            "300ms",
            "--state",
            "all",
            "--json",
        ])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let states: HashMap<u64, (String, String)> = json_lines(&output)
        .into_iter()
        .map(|row| {
            let state = row["state"].as_str().unwrap().to_string();
            let reason = row["reason"].as_str().unwrap().to_string();
            (row["port"].as_u64().unwrap(), (state, reason))
        })
        .collect();
    assert_eq!(states.len(), 65535);
    for port in 1..=65535u64 {
        let want = if open.contains(&(port as u16)) {
            ("open", "syn-ack")
        } else if (1000..=1999).contains(&port) {
            ("filtered", "timeout")
        } else {
            ("closed", "conn-refused")
        };
        let got = &states[&port];
        assert_eq!((got.0.as_str(), got.1.as_str()), want, "port {port}");
    }
    // The default listing: open ports only.
    let listed = netns
        .sockx()
        .args([
            "probe",
            "127.0.0.1",
            "-p",
            "900-2100,22,8080",
            "-t",
            "300ms",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    let stdout = text(&listed.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        text(&listed.stderr).contains("1000 filtered"),
        "{}",
        text(&listed.stderr)
    );
}

/// `-v` sessions print their summary before Ctrl-C stops them (exit 130).
#[test]
fn ctrl_c_in_verbose_sessions_prints_the_summary_first() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let port = closed_port();
    let mut wait = std::process::Command::new(common::sockx_path())
        .args(["probe", "-v", "--wait", "60s", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_millis(500));
    kill(Pid::from_raw(wait.id() as i32), Signal::SIGINT).unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut wait.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(wait.wait().unwrap().code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!("still waiting for 127.0.0.1:{port}")),
        "{stderr}"
    );

    // A scan long enough to be stopped: every port of eight loopback addresses, one at a time.
    let mut scan = std::process::Command::new(common::sockx_path())
        .args(["probe", "-v", "-c", "1", "127.0.0.0/29", "-p", "all"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(scan.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("probing "), "{first}");
    kill(Pid::from_raw(scan.id() as i32), Signal::SIGINT).unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(scan.wait().unwrap().code(), Some(130), "{rest:?}");
    let last = rest.last().cloned().unwrap_or_default();
    assert!(last.contains(" on 8 hosts in "), "{rest:?}");
    assert!(last.contains("; interrupted, "), "{rest:?}");
}

/// The netcat form takes a service name as the port word, as `nc -z 127.0.0.1 ssh` does.
#[test]
fn the_netcat_form_takes_service_names() {
    let output = sockx()
        .args(["probe", "127.0.0.1", "ssh,http", "--json", "--state", "all"])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_ne!(output.status.code(), Some(2), "{stderr}");
    let ports: Vec<u64> = json_lines(&output)
        .iter()
        .map(|row| row["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, vec![22, 80], "{stderr}");
}

/// `::1:80` is itself an IPv6 address: the error says how to give such an address a port.
#[test]
fn a_bare_ipv6_address_without_ports_points_at_brackets() {
    sockx()
        .args(["probe", "::1:80"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("write [IPv6]:PORTS"));
}

/// `--targets-file` (a file, or `-` for stdin) with comments, `--exclude` and
/// `--exclude-ports` take targets in and out.
#[test]
fn targets_files_and_excludes() {
    let (_a, open) = listener();
    let closed = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets");
    std::fs::write(
        &file,
        format!("# loopback\n127.0.0.1:{open}  # the open one\n\n127.0.0.2 {closed}\n127.0.0.0/30:{closed}\n"),
    )
    .unwrap();
    let ports = |output: &Output| -> Vec<(String, u64)> {
        json_lines(output)
            .iter()
            .map(|row| {
                (
                    row["host"].as_str().unwrap().to_string(),
                    row["port"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let output = sockx()
        .args(["probe", "--json", "--targets-file"])
        .arg(&file)
        .args(["--exclude", "127.0.0.0/31", "--exclude", "127.0.0.3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(
        ports(&output),
        [
            ("127.0.0.2".to_string(), closed as u64),
            ("127.0.0.2".to_string(), closed as u64)
        ],
        "the excluded 127.0.0.1 and .0, .3 are left out"
    );
    // From stdin, with a port excluded: only the open port is left, and it is open.
    let output = sockx()
        .args(["probe", "--json", "--targets-file", "-", "--exclude-ports"])
        .arg(closed.to_string())
        .write_stdin(std::fs::read(&file).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(ports(&output), [("127.0.0.1".to_string(), open as u64)]);
    // Everything excluded, or a bad line: invalid input.
    sockx()
        .args([
            "probe",
            &format!("127.0.0.1:{open}"),
            "--exclude",
            "127.0.0.1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to probe"));
    std::fs::write(&file, "127.0.0.1:0\n").unwrap();
    sockx()
        .args(["probe", "--targets-file"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 1"));
}

/// `--random` probes the same ports in another order, and the report is still in order.
#[test]
fn random_order_probes_every_port_once() {
    let (_a, open) = listener();
    let output = sockx()
        .args([
            "probe",
            "--random",
            "--json",
            "--state",
            "all",
            "-p",
            "1-200",
            "127.0.0.1",
            &format!("127.0.0.1:{open}"),
        ])
        .output()
        .unwrap();
    let ports: Vec<u64> = json_lines(&output)
        .iter()
        .map(|row| row["port"].as_u64().unwrap())
        .collect();
    let mut want: Vec<u64> = (1..=200).collect();
    want.push(open as u64);
    assert_eq!(ports, want, "{}", text(&output.stderr));
}

/// `--rate N` starts at most N probes a second: 21 probes at 20/s take at least a second.
#[test]
fn rate_spaces_the_probes() {
    let begun = std::time::Instant::now();
    let output = sockx()
        .args(["probe", "--rate", "20", "127.0.0.1:1-21"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(
        begun.elapsed() >= Duration::from_millis(950),
        "{:?}",
        begun.elapsed()
    );
    for bad in ["0", "-1", "x", "inf", "NaN", "1e-300", "1e9"] {
        sockx()
            .args(["probe", "--rate", bad, "127.0.0.1:1"])
            .assert()
            .code(2);
    }
}

/// A plan above the documented maximum (2^24 probes) is refused before any probe (exit 2).
#[test]
fn plans_above_the_maximum_are_refused() {
    sockx()
        .args(["probe", "127.0.0.0/8:1,2"])
        .timeout(Duration::from_secs(10))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("too many probes: 33554432"));
    // --wait and --count keep a state per target: at most 2^20.
    for mode in [&["--wait", "1s"][..], &["--count", "1"]] {
        sockx()
            .arg("probe")
            .args(mode)
            .arg("127.0.0.0/11:1")
            .timeout(Duration::from_secs(10))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("too many probes: 2097152"));
    }
}

/// `--prometheus` is the text exposition format, as promtool checks it.
#[test]
fn prometheus_output_passes_promtool() {
    let (_a, open) = listener();
    let closed = closed_port();
    let output = sockx()
        .args([
            "probe",
            "--prometheus",
            &format!("127.0.0.1:{open},{closed}"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let exposition = text(&output.stdout);
    assert!(
        exposition.contains(&format!(
            "sockx_probe_up{{host=\"127.0.0.1\",addr=\"127.0.0.1\",port=\"{open}\",proto=\"tcp\"}} 1\n"
        )),
        "{exposition}"
    );
    assert!(
        exposition.contains(&format!("port=\"{closed}\",proto=\"tcp\"}} 0\n")),
        "{exposition}"
    );
    assert!(exposition.contains("# TYPE sockx_probe_rtt_seconds gauge\n"));
    assert!(exposition.contains("\nsockx_probe_duration_seconds "));
    let Ok(mut promtool) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        return skip(
            "prometheus_output_passes_promtool",
            "promtool not installed (Debian package prometheus)",
        );
    };
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
}

/// With an application check, `--prometheus` adds `sockx_probe_check_ok`.
#[test]
fn prometheus_reports_the_check() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"+PONG\r\n").unwrap();
        thread::sleep(Duration::from_millis(300));
    });
    let output = sockx()
        .args([
            "probe",
            "--prometheus",
            &format!("127.0.0.1:{port}"),
            "--expect",
            "PONG",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains(&format!(
            "sockx_probe_check_ok{{host=\"127.0.0.1\",addr=\"127.0.0.1\",port=\"{port}\",proto=\"tcp\"}} 1\n"
        )),
        "{}",
        text(&output.stdout)
    );
    server.join().unwrap();
}
