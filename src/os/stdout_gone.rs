//! A wait that ends early when nobody reads stdout any more: `sockx ports --watch | head -3`
//! must end once `head` has gone, not at the next change it would fail to write.

use std::time::Duration;

/// Sleeps for `duration`; returns early with `true` when stdout is a pipe whose reader closed
/// it, or a terminal that hung up.
#[cfg(unix)]
pub fn sleep_unless_stdout_gone(duration: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;

    let stdout = std::io::stdout();
    // No events asked for: poll() still reports POLLERR (a pipe with no reader) and POLLHUP,
    // and nothing for a file or a terminal, which then sleeps the whole time.
    let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::empty())];
    let millis = duration.as_millis().min(i32::MAX as u128) as i32;
    let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
    let gone = PollFlags::POLLERR | PollFlags::POLLHUP;
    match poll(&mut fds, timeout) {
        Ok(0) => false,
        Ok(_) if fds[0].revents().is_some_and(|r| r.intersects(gone)) => true,
        // Interrupted, or stdout not open at all (POLLNVAL): just wait.
        _ => {
            std::thread::sleep(duration);
            false
        }
    }
}

/// Sleeps for `duration`; stdout going away is noticed at the next write.
#[cfg(not(unix))]
pub fn sleep_unless_stdout_gone(duration: Duration) -> bool {
    std::thread::sleep(duration);
    false
}
