//! The common contract: help, version, usage errors and exit codes.

mod common;

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::relay::{assert_one_error_line, start_listen};
use common::sockx;
use predicates::prelude::*;

#[test]
fn help_and_version_exit_zero() {
    sockx()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("ports"));
    sockx()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("sockx "));
    sockx()
        .args(["help", "ports"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--exposed"));
}

#[test]
fn unknown_flag_is_one_error_line_and_a_hint() {
    let output = sockx().args(["ports", "--no-such-flag"]).assert().code(2);
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("sockx: error: "), "{stderr}");
    assert!(lines[1].starts_with("hint: "), "{stderr}");
}

#[test]
fn bad_ports_exit_two() {
    for bad in ["0", "65536", "90-80", "x1", "-5-"] {
        sockx()
            .args(["ports", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("sockx: error: "));
    }
}

/// clap's details (which argument is missing, which values exist) stay in the one error line,
/// and the hint points at the subcommand's help even for a bad value.
#[test]
fn usage_errors_name_what_is_missing() {
    let cases: [(&[&str], &str, &str); 5] = [
        (&["probe"], "not provided: <TARGET>", "sockx probe --help"),
        (
            &["probe", "127.0.0.1:9", "--", "true"],
            "not provided: --wait <DUR>",
            "sockx probe --help",
        ),
        (
            &["completions", "cmd.exe"],
            "[possible values: bash",
            "sockx completions --help",
        ),
        (&["ports", "0"], "port 0", "sockx ports --help"),
        (
            &["-q", "-v", "ports"],
            "cannot be used with",
            "sockx ports --help",
        ),
    ];
    for (args, message, hint) in cases {
        let output = sockx().args(args).assert().code(2);
        let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {stderr}");
        assert!(lines[0].starts_with("sockx: error: "), "{stderr}");
        assert!(lines[0].contains(message), "{args:?}: {stderr}");
        assert!(lines[1].contains(hint), "{args:?}: {stderr}");
    }
}

/// Every help page shows examples, and the options every subcommand takes stand apart from the
/// subcommand's own instead of being shuffled among them.
#[test]
fn help_pages_show_examples_and_keep_global_options_apart() {
    for args in [
        &["--help"][..],
        &["help", "ports"][..],
        &["probe", "--help"][..],
        &["completions", "--help"][..],
    ] {
        let output = sockx().args(args).assert().success();
        let help = String::from_utf8_lossy(&output.get_output().stdout).to_string();
        assert!(help.contains("\nExamples:\n  sockx "), "{args:?}: {help}");
        let global = help.find("Global options:").expect("a global heading");
        let verbose = help.find("-v, --verbose").expect("-v listed");
        assert!(verbose > global, "{args:?}: {help}");
    }
}

/// `listen --help` shows a served mode on a Unix socket, not only the plain relay.
#[test]
fn listen_help_shows_a_command_served_on_a_unix_socket() {
    let output = sockx().args(["listen", "--help"]).assert().success();
    let help = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    let examples = &help[help.find("\nExamples:\n").expect("examples")..];
    assert!(
        examples
            .lines()
            .any(|line| line.contains("--sh-exec") && line.contains(" unix:/")),
        "{help}"
    );
}

#[test]
fn an_address_of_the_wrong_family_is_invalid_input() {
    for args in [
        &["-6", "listen", "127.0.0.1:0"][..],
        &["-6", "connect", "127.0.0.1:9"][..],
        &["-4", "connect", "[::1]:9"][..],
        &["-6", "probe", "127.0.0.1:9"][..],
    ] {
        let output = sockx().args(args).assert().code(2);
        let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
        assert!(stderr.starts_with("sockx: error: "), "{args:?}: {stderr}");
        let flag = args[0];
        let version = if flag == "-4" { "IPv4" } else { "IPv6" };
        let expected = format!("is not an {version} address ({flag} was given)");
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
    }
}

/// Durations above the documented maximum (365 days) are refused at parse time, for every
/// flag that takes one: they used to overflow the clock and abort with a panic.
#[test]
fn durations_above_a_year_are_invalid_input() {
    let huge = "9999999999999999999";
    let cases: [&[&str]; 9] = [
        &["connect", "--retry", huge, "127.0.0.1:9"],
        &["connect", "-w", huge, "127.0.0.1:9"],
        &["connect", "-i", "366d", "127.0.0.1:9"],
        &["probe", "-t", huge, "127.0.0.1:9"],
        &["probe", "--wait", huge, "127.0.0.1:9"],
        &["probe", "--count", "2", "--interval", huge, "127.0.0.1:9"],
        &["listen", "-k", "-w", huge, "127.0.0.1:0"],
        &["listen", "-k", "--echo", "-w", "1000000000y", "127.0.0.1:0"],
        &["listen", "-u", "-w", "31536001", "127.0.0.1:0"],
    ];
    for args in cases {
        let output = sockx().args(args).write_stdin("").assert().code(2);
        let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
        assert_one_error_line(&stderr);
        assert!(stderr.contains("maximum of 365 days"), "{args:?}: {stderr}");
    }
}

/// A zero where a timeout or an interval is required is invalid input: `listen -w 0` used to
/// reset every TCP client, and fail over UDP after the ready line with Rust's own text.
#[test]
fn zero_timeouts_and_intervals_are_invalid_input() {
    let cases: [&[&str]; 8] = [
        &["listen", "-w", "0", "127.0.0.1:0"],
        &["listen", "-u", "-w", "0s", "127.0.0.1:0"],
        &["listen", "-k", "--echo", "-w", "0ms", "127.0.0.1:0"],
        &["connect", "-w", "0", "127.0.0.1:9"],
        &["connect", "-i", "0", "127.0.0.1:9"],
        &["probe", "-t", "0", "127.0.0.1:9"],
        &["probe", "--count", "2", "--interval", "0", "127.0.0.1:9"],
        // wait-for-it's `-t 0` means "forever": a zero deadline is a mistake, not a failure.
        &["probe", "--wait", "0", "127.0.0.1:9"],
    ];
    for args in cases {
        let output = sockx().args(args).write_stdin("").assert().code(2);
        let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
        assert_one_error_line(&stderr);
        assert!(!stderr.contains("listening on"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("must be longer than 0"),
            "{args:?}: {stderr}"
        );
    }
}

/// A long but valid idle timeout: the first client no longer kills the server, with the
/// plain relay and with `--echo`.
#[test]
fn listen_keep_open_with_a_300_day_idle_timeout_serves_client_after_client() {
    use std::io::{Read, Write};
    let echo = start_listen(&["-k", "--echo", "-w", "300d", "127.0.0.1:0"]);
    for round in 0..2 {
        let mut client = TcpStream::connect(("127.0.0.1", echo.port)).expect("connects");
        client
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let message = format!("hello {round}\n");
        client.write_all(message.as_bytes()).unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = String::new();
        client
            .read_to_string(&mut back)
            .expect("the echo comes back");
        assert_eq!(back, message);
    }
    let finished = echo.running.kill();
    assert!(!finished.stderr.contains("panicked"), "{}", finished.stderr);

    let relay = start_listen(&["-k", "-w", "300d", "127.0.0.1:0"]);
    for round in 0..2 {
        let mut client = TcpStream::connect(("127.0.0.1", relay.port)).expect("connects");
        client
            .write_all(format!("line {round}\n").as_bytes())
            .unwrap();
    }
    // The second connection was accepted after the first closed: the server is alive.
    let mut third = TcpStream::connect(("127.0.0.1", relay.port)).expect("still serving");
    third.write_all(b"line 2\n").unwrap();
    drop(third);
    let finished = relay.running.kill();
    assert!(!finished.stderr.contains("panicked"), "{}", finished.stderr);
}

/// Long but valid durations in connect and probe: sessions work as with short ones.
#[test]
fn connect_and_probe_accept_300_day_durations() {
    use std::io::{Read, Write};
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let answering = std::thread::spawn(move || {
        // connect, then probe --count 2 and probe --wait.
        for _ in 0..4 {
            let Ok((mut stream, _)) = server.accept() else {
                return;
            };
            let mut request = Vec::new();
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.read_to_end(&mut request);
            let _ = stream.write_all(b"pong");
        }
    });
    let target = format!("127.0.0.1:{port}");
    sockx()
        .args(["connect", "-w", "300d", "--retry", "300d", "-i", "300d"])
        .args(["--send", "ping", &target])
        .assert()
        .success()
        .stdout("pong");
    sockx()
        .args([
            "probe",
            "-t",
            "300d",
            "--count",
            "2",
            "--interval",
            "10ms",
            &target,
        ])
        .assert()
        .success();
    sockx()
        .args([
            "probe",
            "-t",
            "300d",
            "--wait",
            "300d",
            "--interval",
            "300d",
            &target,
        ])
        .assert()
        .success();
    drop(answering);
}

/// The top-level help lists every exit code of the contract, 130 included, and the limit on
/// durations.
#[test]
fn top_level_help_lists_every_exit_code_and_the_duration_limit() {
    let output = sockx().arg("--help").assert().success();
    let help = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    for needle in [
        "0 success",
        "1 negative",
        "2 invalid usage",
        "130 interrupted",
        "365 days",
    ] {
        assert!(help.contains(needle), "{needle} missing: {help}");
    }
}

/// Every subcommand's help says its exit statuses, Ctrl-C's 130 included.
#[test]
fn every_subcommand_help_lists_its_exit_statuses() {
    for command in ["listen", "connect", "ports", "probe"] {
        let output = sockx().args([command, "--help"]).assert().success();
        let help = String::from_utf8_lossy(&output.get_output().stdout).to_string();
        for needle in ["Exit status: 0 ", "2 on invalid usage", "130 on Ctrl-C"] {
            assert!(help.contains(needle), "{command}: {needle} missing: {help}");
        }
    }
}

/// Hyphenated service names are ports, not ranges, wherever a port is accepted (`connect`
/// always took them; `probe` and `ports` read them as a reversed or unknown range).
#[test]
fn probe_takes_hyphenated_service_names() {
    let cases: [(&[&str], &[&str]); 3] = [
        (&["127.0.0.1:http-alt"], &["127.0.0.1:8080 "]),
        (&["-p", "ftp-data", "127.0.0.1"], &["127.0.0.1:20 "]),
        (
            &["127.0.0.1:ftp-data-22"],
            &["127.0.0.1:20 ", "127.0.0.1:21 ", "127.0.0.1:22 "],
        ),
    ];
    for (args, expected) in cases {
        // Loopback only: each answer is open or closed, never a usage error.
        let output = sockx().arg("probe").args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_ne!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        for port in expected {
            assert!(stdout.contains(port), "{args:?}: {stdout}");
        }
    }
}

#[test]
fn ports_takes_hyphenated_service_names() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert!(port >= 8080, "an ephemeral port is above 8080");
    // `http-alt-` is 8080-65535, nmap's open form with a named start.
    let output = sockx()
        .args(["ports", "--json", "-t", "http-alt-"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&output.get_output().stdout).to_string();
    assert!(
        stdout.contains(&format!("\"local_port\":{port}")),
        "{stdout}"
    );
    let output = sockx().args(["ports", "https-alt"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_ne!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    drop(listener);
}

/// A namespace whose resolver is 127.0.0.1 (nothing answers there): a test that might
/// resolve a name never sends a DNS query off the machine, even when the code regresses.
struct NoDnsNetns {
    netns: common::Netns,
    dir: std::path::PathBuf,
}

impl NoDnsNetns {
    fn create() -> Result<NoDnsNetns, String> {
        let netns = common::Netns::create()?;
        let dir = std::path::Path::new("/etc/netns").join(&netns.name);
        std::fs::create_dir_all(&dir).map_err(|err| format!("cannot create {dir:?}: {err}"))?;
        std::fs::write(dir.join("resolv.conf"), "nameserver 127.0.0.1\n")
            .map_err(|err| format!("cannot write resolv.conf: {err}"))?;
        Ok(NoDnsNetns { netns, dir })
    }
}

impl Drop for NoDnsNetns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Dotted all-numeric hosts that are not IPv4 literals are invalid input wherever a host is
/// named (connect, -s, listen's bind address, probe targets), refused before any lookup.
#[test]
fn dotted_numbers_that_are_not_ipv4_are_invalid_input_without_a_lookup() {
    let netns = match NoDnsNetns::create() {
        Ok(netns) => netns,
        Err(reason) => {
            // Without a namespace a regression would send these names to the system's DNS.
            return common::skip(
                "dotted_numbers_that_are_not_ipv4_are_invalid_input_without_a_lookup",
                &reason,
            );
        }
    };
    let cases: [&[&str]; 9] = [
        &["connect", "256.1.1.1:80"],
        &["connect", "1.2.3.4.5", "80"],
        &["connect", "-u", "256.1.1.1:53"],
        &["connect", "-s", "300.1.1.1", "127.0.0.1:9"],
        &["listen", "256.1.1.1:0"],
        &["listen", "1.2.3.4.5", "0"],
        &["probe", "256.1.1.1:22"],
        &["probe", "-p", "22", "1.2.3.4.5"],
        &["probe", "127.0.0.1:9", "300.1.1.1:9"],
    ];
    for args in cases {
        let output = netns
            .netns
            .sockx()
            .args(args)
            .write_stdin("")
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
        assert_one_error_line(&stderr);
        assert!(
            stderr.contains("is not a valid IPv4 address"),
            "{args:?}: {stderr}"
        );
    }
}

/// A `--send` piece larger than one UDP datagram can be is invalid input (it said "message
/// too long" with exit 1 after starting); the largest that fits still goes out whole.
#[test]
fn connect_udp_send_larger_than_a_datagram_is_invalid_input() {
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    server
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let target = server.local_addr().unwrap().to_string();
    let too_big = "a".repeat(70_000);
    let output = sockx()
        .args(["connect", "-u", "--send", &too_big, &target])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
    assert_one_error_line(&stderr);
    assert!(
        stderr.contains("70000 bytes") && stderr.contains("65507"),
        "{stderr}"
    );
    let mut buffer = vec![0u8; 70_000];
    assert!(server.recv(&mut buffer).is_err(), "nothing was sent");

    // With --crlf a piece grows: 40,000 newlines become 80,000 bytes.
    let lines = "\\n".repeat(40_000);
    sockx()
        .args(["connect", "-u", "-C", "--send", &lines, &target])
        .assert()
        .code(2);

    let largest = "b".repeat(65_507);
    let replying = std::thread::spawn(move || {
        server
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (got, from) = server.recv_from(&mut buffer).expect("the datagram arrives");
        server.send_to(b"ok", from).unwrap();
        got
    });
    sockx()
        .args(["connect", "-u", "-i", "3s", "--send", &largest, &target])
        .assert()
        .success()
        .stdout("ok");
    assert_eq!(replying.join().unwrap(), 65_507);
}

/// Every error that quotes an argument cuts it to a readable length: a 128 KiB argument gives
/// one short error line (it used to be quoted whole), wherever it is given.
#[test]
fn a_128_kib_argument_gives_one_short_error_line() {
    // The kernel takes at most 128 KiB per argument, its final NUL included.
    let long = "a".repeat(128 * 1024 - 16);
    let digits = "9".repeat(128 * 1024 - 16);
    let host_port = format!("{long}:80");
    let target_port = format!("127.0.0.1:{long}");
    let flag = format!("--{long}");
    let unbalanced = format!("'{long}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["ports", &flag],
        vec!["ports", &digits],
        vec!["ports", &long],
        vec!["ports", "--user", &long],
        vec!["ports", "--state", &long],
        vec!["probe", &host_port],
        vec!["probe", &target_port],
        vec!["probe", "-p", &long, "127.0.0.1"],
        vec!["probe", "--state", &long, "127.0.0.1:9"],
        vec!["probe", "-t", &long, "127.0.0.1:9"],
        vec!["connect", &host_port],
        vec!["connect", &target_port],
        vec!["connect", "127.0.0.1", &digits],
        vec!["connect", "-s", &long, "127.0.0.1:9"],
        vec!["connect", "-w", &digits, "127.0.0.1:9"],
        vec!["listen", &long],
        vec!["listen", "--allow", &long, "127.0.0.1:0"],
        vec!["listen", "--exec", &unbalanced, "127.0.0.1:0"],
        vec!["completions", &long],
    ];
    for args in cases {
        let output = sockx()
            .args(&args)
            .write_stdin("")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let shown: Vec<String> = args.iter().map(|a| a.chars().take(12).collect()).collect();
        assert_eq!(output.status.code(), Some(2), "{shown:?}: {stderr}");
        assert_one_error_line(&stderr);
        assert!(
            stderr.len() < 600,
            "{shown:?}: {} bytes: {stderr}",
            stderr.len()
        );
        assert!(stderr.contains(" bytes)"), "{shown:?}: {stderr}");
    }
}

/// ESC and BEL in an argument reach the error line escaped, never raw.
#[test]
fn control_characters_in_arguments_are_escaped_in_errors() {
    let evil = "x\x1b[2J\x07y";
    let host_port = format!("{evil}:80");
    let flag = format!("--{evil}");
    let cases: [&[&str]; 5] = [
        &["connect", &host_port],
        &["probe", "-p", evil, "127.0.0.1"],
        &["ports", &flag],
        &["ports", "--user", evil],
        &["completions", evil],
    ];
    for args in cases {
        let output = sockx().args(args).assert().code(2);
        let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
        assert_one_error_line(&stderr);
        assert!(!stderr.contains(['\x1b', '\x07']), "{args:?}: {stderr:?}");
        assert!(stderr.contains("x\\e[2J\\x07y"), "{args:?}: {stderr:?}");
    }
}
