//! The committed completion scripts and man pages in `completions/` must match what the binary
//! generates, and every sockx page a page names must be there.
//! Regenerate them with `SOCKX_UPDATE_COMPLETIONS=1 cargo test --test completions`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SCRIPTS: &[(&str, &str)] = &[
    ("bash", "sockx.bash"),
    ("zsh", "_sockx"),
    ("fish", "sockx.fish"),
    ("elvish", "sockx.elv"),
    ("powershell", "_sockx.ps1"),
];

/// The pages the packages install: one for sockx and one per subcommand.
const PAGES: &[&str] = &[
    "sockx.1",
    "sockx-listen.1",
    "sockx-connect.1",
    "sockx-ports.1",
    "sockx-probe.1",
    "sockx-completions.1",
];

#[test]
fn completions_are_up_to_date() {
    let dir = completions_dir();
    let update = std::env::var_os("SOCKX_UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in SCRIPTS {
        let output = common::sockx()
            .args(["completions", shell])
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

    // The man pages: whatever set of pages the binary writes, exactly that set is committed.
    let generated = tempfile::tempdir().expect("a temporary directory");
    common::sockx()
        .args(["manpage", "--out-dir"])
        .arg(generated.path())
        .assert()
        .success();
    let fresh = man_pages(generated.path());
    let committed = man_pages(&dir);
    for page in fresh.union(&committed) {
        let new = std::fs::read(generated.path().join(page)).ok();
        let path = dir.join(page);
        match (update, new) {
            (true, Some(new)) => std::fs::write(&path, new).expect("completions/ is writable"),
            (true, None) => std::fs::remove_file(&path).expect("completions/ is writable"),
            (false, new) if std::fs::read(&path).ok() != new => stale.push(page.clone()),
            (false, _) => {}
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
fn completions_offer_no_hidden_subcommand() {
    for (shell, _) in SCRIPTS {
        let output = common::sockx()
            .args(["completions", shell])
            .output()
            .expect("sockx runs");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(
            !script.contains("manpage"),
            "the {shell} script offers the hidden manpage subcommand"
        );
    }
}

#[test]
fn every_subcommand_has_a_man_page() {
    let committed = man_pages(&completions_dir());
    for page in PAGES {
        assert!(committed.contains(*page), "completions/{page} is missing");
    }
}

#[test]
fn every_page_a_page_names_exists() {
    let dir = completions_dir();
    let pages = man_pages(&dir);
    let mut dangling = Vec::new();
    for page in &pages {
        let roff = std::fs::read_to_string(dir.join(page)).expect("a man page is UTF-8");
        for named in named_sockx_pages(&roff) {
            if !pages.contains(&named) {
                dangling.push(format!("{page} names {named}"));
            }
        }
    }
    assert!(dangling.is_empty(), "{}", dangling.join("; "));
}

#[test]
fn a_subcommand_page_names_sockx_1() {
    let roff = std::fs::read_to_string(completions_dir().join("sockx-probe.1")).expect("the page");
    assert!(named_sockx_pages(&roff).contains("sockx.1"), "{roff}");
}

#[test]
fn manpage_prints_one_page() {
    let dir = completions_dir();
    for (args, page) in [(&[][..], "sockx.1"), (&["probe"][..], "sockx-probe.1")] {
        let expected = std::fs::read(dir.join(page)).expect("the committed page");
        common::sockx()
            .arg("manpage")
            .args(args)
            .assert()
            .success()
            .stdout(expected);
    }
}

#[test]
fn manpage_of_an_unknown_subcommand_is_a_usage_error() {
    common::sockx()
        .args(["manpage", "nope"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no man page for nope"));
}

#[test]
fn unknown_shell_is_a_usage_error() {
    common::sockx()
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}

fn completions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions")
}

/// The names of the man pages (`*.1`) in `dir`.
fn man_pages(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("the directory is readable")
        .map(|entry| entry.expect("a directory entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".1"))
        .collect()
}

/// The sockx pages of section 1 that a page refers to (`sockx\-probe(1)`, `\fBsockx\fR(1)`),
/// as file names (`sockx-probe.1`, `sockx.1`).
fn named_sockx_pages(roff: &str) -> BTreeSet<String> {
    let text = ["\\fB", "\\fI", "\\fR", "\\fP"]
        .iter()
        .fold(roff.replace("\\-", "-"), |text, font| {
            text.replace(font, "")
        });
    let mut named = BTreeSet::new();
    for (at, _) in text.match_indices("(1)") {
        let name: String = text[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if name == "sockx" || name.starts_with("sockx-") {
            named.insert(format!("{name}.1"));
        }
    }
    named
}
