//! A TLS session (client or server) over a TCP or Unix stream, as one more [`Stream`]: the
//! relay's two directions read and write it from two threads at once (`connect --tls`,
//! `listen --tls`'s one-shot mode, `--forward` with TLS on either side).
//!
//! A rustls session is one state machine that both directions need mutably, so it sits behind
//! a lock, and the lock is never held across a wait: the socket is non-blocking, and a thread
//! that would block (nothing to read yet, the socket's send buffer full) drops the lock and
//! polls the descriptor. Only CPU work happens under the lock (sealing or opening records,
//! copying plaintext). Both directions move large chunks: the reader fills its own
//! [`READ_BUFFER`] with one `read(2)` and feeds rustls from it (rustls alone reads at most
//! 4 KiB at a time), the writer hands rustls whole relay buffers and writes the sealed records
//! with one `writev(2)`. While the peer streams, a TCP socket wakes the reader only for a
//! whole batch (`SO_RCVLOWAT`, a tail waits at most [`BATCH_WAIT_MS`]), and a writer waiting
//! for room in the socket is the only thread woken by it.
//!
//! The end of a direction, as the contract has it: shutting down the write side sends
//! `close_notify` and then the FIN; the peer's `close_notify` is the end of what it sends, and
//! so is a FIN without one ([`TlsStream::closed_without_notify`] says which it was).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use nix::poll::PollFlags;

use crate::net::stream::Stream;

/// How much the reader takes from the socket at once: one whole batch.
pub const READ_BUFFER: usize = 512 * 1024;

/// While the peer streams, a TCP socket wakes the reader only once this much is queued
/// (`SO_RCVLOWAT`): a few large reads and decryptions instead of a wake-up per segment.
#[cfg(target_os = "linux")]
const BATCH: i32 = READ_BUFFER as i32;

/// A read this big means the peer streams (one loopback segment is 64 KiB).
const STREAMING: usize = 64 * 1024;

/// The longest (milliseconds) a tail smaller than a batch waits before it is read anyway.
const BATCH_WAIT_MS: u16 = 1;

/// How much sealed data rustls may hold before a write waits for the socket: two relay
/// buffers, so that one whole buffer is always accepted at once.
const SEND_LIMIT: usize = 2 * super::pump::COPY_BUFFER;

/// A TLS session over a connected plain stream.
pub struct TlsStream {
    conn: Mutex<rustls::Connection>,
    /// The TCP or Unix stream under the session (non-blocking).
    sock: Stream,
    /// The reader's socket buffer (only the reading direction takes this lock).
    rx: Mutex<RxBuffer>,
    /// Plaintext bytes the peer has sent; an error before any is still part of the handshake.
    received: AtomicU64,
    /// The peer's direction ended with a FIN but no `close_notify`.
    truncated: AtomicBool,
    /// Our write side is shut down or failed: the reader no longer waits to write.
    write_closed: AtomicBool,
    /// A writer waits for room in the socket and will send everything queued when it gets
    /// it (changed only under the session's lock): the reader need not wait to write too.
    writer_waiting: AtomicBool,
}

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("sock", &self.sock)
            .finish_non_exhaustive()
    }
}

/// Bytes read from the socket and not yet given to rustls.
struct RxBuffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// The socket reached end of file.
    eof: bool,
    /// rustls has been told about the end of file.
    eof_fed: bool,
    /// The socket's low-water mark is a whole batch (the peer streams).
    batching: bool,
}

impl RxBuffer {
    fn pending(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }
}

/// An error rustls raised after the handshake (a bad record, the peer's fatal alert), carried
/// as the source of an `io::Error` so that callers can tell it from a socket error.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct TlsDataError {
    /// What rustls said.
    pub error: rustls::Error,
    /// It came before the peer's first byte of data: the server's verdict on the handshake
    /// (TLS 1.3 servers refuse a client certificate after their last handshake message).
    pub before_data: bool,
}

impl TlsDataError {
    /// The TLS error an `io::Error` of the relay carries, if it is one.
    pub fn of(err: &io::Error) -> Option<&TlsDataError> {
        err.get_ref()?.downcast_ref::<TlsDataError>()
    }
}

impl TlsStream {
    /// The session `conn` (its handshake done, or at least started) over `sock`, which is set
    /// non-blocking.
    pub fn new(conn: impl Into<rustls::Connection>, sock: Stream) -> io::Result<TlsStream> {
        let mut conn = conn.into();
        conn.set_buffer_limit(Some(SEND_LIMIT));
        match &sock {
            Stream::Tcp(tcp) => tcp.set_nonblocking(true)?,
            Stream::Unix(unix) => unix.set_nonblocking(true)?,
            Stream::Tls(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "TLS inside TLS is not supported",
                ));
            }
        }
        Ok(TlsStream {
            conn: Mutex::new(conn),
            sock,
            rx: Mutex::new(RxBuffer {
                data: vec![0; READ_BUFFER],
                start: 0,
                end: 0,
                eof: false,
                eof_fed: false,
                batching: false,
            }),
            received: AtomicU64::new(0),
            truncated: AtomicBool::new(false),
            write_closed: AtomicBool::new(false),
            writer_waiting: AtomicBool::new(false),
        })
    }

    /// The plain stream under the session.
    pub fn inner(&self) -> &Stream {
        &self.sock
    }

    /// The peer's direction ended with a FIN that no `close_notify` announced (a truncation
    /// attack looks the same; many peers simply close that way).
    pub fn closed_without_notify(&self) -> bool {
        self.truncated.load(Ordering::Relaxed)
    }

    /// `Shutdown::Write`: `close_notify`, then the FIN (waiting until both are out).
    /// `Shutdown::Both` (ending a session from another thread): the socket at once.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how == Shutdown::Write {
            let mut conn = self.lock_conn();
            conn.send_close_notify();
            drop(self.push_all(conn)?);
        }
        self.write_closed.store(true, Ordering::Relaxed);
        self.sock.shutdown(how)
    }

    fn lock_conn(&self) -> MutexGuard<'_, rustls::Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match self.sock.fd() {
            Some(fd) => fd,
            // `new` refuses anything without a descriptor.
            None => unreachable!("a TLS stream's socket has a descriptor"),
        }
    }

    /// Writes every queued record, waiting for the socket without the lock.
    fn push_all<'a>(
        &'a self,
        mut conn: MutexGuard<'a, rustls::Connection>,
    ) -> io::Result<MutexGuard<'a, rustls::Connection>> {
        while conn.wants_write() {
            match conn.write_tls(&mut { &self.sock }) {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.writer_waiting.store(true, Ordering::Relaxed);
                    drop(conn);
                    let waited = wait(self.fd(), PollFlags::POLLOUT, None);
                    conn = self.lock_conn();
                    self.writer_waiting.store(false, Ordering::Relaxed);
                    waited?;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(conn)
    }

    /// Writes queued records as far as the socket takes them now (an answer the reading side
    /// owes: a key update, an alert).
    fn push_some(&self, conn: &mut rustls::Connection) {
        while conn.wants_write() {
            match conn.write_tls(&mut { &self.sock }) {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    if err.kind() != io::ErrorKind::WouldBlock {
                        self.write_closed.store(true, Ordering::Relaxed);
                    }
                    return;
                }
            }
        }
    }

    /// Gives rustls what the reader holds and moves plaintext into `out`, until `out` is full
    /// or more must come from the socket. `Ok(0)` with `out` non-empty: the peer's direction
    /// is over.
    fn deliver(&self, rx: &mut RxBuffer, out: &mut [u8]) -> io::Result<Option<usize>> {
        let mut conn = self.lock_conn();
        let mut filled = 0;
        let result = loop {
            if filled == out.len() {
                break Ok(Some(filled));
            }
            match conn.reader().read(&mut out[filled..]) {
                Ok(0) => break Ok(Some(filled)),
                Ok(n) => {
                    filled += n;
                    continue;
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
                    self.truncated.store(true, Ordering::Relaxed);
                    break Ok(Some(filled));
                }
                Err(err) => break Err(err),
            }
            // rustls needs more records.
            let fed = if !rx.pending().is_empty() {
                let mut pending = rx.pending();
                let fed = conn.read_tls(&mut pending)?;
                rx.start += fed;
                fed
            } else if rx.eof && !rx.eof_fed {
                rx.eof_fed = true;
                conn.read_tls(&mut io::empty())?;
                1
            } else {
                0
            };
            if fed == 0 {
                break Ok((filled > 0).then_some(filled));
            }
            if let Err(error) = conn.process_new_packets() {
                // Tell the peer why (the alert rustls queued), best effort.
                self.push_some(&mut conn);
                let before_data = self.received.load(Ordering::Relaxed) == 0 && filled == 0;
                break Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    TlsDataError { error, before_data },
                ));
            }
        };
        self.push_some(&mut conn);
        if let Ok(Some(n)) = result {
            self.received.fetch_add(n as u64, Ordering::Relaxed);
        }
        result
    }
}

impl TlsStream {
    /// Turns batching on or off on a TCP socket (best effort: a refused `SO_RCVLOWAT` only
    /// costs speed, and the reader then never waits for a batch).
    fn set_batching(&self, rx: &mut RxBuffer, on: bool) {
        if on == rx.batching {
            return;
        }
        #[cfg(target_os = "linux")]
        if let Stream::Tcp(_) = self.sock {
            let bytes = if on { BATCH } else { 1 };
            rx.batching = crate::os::splice::set_rcvlowat(self.fd(), bytes).is_ok() && on;
            return;
        }
        rx.batching = false;
    }
}

impl Read for &TlsStream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let mut rx = self.rx.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(n) = self.deliver(&mut rx, out)? {
                return Ok(n);
            }
            if rx.eof_fed {
                // rustls knows of the end and has nothing more: the end (never a busy loop).
                self.truncated.store(true, Ordering::Relaxed);
                return Ok(0);
            }
            // Everything held was given to rustls: read more from the socket.
            rx.start = 0;
            rx.end = 0;
            let buffer = &mut rx.data[..];
            match (&self.sock).read(buffer) {
                Ok(0) => rx.eof = true,
                Ok(n) => {
                    rx.end = n;
                    self.set_batching(&mut rx, n >= STREAMING);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    let mut events = PollFlags::POLLIN;
                    if !self.write_closed.load(Ordering::Relaxed) {
                        let conn = self.lock_conn();
                        // A waiting writer sends what the reader queued along with its own;
                        // waking this thread too for the same room would be wasted.
                        if conn.wants_write() && !self.writer_waiting.load(Ordering::Relaxed) {
                            events |= PollFlags::POLLOUT;
                        }
                    }
                    if !rx.batching {
                        wait(self.fd(), events, None)?;
                    } else if !wait(self.fd(), events, Some(BATCH_WAIT_MS))? {
                        // The tail of a burst: read it as it is.
                        self.set_batching(&mut rx, false);
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }
}

impl Write for &TlsStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut conn = self.lock_conn();
        loop {
            let taken = conn.writer().write(data)?;
            // The records go out before the write returns: nothing waits in rustls for a
            // next write that may never come.
            conn = self.push_all(conn)?;
            if taken > 0 || data.is_empty() {
                return Ok(taken);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        drop(self.push_all(self.lock_conn())?);
        Ok(())
    }
}

/// Blocks until `fd` is ready for `events` (or has hung up, which the next I/O reports), for
/// at most `timeout_ms` when given; false when that ran out.
fn wait(fd: BorrowedFd<'_>, events: PollFlags, timeout_ms: Option<u16>) -> io::Result<bool> {
    let timeout = timeout_ms.map(|ms| std::time::Duration::from_millis(ms.into()));
    crate::os::poll::wait(fd, events, timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::TlsArgs;
    use crate::net::tls::{Policy, TlsClient};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::thread;

    /// A self-signed certificate for `localhost`, valid until 2126 (made with `openssl req`).
    const CERT: &[u8] = include_bytes!("testdata/localhost.crt");
    const KEY: &[u8] = include_bytes!("testdata/localhost.key");

    /// A connected client and server session over loopback TCP.
    fn pair() -> (TlsStream, TlsStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = thread::spawn(move || {
            let (mut tcp, _) = listener.accept().expect("accept");
            let certs = vec![CertificateDer::from_pem_slice(CERT).expect("cert")];
            let key = PrivateKeyDer::from_pem_slice(KEY).expect("key");
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("config");
            let mut conn = rustls::ServerConnection::new(Arc::new(config)).expect("server");
            while conn.is_handshaking() {
                conn.complete_io(&mut tcp).expect("server handshake");
            }
            TlsStream::new(conn, tcp.into()).expect("server stream")
        });
        let args = TlsArgs {
            tls: true,
            insecure: true,
            ..TlsArgs::default()
        };
        let client = TlsClient::from_args(&args, Policy::Enforce).expect("client");
        let mut tcp = TcpStream::connect(addr).expect("connect");
        let session = client
            .session("localhost")
            .expect("session")
            .complete(&mut tcp)
            .expect("handshake");
        let client = TlsStream::new(session.conn, tcp.into()).expect("client stream");
        (client, server.join().expect("server thread"))
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 13) as u8)
            .collect()
    }

    /// Sends `data` and then close_notify; returns everything the peer sent until its own.
    fn both_ways(stream: Arc<TlsStream>, data: Vec<u8>) -> (Vec<u8>, bool) {
        let writer = {
            let stream = Arc::clone(&stream);
            thread::spawn(move || {
                for chunk in data.chunks(100_000) {
                    (&*stream).write_all(chunk).expect("write");
                }
                stream.shutdown(Shutdown::Write).expect("shutdown");
            })
        };
        let mut got = Vec::new();
        (&*stream).read_to_end(&mut got).expect("read");
        writer.join().expect("writer");
        (got, stream.closed_without_notify())
    }

    #[test]
    fn both_directions_at_once_arrive_whole_and_end_with_close_notify() {
        let (client, server) = pair();
        let (client, server) = (Arc::new(client), Arc::new(server));
        let up = pattern(8 << 20, 1);
        let down = pattern(8 << 20, 2);
        let server_side = {
            let down = down.clone();
            thread::spawn(move || both_ways(server, down))
        };
        let (client_got, client_truncated) = both_ways(client, up.clone());
        let (server_got, server_truncated) = server_side.join().expect("server");
        assert!(
            client_got == down,
            "the client got {} bytes",
            client_got.len()
        );
        assert!(
            server_got == up,
            "the server got {} bytes",
            server_got.len()
        );
        assert!(!client_truncated && !server_truncated);
    }

    #[test]
    fn a_small_tail_after_a_burst_arrives_without_the_end() {
        // After a burst the reader waits for whole batches (SO_RCVLOWAT); a tail smaller
        // than a batch must still come through while the connection stays open.
        let (client, server) = pair();
        let client = Arc::new(client);
        // A burst first: it opens the receive window wide (with a small window the kernel
        // wakes the reader before the low-water mark anyway).
        let burst = pattern(16 << 20, 3);
        let sender = {
            let burst = burst.clone();
            thread::spawn(move || {
                (&server).write_all(&burst).expect("burst");
                server
            })
        };
        let mut got = vec![0u8; burst.len()];
        (&*client).read_exact(&mut got).expect("burst");
        assert!(got == burst, "the burst arrived changed");
        let server = sender.join().expect("sender");
        {
            let mut rx = client.rx.lock().expect("rx");
            client.set_batching(&mut rx, true);
            assert!(rx.batching, "SO_RCVLOWAT was refused");
        }
        let (done, arrived) = std::sync::mpsc::channel();
        let reader = {
            let client = Arc::clone(&client);
            thread::spawn(move || {
                let mut got = [0u8; 4];
                (&*client).read_exact(&mut got).expect("read");
                let _ = done.send(got);
            })
        };
        // Most likely the reader waits on the empty socket by now (it passes either way).
        thread::sleep(std::time::Duration::from_millis(100));
        (&server).write_all(b"tail").expect("tail");
        let got = arrived
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the tail did not arrive while the connection was open");
        assert_eq!(&got, b"tail");
        reader.join().expect("reader");
    }

    #[test]
    fn a_fin_without_close_notify_ends_the_direction_and_is_noticed() {
        let (client, server) = pair();
        (&server).write_all(b"last words").expect("write");
        server.inner().shutdown(Shutdown::Write).expect("fin");
        let mut got = Vec::new();
        (&client).read_to_end(&mut got).expect("read");
        assert_eq!(got, b"last words");
        assert!(client.closed_without_notify());
        // Our direction still works after the peer's ended.
        (&client).write_all(b"reply").expect("write");
        client.shutdown(Shutdown::Write).expect("shutdown");
        let mut reply = Vec::new();
        (&server).read_to_end(&mut reply).expect("read");
        assert_eq!(reply, b"reply");
        assert!(!server.closed_without_notify());
    }
}
