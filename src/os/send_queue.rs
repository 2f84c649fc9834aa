//! How much of what was written to a TCP socket its peer has not yet taken.

use std::io;
use std::os::fd::BorrowedFd;

/// Bytes in the socket's send queue that the peer has not acknowledged yet (`SIOCOUTQ`),
/// that is, written by us but not yet in the peer's receive buffer. The kernel's send buffer
/// can absorb megabytes, so this is how a writer tells a peer that stopped reading from one
/// that takes its time.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn unsent_bytes(fd: BorrowedFd<'_>) -> io::Result<usize> {
    use nix::libc;
    use std::os::fd::AsRawFd;
    let mut unsent: libc::c_int = 0;
    // SAFETY: `fd` is a live descriptor for the duration of the call (borrowed), and
    // SIOCOUTQ (= TIOCOUTQ) writes one c_int through the pointer, which points to one.
    let done = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCOUTQ, &mut unsent) };
    if done == 0 {
        Ok(usize::try_from(unsent).unwrap_or(0))
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Elsewhere the kernel's queue is not looked at: only data sockx still holds counts.
#[cfg(not(target_os = "linux"))]
pub fn unsent_bytes(_fd: BorrowedFd<'_>) -> io::Result<usize> {
    Ok(0)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;

    #[test]
    fn counts_what_a_peer_that_does_not_read_has_not_taken() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut writer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_reader, _) = listener.accept().unwrap();
        assert_eq!(unsent_bytes(writer.as_fd()).unwrap(), 0);
        // Fill the peer's receive buffer and then our send buffer.
        writer.set_nonblocking(true).unwrap();
        let block = vec![0u8; 64 * 1024];
        let mut written = 0;
        loop {
            match writer.write(&block) {
                Ok(n) => written += n,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(err) => panic!("write failed: {err}"),
            }
        }
        let unsent = unsent_bytes(writer.as_fd()).unwrap();
        assert!(unsent > 0 && unsent < written, "{unsent} of {written}");
    }
}
