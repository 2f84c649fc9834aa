//! The forwarding engine of `listen --forward`: two connected streams relayed both ways.
//!
//! - Each direction ends at its source's FIN, which is passed on as a half-close
//!   (`shutdown(Write)`) to the other side; the connection ends when both directions have.
//! - A reset on one side (a failed read, a failed write, or an error raised on a socket whose
//!   own direction is already over) resets the other: it is closed with `SO_LINGER` 0.
//! - Between two plain sockets on Linux each direction is spliced through a pipe of its own
//!   ([`splice`]); where a side is TLS, or no pipe can be had, it is copied through a buffer
//!   that grows once the direction streams ([`copy`]).
//!
//! A connection is one future, independent of every other: readiness comes from tokio, so a
//! connection whose peer stops reading only waits for that peer. Byte counts go to the
//! connection's [`Traffic`] as they are written (from the client's side: what it sends is
//! received); the idle timeout and Ctrl-C are the caller's, which drops the future (both
//! sides are then closed). With `--hex` both directions are copied and dumped
//! ([`Transform::observe`]).

mod copy;
#[cfg(target_os = "linux")]
mod splice;

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadHalf, WriteHalf};

use super::async_stream::{AsyncStream, PlainSocket};
use super::traffic::Traffic;
use super::transform::{Flow, Transform};

/// A stream that is read and written through its own code (TLS), over a socket.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {
    /// The socket under the session, to reset it.
    fn socket(&self) -> Option<BorrowedFd<'_>>;
}

impl Io for tokio_rustls::client::TlsStream<AsyncStream> {
    fn socket(&self) -> Option<BorrowedFd<'_>> {
        self.get_ref().0.plain().map(fd)
    }
}

/// One side of a forwarded connection.
pub enum Side {
    /// An accepted or dialed stream (plain TCP or Unix, or a session the stream layer holds).
    Stream(AsyncStream),
    /// A session with its own framing (TLS to the target) over a socket.
    Io(Box<dyn Io>),
}

impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Side::Stream(stream) => f.debug_tuple("Stream").field(stream).finish(),
            Side::Io(_) => f.write_str("Io"),
        }
    }
}

impl<T: Into<AsyncStream>> From<T> for Side {
    fn from(stream: T) -> Side {
        Side::Stream(stream.into())
    }
}

impl Side {
    /// The socket (under the session, for TLS), when it can be reached.
    fn socket(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Side::Stream(AsyncStream::Tls(session)) => session.plain().map(fd),
            Side::Stream(stream) => stream.plain().map(fd),
            Side::Io(io) => io.socket(),
        }
    }

    /// Closes with a reset rather than a FIN once dropped (SO_LINGER 0).
    fn reset_on_close(&self) {
        if let Some(fd) = self.socket() {
            let _ = socket2::SockRef::from(&fd).set_linger(Some(Duration::ZERO));
        }
    }

    fn parts(&mut self) -> Parts<'_> {
        match self {
            Side::Stream(AsyncStream::Tcp(stream)) => Parts::raw(PlainSocket::Tcp(stream)),
            Side::Stream(AsyncStream::Unix(stream)) => Parts::raw(PlainSocket::Unix(stream)),
            Side::Stream(AsyncStream::Tls(session)) => {
                Parts::framed(tokio::io::split(session as &mut dyn Framed))
            }
            Side::Io(io) => Parts::framed(tokio::io::split(io as &mut dyn Framed)),
        }
    }
}

/// The descriptor of a plain socket, for as long as the socket is borrowed.
fn fd(raw: PlainSocket<'_>) -> BorrowedFd<'_> {
    match raw {
        PlainSocket::Tcp(stream) => stream.as_fd(),
        PlainSocket::Unix(stream) => stream.as_fd(),
    }
}

/// Which way bytes move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// From the client to the target.
    ToTarget,
    /// From the target back to the client.
    ToClient,
}

impl Way {
    /// The direction as the listener's `-v` and `--hex` name it: from the client is received.
    pub fn flow(self) -> Flow {
        match self {
            Way::ToTarget => Flow::Received,
            Way::ToClient => Flow::Sent,
        }
    }
}

/// Which side of the connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The accepted client.
    Client,
    /// The upstream target.
    Target,
}

/// A connection that ended with a failure of one side; the other side was reset.
#[derive(Debug)]
pub struct Failure {
    /// The side that failed.
    pub end: End,
    /// What failed (usually a reset).
    pub error: io::Error,
}

/// How one direction failed: reading its source or writing its destination.
#[derive(Debug)]
pub enum Broken {
    /// Reading the source failed.
    Read(io::Error),
    /// Writing the destination failed.
    Write(io::Error),
}

/// Relays `client` and `target` both ways until both directions have ended (`Ok`) or one
/// side failed (`Err`, the other side reset). Both are closed when this returns or is dropped.
/// `hex` dumps both directions (they are then copied, never spliced).
pub async fn forward(
    mut client: Side,
    mut target: Side,
    traffic: &Traffic,
    hex: bool,
) -> Result<(), Failure> {
    let outcome = {
        let client = client.parts();
        let target = target.parts();
        relay(client, target, traffic, hex).await
    };
    if let Err(failure) = &outcome {
        match failure.end {
            End::Client => target.reset_on_close(),
            End::Target => client.reset_on_close(),
        }
    }
    outcome
}

/// A side taken apart for the two directions.
struct Parts<'a> {
    reader: Reader<'a>,
    writer: Writer<'a>,
    /// The plain socket, when the side is one (for splice and the reset watch).
    raw: Option<PlainSocket<'a>>,
}

impl<'a> Parts<'a> {
    fn raw(raw: PlainSocket<'a>) -> Parts<'a> {
        Parts {
            reader: Reader::Plain(raw),
            writer: Writer::Plain(raw),
            raw: Some(raw),
        }
    }

    fn framed(
        (reader, writer): (ReadHalf<&'a mut dyn Framed>, WriteHalf<&'a mut dyn Framed>),
    ) -> Parts<'a> {
        Parts {
            reader: Reader::Framed(reader),
            writer: Writer::Framed(writer),
            raw: None,
        }
    }
}

/// Whatever is read and written through its own code: the two halves of it are tokio's.
trait Framed: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + ?Sized> Framed for T {}

async fn relay(
    client: Parts<'_>,
    target: Parts<'_>,
    traffic: &Traffic,
    hex: bool,
) -> Result<(), Failure> {
    let (client_raw, target_raw) = (client.raw, target.raw);
    let to_target = direction(
        client.reader,
        target.writer,
        client_raw.zip(target_raw),
        Way::ToTarget,
        traffic,
        hex,
    );
    let to_client = direction(
        target.reader,
        client.writer,
        target_raw.zip(client_raw),
        Way::ToClient,
        traffic,
        hex,
    );
    let failed = |broken: Broken, source: End, destination: End| match broken {
        Broken::Read(error) => Failure { end: source, error },
        Broken::Write(error) => Failure {
            end: destination,
            error,
        },
    };
    tokio::pin!(to_target, to_client);
    let (mut client_done, mut target_done) = (false, false);
    while !(client_done && target_done) {
        tokio::select! {
            done = &mut to_target, if !client_done => {
                done.map_err(|broken| failed(broken, End::Client, End::Target))?;
                client_done = true;
            }
            done = &mut to_client, if !target_done => {
                done.map_err(|broken| failed(broken, End::Target, End::Client))?;
                target_done = true;
            }
            // A side that has said all it will say can still be reset while the other
            // direction waits on the other side: that ends the connection too.
            error = reset_of(client_raw), if client_done => {
                return Err(Failure { end: End::Client, error });
            }
            error = reset_of(target_raw), if target_done => {
                return Err(Failure { end: End::Target, error });
            }
        }
    }
    Ok(())
}

/// One direction: spliced between two plain sockets on Linux when nothing must see the
/// bytes, copied otherwise.
async fn direction(
    reader: Reader<'_>,
    writer: Writer<'_>,
    raws: Option<(PlainSocket<'_>, PlainSocket<'_>)>,
    way: Way,
    traffic: &Traffic,
    hex: bool,
) -> Result<(), Broken> {
    let transform = Transform::new(way.flow(), false, hex);
    #[cfg(target_os = "linux")]
    if let Some((from, to)) = raws.filter(|_| transform.is_identity()) {
        // Out of descriptors for a pipe: the connection is served all the same, by copying.
        if let Ok(mut pipe) = splice::Pipe::new() {
            return splice::splice_through(from, to, &mut pipe, way, traffic).await;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = raws;
    copy::copy(reader, writer, way, traffic, transform).await
}

/// Resolves with the error of a plain socket that has been reset; never for a TLS side
/// (its reset shows when the other direction writes to it).
async fn reset_of(raw: Option<PlainSocket<'_>>) -> io::Error {
    let Some(raw) = raw else {
        return std::future::pending().await;
    };
    loop {
        let ready = raw.ready(Interest::ERROR).await;
        let pending = socket2::SockRef::from(&raw).take_error();
        match (ready, pending) {
            (Err(err), _) | (_, Err(err)) | (_, Ok(Some(err))) => return err,
            // Readiness without an error: wait for the next event.
            (Ok(_), Ok(None)) => {
                let _ = raw.try_io(Interest::ERROR, || {
                    Err::<(), _>(io::ErrorKind::WouldBlock.into())
                });
            }
        }
    }
}

enum Reader<'a> {
    Plain(PlainSocket<'a>),
    Framed(ReadHalf<&'a mut dyn Framed>),
}

enum Writer<'a> {
    Plain(PlainSocket<'a>),
    Framed(WriteHalf<&'a mut dyn Framed>),
}

impl AsyncRead for Reader<'_> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            Reader::Plain(raw) => std::pin::Pin::new(raw).poll_read(cx, buf),
            Reader::Framed(io) => std::pin::Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Writer<'_> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        match self.get_mut() {
            Writer::Plain(raw) => std::pin::Pin::new(raw).poll_write(cx, buf),
            Writer::Framed(io) => std::pin::Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            Writer::Plain(raw) => std::pin::Pin::new(raw).poll_flush(cx),
            Writer::Framed(io) => std::pin::Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            Writer::Plain(raw) => std::pin::Pin::new(raw).poll_shutdown(cx),
            Writer::Framed(io) => std::pin::Pin::new(io).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::relay::RelayEnd;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// A plain TCP stream dressed as a session with its own framing: forces the copy path.
    struct Framed(TcpStream);

    impl AsyncRead for Framed {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Framed {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<io::Result<usize>> {
            std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
        }

        fn poll_flush(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            std::pin::Pin::new(&mut self.0).poll_flush(cx)
        }

        fn poll_shutdown(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
        }
    }

    impl Io for Framed {
        fn socket(&self) -> Option<BorrowedFd<'_>> {
            Some(self.0.as_fd())
        }
    }

    /// A connected pair: (our end, the far end).
    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let far = TcpStream::connect(listener.local_addr().unwrap());
        let (far, ours) = tokio::join!(far, listener.accept());
        (ours.unwrap().0, far.unwrap())
    }

    /// Two plain sockets forwarded to each other in a task: (the task, the client's far end,
    /// the target's far end).
    async fn forwarding() -> (
        tokio::task::JoinHandle<Result<(), Failure>>,
        TcpStream,
        TcpStream,
    ) {
        let (client_ours, client) = pair().await;
        let (target_ours, target) = pair().await;
        let task = tokio::spawn(async move {
            let traffic = Traffic::new();
            forward(
                Side::from(client_ours),
                Side::from(target_ours),
                &traffic,
                false,
            )
            .await
        });
        (task, client, target)
    }

    /// Closes `stream` with a reset (SO_LINGER 0), as a peer that aborts does.
    fn reset(stream: TcpStream) {
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(stream);
    }

    fn data(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    /// Sends `out` and half-closes, while reading everything the far end sends back.
    async fn exchange(stream: TcpStream, out: Vec<u8>) -> Vec<u8> {
        let (mut reader, mut writer) = stream.into_split();
        let sending = tokio::spawn(async move {
            writer.write_all(&out).await.unwrap();
            writer.shutdown().await.unwrap();
            writer
        });
        let mut back = Vec::new();
        reader.read_to_end(&mut back).await.unwrap();
        drop(sending.await.unwrap());
        back
    }

    async fn both_ways(client_framed: bool) {
        let (client_ours, client) = pair().await;
        let (target_ours, target) = pair().await;
        let client_side = if client_framed {
            Side::Io(Box::new(Framed(client_ours)))
        } else {
            Side::from(client_ours)
        };
        let traffic = Traffic::new();
        let (up, down) = (data(3 << 20, 1), data(5 << 20, 2));
        let (outcome, at_target, at_client) = tokio::join!(
            forward(client_side, Side::from(target_ours), &traffic, false),
            exchange(target, down.clone()),
            exchange(client, up.clone()),
        );
        outcome.unwrap();
        assert!(at_target == up, "the target got other bytes");
        assert!(at_client == down, "the client got other bytes");
        let stats = traffic.stats(RelayEnd::PeerClosed);
        assert_eq!(stats.received, up.len() as u64);
        assert_eq!(stats.sent, down.len() as u64);
    }

    #[tokio::test]
    async fn plain_sockets_carry_every_byte_both_ways_and_pass_each_fin_on() {
        both_ways(false).await;
    }

    #[tokio::test]
    async fn a_framed_side_is_copied_with_the_same_ending() {
        both_ways(true).await;
    }

    #[tokio::test]
    async fn a_reset_client_resets_the_target() {
        let (forwarding, client, mut target) = forwarding().await;
        reset(client);
        let failure = forwarding.await.unwrap().unwrap_err();
        assert_eq!(failure.end, End::Client);
        let mut byte = [0u8; 1];
        let read = target.read(&mut byte).await;
        assert_eq!(
            read.map_err(|err| err.kind()),
            Err(io::ErrorKind::ConnectionReset)
        );
    }

    /// The client has finished sending (its FIN went on), the target says nothing: a reset of
    /// the client must still end the connection and reach the target.
    #[tokio::test]
    async fn a_reset_after_the_fin_is_still_passed_on() {
        let (forwarding, mut client, mut target) = forwarding().await;
        client.shutdown().await.unwrap();
        let mut byte = [0u8; 1];
        assert_eq!(
            target.read(&mut byte).await.unwrap(),
            0,
            "the FIN came through"
        );
        reset(client);
        let failure = forwarding.await.unwrap().unwrap_err();
        assert_eq!(failure.end, End::Client);
        // The target learns of it on its next write.
        let mut failed = false;
        for _ in 0..100 {
            if target.write_all(b"x").await.is_err() {
                failed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(failed, "the target was never reset");
    }

    /// A bulk transfer switches batching on; a small tail that follows while the client keeps
    /// the connection open must still come out (not wait for a batch or for the FIN).
    #[tokio::test]
    async fn a_tail_after_bulk_arrives_while_the_connection_stays_open() {
        let (forwarding, mut client, mut target) = forwarding().await;
        let bulk = data(4 << 20, 3);
        let expected = [bulk.clone(), b"tail".to_vec()].concat();
        let reading = tokio::spawn(async move {
            let mut got = vec![0u8; expected.len()];
            target.read_exact(&mut got).await.map(|_| got == expected)
        });
        client.write_all(&bulk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        client.write_all(b"tail").await.unwrap();
        let arrived = tokio::time::timeout(Duration::from_secs(30), reading)
            .await
            .expect("the tail never came out");
        assert!(arrived.unwrap().unwrap(), "the bytes came out changed");
        drop(client);
        forwarding.abort();
    }
}
