//! Acceptance checks that need a real terminal (a pseudo-terminal of the test's own).

mod common;

use std::fs::File;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::pty::{Winsize, openpty};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const COLUMNS: u16 = 80;

/// What the bar's frames are, between two `\r\x1b[2K` (console's clear-line).
fn frames(output: &str) -> Vec<&str> {
    output
        .split("\r\x1b[2K")
        .map(|frame| frame.split(['\r', '\n', '\x1b']).next().unwrap_or_default())
        .filter(|frame| frame.contains(" probes, eta "))
        .collect()
}

/// The bar never reaches the terminal's last column: a line filled to the width leaves the
/// cursor past it, so the `^C` the terminal echoes on Ctrl-C wraps to a new line, clearing the
/// bar then clears that line only, and the bar stays on the screen above the summary.
#[test]
fn the_progress_bar_leaves_room_for_the_echoed_ctrl_c() {
    let size = Winsize {
        ws_row: 24,
        ws_col: COLUMNS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = openpty(Some(&size), None).expect("a pseudo-terminal");
    // A long scan of refused loopback ports: long enough for the bar to show.
    let child = Command::new(common::sockx_path())
        .args(["probe", "127.0.0.0/12:80"])
        .env_clear()
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(pty.slave))
        .spawn()
        .expect("sockx runs");
    let mut master = File::from(pty.master);
    let reader = thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 65536];
        // Read until the bar has been drawn a few times, then hand what came over.
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
            if frames(&String::from_utf8_lossy(&seen)).len() >= 3 {
                break;
            }
        }
        (seen, master)
    });
    let (seen, _master) = reader.join().unwrap();
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
    let status = child.wait_with_output().unwrap().status;
    let seen = String::from_utf8_lossy(&seen).to_string();
    let drawn = frames(&seen);
    assert!(!drawn.is_empty(), "no progress bar was drawn: {seen:?}");
    for frame in drawn {
        let width = frame.chars().count();
        assert!(
            width < usize::from(COLUMNS) - 1,
            "a bar line {width} columns wide on a {COLUMNS}-column terminal: {frame:?}"
        );
    }
    assert_eq!(status.code(), Some(130));
}
