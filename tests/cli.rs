//! The common contract: help, version, usage errors and exit codes.

mod common;

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
