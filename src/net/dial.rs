//! Connecting to one of several addresses, Happy Eyeballs style (RFC 8305): attempts start
//! [`STAGGER`] apart (at once when the previous one failed) and run side by side; the first
//! to complete wins and the others are dropped.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::Socket;

use super::socket::{Proto, SocketOptions, new_socket};
use crate::net::duration::deadline_after;

/// The delay before the next address is tried while an attempt is still pending.
pub const STAGGER: Duration = Duration::from_millis(250);

/// Where connections come from (`--source`, `--source-port`).
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// Local addresses to bind; the first of the target's family is used. Empty: any.
    pub addrs: Vec<std::net::IpAddr>,
    /// The local port; 0 lets the kernel choose.
    pub port: u16,
}

impl Source {
    /// The local address to bind for a connection to `target`, or `None` to let the kernel
    /// choose. Fails when source addresses were given but none has the target's family.
    pub fn local_for(&self, target: &SocketAddr) -> io::Result<Option<SocketAddr>> {
        if self.addrs.is_empty() {
            if self.port == 0 {
                return Ok(None);
            }
            let any: std::net::IpAddr = if target.is_ipv4() {
                std::net::Ipv4Addr::UNSPECIFIED.into()
            } else {
                std::net::Ipv6Addr::UNSPECIFIED.into()
            };
            return Ok(Some(SocketAddr::new(any, self.port)));
        }
        self.addrs
            .iter()
            .find(|ip| ip.is_ipv4() == target.is_ipv4())
            .map(|ip| Some(SocketAddr::new(*ip, self.port)))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    "no source address of this family",
                )
            })
    }
}

/// How to connect.
#[derive(Debug, Clone, Default)]
pub struct DialOptions {
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Options set on every socket before connecting.
    pub socket: SocketOptions,
    /// Local address and port.
    pub source: Source,
}

/// A connection that succeeded.
#[derive(Debug)]
pub struct Dialed {
    /// The connected stream, in blocking mode.
    pub stream: TcpStream,
    /// The address that answered.
    pub addr: SocketAddr,
    /// How long its handshake took.
    pub elapsed: Duration,
}

/// Every attempt failed; each address with its error, in the order tried.
#[derive(Debug)]
pub struct DialFailure {
    /// `(address, cause)` for every attempt.
    pub attempts: Vec<(SocketAddr, io::Error)>,
}

impl DialFailure {
    /// Whether waiting could help: every failure was a refusal or a timeout.
    pub fn is_retryable(&self) -> bool {
        self.attempts.iter().all(|(_, err)| {
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::TimedOut
            )
        })
    }
}

impl DialFailure {
    /// The one-line reason for a connection to `peer` (as the user named it) that failed:
    /// `cannot connect to 127.0.0.1:9: connection refused`, or for a name with several
    /// addresses `cannot connect to localhost:9 ([::1]:9: connection refused, 127.0.0.1:9: …)`.
    pub fn message(&self, peer: &dyn std::fmt::Display) -> String {
        self.message_as("", peer)
    }

    /// [`DialFailure::message`] where `role` says what `peer` is: `proxy ` gives
    /// `cannot connect to proxy 127.0.0.1:1080: connection refused`.
    pub fn message_as(&self, role: &str, peer: &dyn std::fmt::Display) -> String {
        use crate::net::cause::describe;
        let peer = peer.to_string();
        match self.attempts.as_slice() {
            [] => format!("cannot connect to {role}{peer}: no address to try"),
            [(addr, err)] if addr.to_string() == peer => {
                format!("cannot connect to {role}{peer}: {}", describe(err))
            }
            [(addr, err)] => format!("cannot connect to {role}{peer} ({addr}): {}", describe(err)),
            attempts => {
                let causes: Vec<String> = attempts
                    .iter()
                    .map(|(addr, err)| format!("{addr}: {}", describe(err)))
                    .collect();
                format!("cannot connect to {role}{peer} ({})", causes.join(", "))
            }
        }
    }
}

/// [`dial`] for tokio: the first of `addrs` to answer within `timeout` per attempt, attempts
/// [`STAGGER`] apart (the next at once when one fails). `have_socket` is called once the first
/// attempt's socket exists (a server that paces its accepts by descriptors waits for that);
/// the stream has TCP_NODELAY set.
pub async fn dial_async(
    addrs: &[SocketAddr],
    timeout: Duration,
    mut have_socket: impl FnMut(),
) -> Result<(tokio::net::TcpStream, SocketAddr), DialFailure> {
    let mut failures = Vec::new();
    let mut attempts = tokio::task::JoinSet::new();
    let mut queue = addrs.iter().copied();
    let mut told = false;
    loop {
        let started = match queue.next() {
            Some(addr) => {
                match new_tokio_socket(addr) {
                    Ok(socket) => {
                        if !told {
                            told = true;
                            have_socket();
                        }
                        attempts.spawn(async move {
                            let outcome =
                                match tokio::time::timeout(timeout, socket.connect(addr)).await {
                                    Ok(outcome) => outcome,
                                    Err(_) => Err(io::ErrorKind::TimedOut.into()),
                                };
                            (addr, outcome)
                        });
                    }
                    Err(err) => {
                        failures.push((addr, err));
                        continue;
                    }
                }
                true
            }
            None => false,
        };
        if attempts.is_empty() {
            return Err(DialFailure { attempts: failures });
        }
        // The next address starts after the stagger, or as soon as an attempt fails.
        let stagger = async {
            if started {
                tokio::time::sleep(STAGGER).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            Some(joined) = attempts.join_next() => match joined {
                Ok((addr, Ok(stream))) => return Ok((stream, addr)),
                Ok((addr, Err(err))) => failures.push((addr, err)),
                // An attempt's task does not panic; were one lost, the others still count.
                Err(_) => {}
            },
            () = stagger => {}
        }
    }
}

fn new_tokio_socket(addr: SocketAddr) -> io::Result<tokio::net::TcpSocket> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_nodelay(true)?;
    Ok(socket)
}

struct Pending {
    addr: SocketAddr,
    socket: Socket,
    started: Instant,
}

/// Connects to the first of `addrs` that answers.
pub fn dial(addrs: &[SocketAddr], options: &DialOptions) -> Result<Dialed, DialFailure> {
    let mut failures = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut queue = addrs.iter().copied();
    let mut next_start = Instant::now();
    let mut exhausted = false;
    loop {
        let now = Instant::now();
        if !exhausted && (now >= next_start || pending.is_empty()) {
            match queue.next() {
                Some(addr) => {
                    match start(addr, options) {
                        Ok(Started::Connected(socket)) => {
                            return finish(socket, addr, now).map_err(|err| DialFailure {
                                attempts: vec![(addr, err)],
                            });
                        }
                        Ok(Started::Pending(socket)) => {
                            pending.push(Pending {
                                addr,
                                socket,
                                started: now,
                            });
                            next_start = now + STAGGER;
                        }
                        Err(err) => {
                            failures.push((addr, err));
                            next_start = now;
                        }
                    }
                    continue;
                }
                None => exhausted = true,
            }
        }
        if pending.is_empty() {
            return Err(DialFailure { attempts: failures });
        }
        // Expire attempts past their timeout.
        let mut index = 0;
        while index < pending.len() {
            if now.duration_since(pending[index].started) >= options.timeout {
                let gone = pending.remove(index);
                failures.push((gone.addr, io::ErrorKind::TimedOut.into()));
                next_start = now;
            } else {
                index += 1;
            }
        }
        if pending.is_empty() {
            continue;
        }
        let mut wake = pending
            .iter()
            .map(|p| deadline_after(p.started, options.timeout))
            .min()
            .unwrap_or(now);
        if !exhausted {
            wake = wake.min(next_start);
        }
        let wait = wake.saturating_duration_since(now);
        let ready = wait_writable(&pending, wait);
        for index in ready.into_iter().rev() {
            let attempt = pending.remove(index);
            match attempt.socket.take_error() {
                Ok(None) => match attempt.socket.peer_addr() {
                    Ok(_) => {
                        return finish(attempt.socket, attempt.addr, attempt.started).map_err(
                            |err| DialFailure {
                                attempts: vec![(attempt.addr, err)],
                            },
                        );
                    }
                    Err(err) => failures.push((attempt.addr, err)),
                },
                Ok(Some(err)) | Err(err) => failures.push((attempt.addr, err)),
            }
            next_start = Instant::now();
        }
    }
}

enum Started {
    Connected(Socket),
    Pending(Socket),
}

fn start(addr: SocketAddr, options: &DialOptions) -> io::Result<Started> {
    let mut socket_options = options.socket;
    if options.source.port != 0 {
        socket_options.reuse_addr = true;
    }
    let socket = new_socket(&addr, Proto::Tcp, &socket_options)?;
    if let Some(local) = options.source.local_for(&addr)? {
        socket.bind(&local.into())?;
    }
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => Ok(Started::Connected(socket)),
        Err(err) if err.raw_os_error() == Some(Errno::EINPROGRESS as i32) => {
            Ok(Started::Pending(socket))
        }
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(Started::Pending(socket)),
        Err(err) => Err(err),
    }
}

fn finish(socket: Socket, addr: SocketAddr, started: Instant) -> io::Result<Dialed> {
    socket.set_nonblocking(false)?;
    Ok(Dialed {
        stream: socket.into(),
        addr,
        elapsed: started.elapsed(),
    })
}

/// Indexes of the pending attempts whose handshake ended (either way) within `wait`.
fn wait_writable(pending: &[Pending], wait: Duration) -> Vec<usize> {
    let mut fds: Vec<PollFd<'_>> = pending
        .iter()
        .map(|p| PollFd::new(p.socket.as_fd(), PollFlags::POLLOUT))
        .collect();
    // Round up so that a deadline 0.4 ms away is not polled with 0 ms again and again.
    let millis = wait.as_millis().saturating_add(1).min(i32::MAX as u128) as i32;
    let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, timeout) {
        Ok(0) | Err(_) => Vec::new(),
        Ok(_) => fds
            .iter()
            .enumerate()
            .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
            .map(|(index, _)| index)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn options() -> DialOptions {
        DialOptions {
            timeout: Duration::from_secs(5),
            ..DialOptions::default()
        }
    }

    #[test]
    fn first_answering_address_wins() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let dialed = dial(&[closed, open], &options()).unwrap();
        assert_eq!(dialed.addr, open);
        assert_eq!(dialed.stream.peer_addr().unwrap(), open);
    }

    /// A loopback address whose handshakes hang: a listener with a full backlog (0) drops
    /// further SYNs.
    fn black_hole() -> (Socket, Vec<TcpStream>, SocketAddr) {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let socket = new_socket(&addr, Proto::Tcp, &SocketOptions::default()).unwrap();
        socket.bind(&addr.into()).unwrap();
        socket.listen(0).unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();
        let filler = TcpStream::connect(addr).unwrap();
        (socket, vec![filler], addr)
    }

    #[test]
    fn a_hanging_address_does_not_hold_up_the_next() {
        let (_hole, _fillers, hanging) = black_hole();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let dialed = dial(&[hanging, open], &options()).unwrap();
        assert_eq!(dialed.addr, open);
    }

    #[test]
    fn a_hanging_address_times_out() {
        let (_hole, _fillers, hanging) = black_hole();
        let options = DialOptions {
            timeout: Duration::from_millis(200),
            ..DialOptions::default()
        };
        let failure = dial(&[hanging], &options).unwrap_err();
        assert_eq!(failure.attempts.len(), 1);
        assert_eq!(failure.attempts[0].1.kind(), io::ErrorKind::TimedOut);
        assert!(failure.is_retryable());
    }

    #[test]
    fn every_failure_is_kept() {
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let failure = dial(&[closed, closed], &options()).unwrap_err();
        assert_eq!(failure.attempts.len(), 2);
        assert!(failure.is_retryable());
        assert_eq!(
            failure.attempts[0].1.kind(),
            io::ErrorKind::ConnectionRefused
        );
    }

    #[test]
    fn source_address_must_match_the_family() {
        let source = Source {
            addrs: vec!["127.0.0.1".parse().unwrap()],
            port: 0,
        };
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert!(source.local_for(&v6).is_err());
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(
            source.local_for(&v4).unwrap(),
            Some("127.0.0.1:0".parse().unwrap())
        );
    }
}
