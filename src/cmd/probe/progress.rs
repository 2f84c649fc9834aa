//! The progress bar: on stderr, only when it is a terminal, and only once a scan has lasted
//! more than a moment (a quick check never flashes a bar). Its ETA is honest about the end of
//! a scan: the last probes in flight may each wait out their whole timeout, so the time left
//! is never less than the time until the last of them gives up.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use std::io;

use console::Term;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use super::engine::Snapshot;
use crate::cmd::Context;

/// How long a scan runs before its bar appears.
const SHOW_AFTER: Duration = Duration::from_millis(300);

/// A bar that stays hidden until the scan has run for [`SHOW_AFTER`].
pub struct Progress {
    bar: Option<ProgressBar>,
    len: usize,
    started: Instant,
    shown: bool,
}

impl Progress {
    /// A bar for `len` probes, or none when stderr is not a terminal or `-q` is given.
    pub fn new(len: usize, context: &Context) -> Progress {
        let wanted = context.chatty() && len > 1 && std::io::stderr().is_terminal();
        let bar = wanted.then(|| {
            let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::hidden());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {human_pos}/{human_len} probes, eta {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            len,
            started: Instant::now(),
            shown: false,
        }
    }

    /// Whether there is a bar to keep up to date.
    pub fn is_active(&self) -> bool {
        self.bar.is_some()
    }

    /// Shows where the scan stands.
    pub fn set(&mut self, snapshot: &Snapshot) {
        let Some(bar) = &self.bar else {
            return;
        };
        bar.set_position(snapshot.done as u64);
        let left = eta(self.len, snapshot, self.started.elapsed());
        bar.set_message(left.map_or_else(|| "-".to_string(), format_eta));
        if !self.shown && self.started.elapsed() >= SHOW_AFTER {
            // As indicatif's own stderr target: nothing on a dumb terminal (or no `TERM`).
            let term = Term::buffered_stderr();
            if term.is_term() && !console::is_dumb() {
                bar.set_draw_target(ProgressDrawTarget::term_like_with_hz(
                    Box::new(Stderr(term)),
                    20,
                ));
            }
            self.shown = true;
        }
    }

    /// Removes the bar (before results are printed, and on Ctrl-C).
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Columns kept free at the end of the bar's line.
const RIGHT_MARGIN: u16 = 2;

/// Stderr as indicatif draws on it, but [`RIGHT_MARGIN`] columns narrower than the terminal.
/// indicatif pads a bar's line to the terminal's width, which leaves the cursor past the last
/// column: the `^C` that the terminal echoes on Ctrl-C then wraps to a line of its own, and
/// clearing the bar clears that line only, leaving the bar on the screen above the summary.
#[derive(Debug)]
struct Stderr(Term);

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(RIGHT_MARGIN).max(1)
    }

    fn height(&self) -> u16 {
        self.0.size().0
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }

    fn write_line(&self, line: &str) -> io::Result<()> {
        self.0.write_line(line)
    }

    fn write_str(&self, text: &str) -> io::Result<()> {
        self.0.write_str(text)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }

    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The time left: once every probe has started, exactly the time until the last one in
/// flight answers or gives up; before that, the pace so far applied to what is left, and never
/// less than that drain. `None` until there is a pace to go by.
fn eta(len: usize, snapshot: &Snapshot, elapsed: Duration) -> Option<Duration> {
    if snapshot.unstarted == 0 {
        return Some(snapshot.drain);
    }
    if snapshot.done == 0 {
        return None;
    }
    let left = len.saturating_sub(snapshot.done) as f64;
    let paced = elapsed.mul_f64(left / snapshot.done as f64);
    Some(paced.max(snapshot.drain))
}

/// `7s`, `1m 05s`, `2h 03m`: whole seconds, rounded up (a last second is not "0s").
fn format_eta(left: Duration) -> String {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(done: usize, unstarted: u64, drain_ms: u64) -> Snapshot {
        Snapshot {
            done,
            unstarted,
            drain: Duration::from_millis(drain_ms),
        }
    }

    #[test]
    fn the_last_timeouts_count() {
        // Every probe started, the last ones wait out a 1 s timeout: not "0s".
        let left = eta(100, &snapshot(99, 0, 800), Duration::from_secs(5)).unwrap();
        assert_eq!(format_eta(left), "1s");
        // Half done in 10 s: 10 s more, unless the drain is longer.
        let left = eta(100, &snapshot(50, 40, 0), Duration::from_secs(10)).unwrap();
        assert_eq!(left, Duration::from_secs(10));
        let left = eta(100, &snapshot(50, 40, 30_000), Duration::from_secs(10)).unwrap();
        assert_eq!(left, Duration::from_secs(30));
        assert_eq!(
            eta(100, &snapshot(0, 90, 500), Duration::from_secs(1)),
            None
        );
    }

    #[test]
    fn eta_text() {
        assert_eq!(format_eta(Duration::ZERO), "0s");
        assert_eq!(format_eta(Duration::from_millis(1)), "1s");
        assert_eq!(format_eta(Duration::from_secs(65)), "1m 05s");
        assert_eq!(format_eta(Duration::from_secs(7380)), "2h 03m");
    }
}
