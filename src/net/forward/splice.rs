//! One direction of a forwarded connection with `splice(2)` (Linux): socket → pipe → socket,
//! the bytes never enter user space. Each direction has its own pipe; it starts at the
//! system's default size and grows once the direction streams (a read fills it), so that
//! thousands of quiet connections cost little kernel memory and a bulk transfer moves a lot
//! per call.
//!
//! No `SO_RCVLOWAT` batching here (the one-shot relay has it): measured on a 2 GiB transfer it
//! did not change the throughput, and its tail timer cost a setsockopt pair and a timer per
//! tail.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use tokio::io::Interest;

use super::{Broken, Way, fd};
use crate::net::async_stream::PlainSocket;
use crate::net::traffic::Traffic;
use crate::os::splice::PIPE_SIZE;

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

/// Splices `from` to `to` until `from` ends, then shuts `to`'s write side down.
///
/// Reading and writing overlap: each turn fills the pipe with what `from` has (as much as it
/// holds) and empties it into `to` as far as `to` takes it, and the direction waits only
/// when neither moved: for `to` while the pipe holds data, for `from` once it is empty.
/// Reads and writes alternate in this one task, so the source keeps being read while the
/// destination drains without a second task or a wakeup between the two legs.
pub async fn splice_through(
    from: PlainSocket<'_>,
    to: PlainSocket<'_>,
    pipe: &mut Pipe,
    way: Way,
    traffic: &Traffic,
) -> Result<(), Broken> {
    let mut in_pipe = 0;
    let mut ended = false;
    loop {
        let mut moved = false;
        if !ended && in_pipe < pipe.capacity {
            let room = pipe.capacity - in_pipe;
            let read = || splice_once(fd(from), pipe.write.as_fd(), room);
            // A pipe counts pages, not bytes: with data in it, "would block" may mean the
            // pipe is full rather than the socket empty, so the socket's readiness is only
            // tokio's to clear when the pipe was empty.
            let read = if in_pipe == 0 {
                from.try_io(Interest::READABLE, read)
            } else {
                read()
            };
            match read {
                Ok(0) => ended = true,
                Ok(n) => {
                    in_pipe += n;
                    moved = true;
                    if n == room && !pipe.grown {
                        pipe.grow();
                    }
                }
                Err(err) if is_retry(&err) => {}
                Err(err) => return Err(Broken::Read(err)),
            }
        }
        if in_pipe > 0 {
            match to.try_io(Interest::WRITABLE, || {
                splice_once(pipe.read.as_fd(), fd(to), in_pipe)
            }) {
                Ok(n) => {
                    in_pipe -= n;
                    moved = true;
                    traffic.carried(way.flow(), n);
                }
                Err(err) if is_retry(&err) => {}
                Err(err) => return Err(Broken::Write(err)),
            }
        }
        if ended && in_pipe == 0 {
            return match to.shutdown_write() {
                Err(err) if err.raw_os_error() != Some(Errno::ENOTCONN as i32) => {
                    Err(Broken::Write(err))
                }
                _ => Ok(()),
            };
        }
        if moved {
            continue;
        }
        // Nothing moved: with data in the pipe, it waits for `to`; an empty pipe, for `from`.
        tokio::select! {
            ready = from.ready(Interest::READABLE), if in_pipe == 0 => {
                ready.map_err(Broken::Read)?;
            }
            ready = to.ready(Interest::WRITABLE), if in_pipe > 0 => {
                ready.map_err(Broken::Write)?;
            }
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
