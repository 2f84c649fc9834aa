//! The progress bar: on stderr, only when it is a terminal, and only once a scan has lasted
//! more than a moment (a quick check never flashes a bar).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cmd::Context;

/// How long a scan runs before its bar appears.
const SHOW_AFTER: Duration = Duration::from_millis(300);

/// A bar that stays hidden until the scan has run for [`SHOW_AFTER`].
pub struct Progress {
    bar: Option<ProgressBar>,
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
                ProgressStyle::with_template("{bar:30} {human_pos}/{human_len} probes, eta {eta}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    /// Shows `done` finished probes.
    pub fn set(&mut self, done: usize) {
        let Some(bar) = &self.bar else {
            return;
        };
        bar.set_position(done as u64);
        if !self.shown && self.started.elapsed() >= SHOW_AFTER {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
    }

    /// Removes the bar before results are printed.
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
