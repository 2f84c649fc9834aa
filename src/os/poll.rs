//! Waiting for a descriptor to be ready: for descriptors left non-blocking by whoever shares
//! them (a stdin shared with another process), and for receivers that wake up to check for a
//! stop or a deadline.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Waits until `fd` is ready for `events` (`POLLIN`, `POLLOUT`); true when it is. Without a
/// `timeout` it blocks until then (a signal does not end the wait). With one it returns false
/// once the timeout passed or a signal came, so that the caller can look at its clock.
pub fn wait(fd: BorrowedFd<'_>, events: PollFlags, timeout: Option<Duration>) -> io::Result<bool> {
    let mut fds = [PollFd::new(fd, events)];
    let limit = match timeout {
        None => PollTimeout::NONE,
        Some(timeout) => {
            let millis = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
        }
    };
    loop {
        match poll(&mut fds, limit) {
            Ok(ready) => return Ok(ready > 0),
            Err(Errno::EINTR) if timeout.is_none() => {}
            Err(Errno::EINTR) => return Ok(false),
            Err(errno) => return Err(errno.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn ready_and_not_ready() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let short = Some(Duration::from_millis(1));
        assert!(!wait(b.as_fd(), PollFlags::POLLIN, short).unwrap());
        assert!(wait(b.as_fd(), PollFlags::POLLOUT, None).unwrap());
        a.write_all(b"x").unwrap();
        assert!(wait(b.as_fd(), PollFlags::POLLIN, None).unwrap());
    }
}
