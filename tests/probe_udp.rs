//! `sockx probe -u` sends each well-known service a real request: Debian's own servers
//! (dnsmasq, chrony, snmpd, memcached), each started in a network namespace of its own on its
//! standard port, answer it, and ignore the empty datagram `--payload ''` sends.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{Daemon, Netns, installed, skip};
use predicates::prelude::*;
use serde_json::Value;

/// Starts `program` in a fresh namespace and checks that `probe -u 127.0.0.1:PORT` finds it
/// `open` (`udp-response`) with the built-in request, names that request with `-v`, and
/// gets no answer to an empty datagram.
fn answers_its_request(
    test: &str,
    program: &str,
    port: u16,
    payload: &str,
    args: impl Fn(&Path) -> Vec<String>,
) {
    if !installed(program) {
        return skip(test, &format!("{program} is not installed"));
    }
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(reason) => return skip(test, &reason),
    };
    let dir = tempfile::tempdir().unwrap();
    let _daemon = Daemon(
        netns
            .command(program)
            .args(args(dir.path()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("{program}: {err}")),
    );
    let target = format!("127.0.0.1:{port}");
    // The daemon is ready once it answers: waiting for that is the test.
    let output = netns
        .sockx()
        .args([
            "probe",
            "-u",
            &target,
            "--wait",
            "30s",
            "--interval",
            "200ms",
            "--json",
            "-v",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{program}: {stderr}");
    let line: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (line["state"].as_str(), line["reason"].as_str()),
        (Some("open"), Some("udp-response"))
    );
    assert!(
        stderr.contains(&format!("udp port {port}: {payload}")),
        "{stderr}"
    );

    netns
        .sockx()
        .args(["probe", "-u", &target, "--payload", "", "-t", "500ms"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("open|filtered  no-response"));
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn dnsmasq_answers_the_dns_request() {
    answers_its_request(
        "dnsmasq_answers_the_dns_request",
        "dnsmasq",
        53,
        "DNS version.bind",
        |dir| {
            let mut args = strings(&[
                "--no-daemon",
                "--port=53",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                "-C",
                "/dev/null",
            ]);
            args.push(format!("--pid-file={}", dir.join("dnsmasq.pid").display()));
            args
        },
    );
}

#[test]
fn chrony_answers_the_ntp_request() {
    answers_its_request(
        "chrony_answers_the_ntp_request",
        "chronyd",
        123,
        "NTPv4 client request",
        |dir| {
            let conf = dir.join("chrony.conf");
            std::fs::write(
            &conf,
            format!(
                "allow 127.0.0.1\nport 123\ncmdport 0\nbindcmdaddress /\nlocal stratum 10\npidfile {}\n",
                dir.join("chronyd.pid").display()
            ),
        )
        .unwrap();
            // -x: never touch the clock; -d: in the foreground.
            strings(&["-d", "-x", "-f", conf.to_str().unwrap()])
        },
    );
}

#[test]
fn snmpd_answers_the_snmp_request() {
    answers_its_request(
        "snmpd_answers_the_snmp_request",
        "snmpd",
        161,
        "SNMPv2c 'public' get of sysDescr.0",
        |dir| {
            let conf = dir.join("snmpd.conf");
            std::fs::write(&conf, "rocommunity public 127.0.0.1\n").unwrap();
            let pid = dir.join("snmpd.pid");
            strings(&[
                "-f",
                "-Lo",
                "-C",
                "-c",
                conf.to_str().unwrap(),
                "-p",
                pid.to_str().unwrap(),
                "udp:127.0.0.1:161",
            ])
        },
    );
}

#[test]
fn memcached_answers_the_stats_request() {
    answers_its_request(
        "memcached_answers_the_stats_request",
        "memcached",
        11211,
        "memcached stats",
        |_| strings(&["-U", "11211", "-p", "0", "-l", "127.0.0.1", "-u", "root"]),
    );
}
