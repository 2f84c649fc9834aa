//! The committed completion scripts and man page in `completions/` must match what the binary generates.
//! Regenerate them with `SOCKX_UPDATE_COMPLETIONS=1 cargo test --test completions`.

mod common;

use std::path::PathBuf;

const SCRIPTS: &[(&str, &str)] = &[
    ("bash", "sockx.bash"),
    ("zsh", "_sockx"),
    ("fish", "sockx.fish"),
    ("elvish", "sockx.elv"),
    ("powershell", "_sockx.ps1"),
    ("manpage", "sockx.1"),
];

#[test]
fn completions_are_up_to_date() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("SOCKX_UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in SCRIPTS {
        let output = common::sockx()
            .args(generate_args(shell))
            .output()
            .expect("sockx runs");
        assert!(output.status.success(), "sockx completions {shell} failed");
        assert!(!output.stdout.is_empty(), "empty {shell} completions");
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &output.stdout).expect("completions/ is writable");
        } else if std::fs::read(&path).ok().as_deref() != Some(output.stdout.as_slice()) {
            stale.push(file.to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "completions/ is out of date with the CLI ({}); regenerate with \
         SOCKX_UPDATE_COMPLETIONS=1 cargo test --test completions",
        stale.join(", ")
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    common::sockx()
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}

/// `sockx completions SHELL`, or the hidden `sockx manpage`.
fn generate_args(shell: &str) -> Vec<&str> {
    match shell {
        "manpage" => vec!["manpage"],
        shell => vec!["completions", shell],
    }
}
