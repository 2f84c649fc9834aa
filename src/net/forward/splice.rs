//! One direction of a forwarded connection with `splice(2)` (Linux): socket → pipe → socket,
//! the bytes never enter user space. Each direction has its own pipe; it starts at the
//! system's default size and grows once the direction streams, so that thousands of quiet
//! connections cost little kernel memory and a bulk transfer moves a lot per call.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use tokio::io::Interest;

use super::{Broken, Way, fd};
use crate::net::async_stream::PlainSocket;
use crate::net::traffic::Traffic;
use crate::os::splice::{BATCH, BATCH_WAIT_MS, PIPE_SIZE, STREAMING, set_rcvlowat};

/// Non-blocking on both ends: readiness comes from tokio. No SPLICE_F_MORE (see
/// `os::splice`: it would hold small writes back).
const FLAGS: SpliceFFlags = SpliceFFlags::SPLICE_F_MOVE.union(SpliceFFlags::SPLICE_F_NONBLOCK);

/// A direction's kernel pipe.
pub struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    capacity: usize,
    grown: bool,
}

impl Pipe {
    /// A pipe of the system's default size; fails when no descriptor is left.
    pub fn new() -> io::Result<Pipe> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        let capacity = fcntl(&write, FcntlArg::F_GETPIPE_SZ).map_or(64 * 1024, |n| n as usize);
        Ok(Pipe {
            read,
            write,
            capacity,
            grown: false,
        })
    }

    /// Grows the pipe to [`PIPE_SIZE`] (once; best effort: the system may refuse, which only
    /// costs speed).
    fn grow(&mut self) {
        self.grown = true;
        if let Ok(size) = fcntl(&self.write, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32)) {
            self.capacity = size as usize;
        }
    }
}

fn splice_once(from: BorrowedFd<'_>, to: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    splice(from, None, to, None, len, FLAGS).map_err(io::Error::from)
}

/// Splices `from` to `to` until `from` ends, then shuts `to`'s write side down. The pipe is
/// always empty when `from` is read, so a "would block" there means the socket is empty,
/// never that the pipe is full.
///
/// While the direction streams (reads of [`STREAMING`] bytes or more), `from` is read in
/// batches as the relay reads its input (`os::splice`): `SO_RCVLOWAT` keeps the kernel from
/// waking this direction before [`BATCH`] bytes are queued, and a smaller tail is read after
/// at most [`BATCH_WAIT_MS`]; fewer, larger splices leave the two ends more of the CPU.
pub async fn splice_through(
    from: PlainSocket<'_>,
    to: PlainSocket<'_>,
    pipe: &mut Pipe,
    way: Way,
    traffic: &Traffic,
) -> Result<(), Broken> {
    let mut batching = false;
    loop {
        let filled = loop {
            if batching {
                let tail_wait = Duration::from_millis(u64::from(BATCH_WAIT_MS));
                tokio::select! {
                    ready = from.ready(Interest::READABLE) => {
                        ready.map_err(Broken::Read)?;
                    }
                    () = tokio::time::sleep(tail_wait) => {}
                }
            } else {
                from.ready(Interest::READABLE).await.map_err(Broken::Read)?;
            }
            let read = from.try_io(Interest::READABLE, || {
                splice_once(fd(from), pipe.write.as_fd(), pipe.capacity)
            });
            match read {
                Ok(n) => break n,
                Err(err) if is_retry(&err) => {
                    // Nothing queued at all: wake on the next byte again.
                    if batching {
                        batching = set_rcvlowat(fd(from), 1).is_err();
                    }
                }
                Err(err) => return Err(Broken::Read(err)),
            }
        };
        if filled == 0 {
            return match to.shutdown_write() {
                Err(err) if err.raw_os_error() != Some(Errno::ENOTCONN as i32) => {
                    Err(Broken::Write(err))
                }
                _ => Ok(()),
            };
        }
        let streaming = filled >= STREAMING;
        if streaming != batching {
            let low_water = if streaming { BATCH } else { 1 };
            // A socket that refuses the option is read as data comes.
            batching = streaming && set_rcvlowat(fd(from), low_water).is_ok();
        }
        let mut left = filled;
        while left > 0 {
            to.ready(Interest::WRITABLE).await.map_err(Broken::Write)?;
            let written = to.try_io(Interest::WRITABLE, || {
                splice_once(pipe.read.as_fd(), fd(to), left)
            });
            match written {
                Ok(n) => {
                    left -= n;
                    traffic.carried(way.flow(), n);
                }
                Err(err) if is_retry(&err) => {}
                Err(err) => return Err(Broken::Write(err)),
            }
        }
        if filled >= pipe.capacity && !pipe.grown {
            pipe.grow();
        }
    }
}

/// Not the connection's error: nothing to move yet, or a signal cut the call short.
fn is_retry(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
