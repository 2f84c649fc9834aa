//! Zero-copy forwarding with `splice(2)` (Linux): the data moves from one file descriptor to
//! another through a kernel pipe and never enters user space.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::{SFlag, fstat};

/// The pipe size sockx asks for (F_SETPIPE_SZ): big enough that one splice moves a lot.
pub const PIPE_SIZE: usize = 1 << 20;

/// How a splice transfer ended, when it did not fail.
#[derive(Debug)]
pub enum SpliceEnd {
    /// The input reached end of file.
    Eof,
    /// splice cannot read this input (EINVAL: a terminal, for one): copy instead. Nothing
    /// is lost: everything read so far was forwarded.
    Unsupported,
}

/// A failed transfer, on the reading or the writing side.
#[derive(Debug)]
pub enum SpliceError {
    /// Reading the input failed.
    Read(io::Error),
    /// Writing the output failed.
    Write(io::Error),
}

/// True when `fd` is a pipe or FIFO.
pub fn is_pipe(fd: BorrowedFd<'_>) -> bool {
    fstat(fd)
        .is_ok_and(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFIFO)
}

/// Grows the pipe behind `fd` to [`PIPE_SIZE`] when it is a pipe (best effort: the
/// system limit may refuse, which only costs speed).
pub fn grow_pipe(fd: BorrowedFd<'_>) {
    if is_pipe(fd) {
        let _ = fcntl(fd, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32));
    }
}

/// A private kernel pipe: the splice buffer between the input and the output.
pub struct SplicePipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl SplicePipe {
    /// A new pipe of [`PIPE_SIZE`] bytes (or the system's default when that is refused).
    pub fn new() -> io::Result<SplicePipe> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let _ = fcntl(&write, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32));
        Ok(SplicePipe { read, write })
    }
}

/// Moves everything from `input` to `output` with splice until `input` ends. `on_chunk` is
/// called with the size of every chunk once it is written.
///
/// The data always goes through a private [`SplicePipe`], even when `input` or `output` is a
/// pipe itself: a splice between a socket and a pipe holds the pipe's lock for the whole
/// TCP send or receive, and with a shared pipe the process on its other end (the `head` in
/// `head | sockx`) would spin on that lock. Moving pages between two pipes is cheap.
pub fn forward(
    input: BorrowedFd<'_>,
    output: BorrowedFd<'_>,
    on_chunk: &mut dyn FnMut(usize),
) -> Result<SpliceEnd, SpliceError> {
    grow_pipe(input);
    grow_pipe(output);
    let pipe = SplicePipe::new().map_err(SpliceError::Read)?;
    forward_through(input, &pipe, output, on_chunk)
}

/// Buffer size for the read/write fallback.
const COPY_BUFFER: usize = 128 * 1024;

/// No SPLICE_F_MORE: it becomes MSG_MORE on the socket, which holds a small write back for
/// up to 200 ms (an interactive `(echo hi; sleep 5) | sockx connect` would stall). Within
/// one splice the kernel already marks all but the last piece as "more".
const FLAGS: SpliceFFlags = SpliceFFlags::SPLICE_F_MOVE;

fn forward_through(
    input: BorrowedFd<'_>,
    pipe: &SplicePipe,
    output: BorrowedFd<'_>,
    on_chunk: &mut dyn FnMut(usize),
) -> Result<SpliceEnd, SpliceError> {
    loop {
        let filled = match splice(input, None, &pipe.write, None, PIPE_SIZE, FLAGS) {
            Ok(0) => return Ok(SpliceEnd::Eof),
            Ok(filled) => filled,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => {
                wait(input, PollFlags::POLLIN).map_err(SpliceError::Read)?;
                continue;
            }
            Err(Errno::EINVAL) => return Ok(SpliceEnd::Unsupported),
            Err(errno) => return Err(SpliceError::Read(errno.into())),
        };
        drain(pipe, output, filled)?;
        on_chunk(filled);
    }
}

/// Empties `filled` bytes from the pipe into `output`; falls back to read/write when the
/// output refuses splice (a terminal, a file opened for append).
fn drain(pipe: &SplicePipe, output: BorrowedFd<'_>, filled: usize) -> Result<(), SpliceError> {
    let mut left = filled;
    while left > 0 {
        match splice(&pipe.read, None, output, None, left, FLAGS) {
            Ok(0) => return Err(SpliceError::Write(io::ErrorKind::WriteZero.into())),
            Ok(written) => left -= written,
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => wait(output, PollFlags::POLLOUT).map_err(SpliceError::Write)?,
            Err(Errno::EINVAL) => return copy_out(pipe, output, left),
            Err(errno) => return Err(SpliceError::Write(errno.into())),
        }
    }
    Ok(())
}

/// Copies the rest of the pipe's contents with read and write. Later chunks will meet the
/// same EINVAL; the cost is one failed syscall per chunk, which is small next to the copy.
fn copy_out(pipe: &SplicePipe, output: BorrowedFd<'_>, mut left: usize) -> Result<(), SpliceError> {
    let mut buffer = vec![0u8; left.min(COPY_BUFFER)];
    while left > 0 {
        let want = left.min(buffer.len());
        let got = retry_eintr(|| nix::unistd::read(&pipe.read, &mut buffer[..want]))
            .map_err(SpliceError::Read)?;
        let mut chunk = &buffer[..got];
        while !chunk.is_empty() {
            match nix::unistd::write(output, chunk) {
                Ok(0) => return Err(SpliceError::Write(io::ErrorKind::WriteZero.into())),
                Ok(n) => chunk = &chunk[n..],
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    wait(output, PollFlags::POLLOUT).map_err(SpliceError::Write)?;
                }
                Err(errno) => return Err(SpliceError::Write(errno.into())),
            }
        }
        left -= got;
    }
    Ok(())
}

fn retry_eintr<T>(mut call: impl FnMut() -> nix::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(Errno::EINTR) => {}
            other => return other.map_err(io::Error::from),
        }
    }
}

/// Blocks until `fd` is ready for `events` (for descriptors left in non-blocking mode by
/// whoever shares them).
fn wait(fd: BorrowedFd<'_>, events: PollFlags) -> io::Result<()> {
    let mut fds = [PollFd::new(fd.as_fd(), events)];
    retry_eintr(|| poll(&mut fds, PollTimeout::NONE)).map(drop)
}
