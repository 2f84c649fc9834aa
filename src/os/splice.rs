//! Zero-copy forwarding with `splice(2)` (Linux): the data moves from one file descriptor to
//! another through a kernel pipe and never enters user space.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::os::direction::PumpError;
use crate::os::poll::wait;
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
) -> Result<SpliceEnd, PumpError> {
    grow_pipe(input);
    grow_pipe(output);
    let pipe = SplicePipe::new().map_err(PumpError::Read)?;
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
) -> Result<SpliceEnd, PumpError> {
    let mut batching = Batching::for_input(input);
    loop {
        batching.before_read(input).map_err(PumpError::Read)?;
        let flags = batching.read_flags();
        let filled = match splice(input, None, &pipe.write, None, PIPE_SIZE, flags) {
            Ok(0) => return Ok(SpliceEnd::Eof),
            Ok(filled) => filled,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => {
                if !batching.found_empty() {
                    wait(input, PollFlags::POLLIN, None).map_err(PumpError::Read)?;
                }
                continue;
            }
            Err(Errno::EINVAL) => return Ok(SpliceEnd::Unsupported),
            Err(errno) => return Err(PumpError::Read(errno.into())),
        };
        batching.after_read(input, filled);
        drain(pipe, output, filled)?;
        on_chunk(filled);
    }
}

/// Reading a streaming input in large batches rather than as soon as a few bytes are
/// there: fewer wakeups and fewer, larger splices on both sides. Each way of waiting is
/// bounded, so an interactive session never waits on it.
///
/// - A socket: `SO_RCVLOWAT` keeps the kernel from waking the reader before [`BATCH`]
///   bytes are queued; a tail smaller than a batch waits at most [`BATCH_WAIT_MS`], and
///   after that the socket wakes on every byte again until it streams again. On loopback
///   this halves the receiver's CPU time.
/// - A pipe has no low-water mark, and a reader blocked on an empty pipe is woken by every
///   small write of the producer (`head` writes 4 KiB at a time), which on a busy machine
///   also pulls the reader onto the producer's CPU. So while the input streams (large
///   chunks, or more than [`STREAMING_RATE`]), a read
///   that found the pipe less than half full is followed by a nap of [`NAP`] before the
///   next one, and an empty pipe is checked every [`NAP`], for at most [`NAP_LIMIT`],
///   before blocking again. This cuts the sender's CPU time by a third.
struct Batching {
    kind: InputKind,
    /// The last read was a streaming-size chunk.
    streaming: bool,
    /// Pipe: how long the current wait for data has napped so far.
    napped: Duration,
    /// Pipe: when the last read returned.
    last_read: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputKind {
    Pipe,
    /// A socket (or so it seems until `SO_RCVLOWAT` is refused).
    Socket,
    /// Neither: read as data comes.
    Other,
}

/// Bytes queued before a streaming socket wakes its reader.
pub const BATCH: i32 = 512 * 1024;

/// A chunk this big means the input is streaming (one loopback segment is 64 KiB).
pub const STREAMING: usize = 64 * 1024;

/// The longest (milliseconds) a socket tail smaller than [`BATCH`] waits to be read.
pub const BATCH_WAIT_MS: u16 = 1;

/// Bytes per second above which a pipe producer streams even in small writes (a person
/// typing, or a program answering line by line, stays far below).
const STREAMING_RATE: f64 = 16e6;

/// A streaming pipe input is checked this often while it fills.
const NAP: Duration = Duration::from_micros(100);

/// After napping this long on an empty pipe, the reader blocks until data comes.
const NAP_LIMIT: Duration = Duration::from_millis(1);

impl Batching {
    fn for_input(input: BorrowedFd<'_>) -> Batching {
        Batching {
            kind: if is_pipe(input) {
                InputKind::Pipe
            } else {
                InputKind::Socket
            },
            streaming: false,
            napped: Duration::ZERO,
            last_read: None,
        }
    }

    /// Before a read: waits for a batch, within the bounds above.
    fn before_read(&mut self, input: BorrowedFd<'_>) -> io::Result<()> {
        match self.kind {
            InputKind::Socket if self.streaming => {
                let mut fds = [PollFd::new(input, PollFlags::POLLIN)];
                if retry_eintr(|| poll(&mut fds, PollTimeout::from(BATCH_WAIT_MS)))? == 0 {
                    self.set_low_water(input, false);
                }
            }
            InputKind::Pipe if self.napped > Duration::ZERO && self.napped < NAP_LIMIT => {
                thread::sleep(NAP);
            }
            _ => {}
        }
        Ok(())
    }

    /// Flags for the read: a streaming pipe is read without blocking (see
    /// [`Batching::found_empty`]).
    fn read_flags(&self) -> SpliceFFlags {
        if self.kind == InputKind::Pipe && self.streaming && self.napped < NAP_LIMIT {
            FLAGS | SpliceFFlags::SPLICE_F_NONBLOCK
        } else {
            FLAGS
        }
    }

    /// The read found nothing (EAGAIN); true when the caller should just read again (a
    /// nap comes first), false when it should block until the input is readable.
    fn found_empty(&mut self) -> bool {
        if self.kind == InputKind::Pipe && self.streaming && self.napped < NAP_LIMIT {
            self.napped += NAP;
            true
        } else {
            false
        }
    }

    /// After a read of `filled` bytes.
    fn after_read(&mut self, input: BorrowedFd<'_>, filled: usize) {
        let streaming = filled >= STREAMING;
        let since_last = self
            .last_read
            .replace(Instant::now())
            .map(|at| at.elapsed());
        match self.kind {
            InputKind::Socket if streaming != self.streaming => {
                self.set_low_water(input, streaming);
            }
            InputKind::Pipe => {
                // A producer that writes small pieces fast streams too: without this, a
                // reader woken by each of its writes would never see a large chunk again.
                let fast = since_last
                    .is_some_and(|since| filled as f64 >= STREAMING_RATE * since.as_secs_f64());
                self.streaming = streaming || fast;
                // Less than half a pipe: let the producer fill it before the next read.
                self.napped = if streaming && filled < PIPE_SIZE / 2 {
                    NAP
                } else {
                    Duration::ZERO
                };
            }
            _ => {}
        }
    }

    fn set_low_water(&mut self, input: BorrowedFd<'_>, on: bool) {
        match set_rcvlowat(input, if on { BATCH } else { 1 }) {
            Ok(()) => self.streaming = on,
            Err(_) => {
                self.streaming = false;
                self.kind = InputKind::Other;
            }
        }
    }
}

/// `setsockopt(SO_RCVLOWAT)`, which neither nix nor socket2 wraps.
#[allow(unsafe_code)]
pub fn set_rcvlowat(fd: BorrowedFd<'_>, bytes: i32) -> io::Result<()> {
    use nix::libc;
    use std::os::fd::AsRawFd;
    // SAFETY: `fd` is a live descriptor for the duration of the call (borrowed), and the
    // option value is a valid c_int whose exact size is passed along.
    let done = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVLOWAT,
            (&bytes as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Empties `filled` bytes from the pipe into `output`; falls back to read/write when the
/// output refuses splice (a terminal, a file opened for append).
fn drain(pipe: &SplicePipe, output: BorrowedFd<'_>, filled: usize) -> Result<(), PumpError> {
    let mut left = filled;
    while left > 0 {
        match splice(&pipe.read, None, output, None, left, FLAGS) {
            Ok(0) => return Err(PumpError::Write(io::ErrorKind::WriteZero.into())),
            Ok(written) => left -= written,
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => {
                wait(output, PollFlags::POLLOUT, None).map_err(PumpError::Write)?;
            }
            Err(Errno::EINVAL) => return copy_out(pipe, output, left),
            Err(errno) => return Err(PumpError::Write(errno.into())),
        }
    }
    Ok(())
}

/// Copies the rest of the pipe's contents with read and write. Later chunks will meet the
/// same EINVAL; the cost is one failed syscall per chunk, which is small next to the copy.
fn copy_out(pipe: &SplicePipe, output: BorrowedFd<'_>, mut left: usize) -> Result<(), PumpError> {
    let mut buffer = vec![0u8; left.min(COPY_BUFFER)];
    while left > 0 {
        let want = left.min(buffer.len());
        let got = retry_eintr(|| nix::unistd::read(&pipe.read, &mut buffer[..want]))
            .map_err(PumpError::Read)?;
        let mut chunk = &buffer[..got];
        while !chunk.is_empty() {
            match nix::unistd::write(output, chunk) {
                Ok(0) => return Err(PumpError::Write(io::ErrorKind::WriteZero.into())),
                Ok(n) => chunk = &chunk[n..],
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    wait(output, PollFlags::POLLOUT, None).map_err(PumpError::Write)?;
                }
                Err(errno) => return Err(PumpError::Write(errno.into())),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    /// A bulk stream switches batching on; a small tail that follows while the peer keeps
    /// the connection open must still come out (not wait for a batch or for EOF).
    #[test]
    fn a_tail_after_bulk_is_delivered_while_the_peer_stays_open() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut peer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (socket, _) = listener.accept().expect("accept");
        let (out_read, out_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe");

        let bulk: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
        let tail = b"tail after the bulk".to_vec();
        let expected = [bulk.clone(), tail.clone()].concat();
        let forwarder = thread::spawn(move || {
            forward(socket.as_fd(), out_write.as_fd(), &mut |_| {}).map(|_| ())
        });
        let (got_tx, got_rx) = mpsc::channel();
        let want = expected.len();
        thread::spawn(move || {
            let mut reader = std::fs::File::from(out_read);
            let mut got = vec![0u8; want];
            let result = reader.read_exact(&mut got).map(|()| got);
            let _ = got_tx.send(result);
        });
        peer.write_all(&bulk).expect("bulk");
        thread::sleep(Duration::from_millis(50));
        peer.write_all(&tail).expect("tail");

        // The peer is still open: only the relay's own wakeup can deliver the tail. The
        // limit only keeps a broken relay from hanging the test.
        let got = got_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the tail never came out")
            .expect("read");
        assert!(got == expected, "{} bytes came out changed", got.len());
        drop(peer);
        assert!(forwarder.join().expect("forwarder").is_ok());
    }

    /// The same for a pipe input: after a bulk write and a pause, a small write is
    /// forwarded while the producer keeps the pipe open.
    #[test]
    fn a_pipe_tail_after_bulk_is_delivered_while_the_producer_stays_open() {
        let (in_read, in_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe");
        let (out_read, out_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe");
        let bulk: Vec<u8> = (0..4u32 << 20).map(|i| (i % 253) as u8).collect();
        let tail = b"pipe tail".to_vec();
        let expected = [bulk.clone(), tail.clone()].concat();
        let forwarder = thread::spawn(move || {
            forward(in_read.as_fd(), out_write.as_fd(), &mut |_| {}).map(|_| ())
        });
        let (got_tx, got_rx) = mpsc::channel();
        let want = expected.len();
        thread::spawn(move || {
            let mut reader = std::fs::File::from(out_read);
            let mut got = vec![0u8; want];
            let _ = got_tx.send(reader.read_exact(&mut got).map(|()| got));
        });
        let mut producer = std::fs::File::from(in_write);
        producer.write_all(&bulk).expect("bulk");
        thread::sleep(Duration::from_millis(50));
        producer.write_all(&tail).expect("tail");

        let got = got_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the tail never came out")
            .expect("read");
        assert!(got == expected, "{} bytes came out changed", got.len());
        drop(producer);
        assert!(forwarder.join().expect("forwarder").is_ok());
    }
}
