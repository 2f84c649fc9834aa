//! One direction of a relay: move bytes from an input descriptor to an output descriptor
//! until the input ends, with splice on Linux and a large-buffer copy elsewhere or when a
//! transformation (`--crlf`, `--hex`) has to see the data.

use std::io::{self, Read, Write};
use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::poll::PollFlags;

use crate::os::poll::wait;

use crate::net::traffic::Traffic;
use crate::net::transform::Transform;

/// Buffer size of the read/write copy (when splice cannot be used).
pub const COPY_BUFFER: usize = 128 * 1024;

pub use crate::os::direction::PumpError;

/// Moves everything from `input` to `output` until `input` ends, counting the bytes written
/// in `traffic` as the transformation's direction.
pub fn pump(
    input: BorrowedFd<'_>,
    output: BorrowedFd<'_>,
    mut transform: Transform,
    traffic: &Traffic,
) -> Result<(), PumpError> {
    if transform.is_identity() {
        #[cfg(target_os = "linux")]
        {
            use crate::os::splice::{SpliceEnd, forward};
            let flow = transform.flow();
            let mut on_chunk = |moved: usize| traffic.carried(flow, moved);
            match forward(input, output, &mut on_chunk)? {
                SpliceEnd::Eof => return Ok(()),
                SpliceEnd::Unsupported => {}
            }
        }
    }
    copy(input, output, &mut transform, traffic)
}

/// The portable path over descriptors: read into a large buffer, transform, write everything.
fn copy(
    input: BorrowedFd<'_>,
    output: BorrowedFd<'_>,
    transform: &mut Transform,
    traffic: &Traffic,
) -> Result<(), PumpError> {
    copy_io(
        &mut FdReader(input),
        &mut FdWriter(output),
        transform,
        traffic,
    )
}

/// The copy path for any reader and writer (a stream without a descriptor, such as TLS, takes
/// it on its side): read into a large buffer, transform, write everything.
pub fn copy_io(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    transform: &mut Transform,
    traffic: &Traffic,
) -> Result<(), PumpError> {
    let flow = transform.flow();
    let mut buffer = vec![0u8; COPY_BUFFER];
    loop {
        let got = match reader.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(got) => got,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(PumpError::Read(err)),
        };
        traffic.touch();
        transform.pass(&buffer[..got], |chunk| {
            writer.write_all(chunk).map_err(PumpError::Write)?;
            traffic.carried(flow, chunk.len());
            Ok(())
        })?;
    }
}

/// Reads a descriptor, waiting when it is non-blocking (a stdin shared with another process).
pub struct FdReader<'fd>(pub BorrowedFd<'fd>);

impl Read for FdReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match nix::unistd::read(self.0, buf) {
                Ok(got) => return Ok(got),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    wait(self.0, PollFlags::POLLIN, None)?;
                }
                Err(errno) => return Err(errno.into()),
            }
        }
    }
}

/// Writes a descriptor, waiting when it is non-blocking.
pub struct FdWriter<'fd>(pub BorrowedFd<'fd>);

impl Write for FdWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        loop {
            match nix::unistd::write(self.0, data) {
                Ok(written) => return Ok(written),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    wait(self.0, PollFlags::POLLOUT, None)?;
                }
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes all of `data` to `fd`, waiting when the descriptor is non-blocking.
pub fn write_all(fd: BorrowedFd<'_>, data: &[u8]) -> io::Result<()> {
    FdWriter(fd).write_all(data)
}
