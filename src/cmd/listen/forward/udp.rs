//! UDP forwarding (`listen -u PORT --forward HOST:PORT`): each client address gets a session,
//! a UDP socket of its own connected to the target; the client's datagrams go out through it
//! and what the target answers on it goes back to that client, from the listening socket.
//! Datagrams stay whole both ways. A session ends after `-w` without a datagram either way
//! (default 60s); `-m` caps the sessions open at once (a new client beyond it is dropped,
//! reported with `-v`). Without `-k` the first client's session is the only one, and sockx
//! exits when it ends; with `-k` sessions come and go until Ctrl-C (exit 130, `-v` summaries
//! of the open sessions first).

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::super::ListenConfig;
use super::super::server::{self, canonical, is_out_of_descriptors};
use super::super::udp::remember;
use super::{Plan, Target};
use crate::error::{Error, Status};
use crate::net::cause::describe;
use crate::net::datagram::DatagramPeer;
use crate::net::relay::RelayEnd;
use crate::net::traffic::Traffic;
use crate::net::transform::{Flow, Transform};
use crate::os::interrupt::Interrupt;
use crate::output::notes;

/// A session's idle limit without `-w`.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(60);

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// One client's session.
struct Session {
    upstream: UdpSocket,
    traffic: Traffic,
    /// `--hex`: the session's two directions (received: from the client), each with its
    /// own offsets.
    dumps: Mutex<(Transform, Transform)>,
}

impl Session {
    /// Records a datagram that went `flow`'s way: counted, and dumped with `--hex`.
    fn carried(&self, flow: Flow, datagram: &[u8]) {
        self.traffic.carried(flow, datagram.len());
        let mut dumps = self.dumps.lock().unwrap_or_else(PoisonError::into_inner);
        let dump = match flow {
            Flow::Received => &mut dumps.0,
            Flow::Sent => &mut dumps.1,
        };
        dump.observe(datagram);
    }
}

type Sessions = Arc<Mutex<HashMap<SocketAddr, Arc<Session>>>>;

/// What every session needs.
struct Shared {
    listener: Arc<UdpSocket>,
    target: SocketAddr,
    idle: Duration,
    verbose: bool,
    hex: bool,
    sessions: Sessions,
    interrupted: watch::Receiver<bool>,
}

/// Serves `-u --forward` on a bound UDP socket.
pub fn run(
    socket: std::net::UdpSocket,
    plan: &Plan,
    config: &ListenConfig,
) -> anyhow::Result<Status> {
    let Target::Tcp { addrs, shown, .. } = &plan.target else {
        return Err(Error::usage("UDP is forwarded to HOST:PORT only").into());
    };
    // A UDP socket cannot try addresses in turn: the first one is the target.
    let Some(target) = addrs.first().copied() else {
        return Err(Error::failure(format!("cannot resolve {shown}")).into());
    };
    let access = config.access.clone();
    let max_sessions = config.max_conns.unwrap_or(usize::MAX);
    let keep_open = plan.keep_open;
    socket.set_nonblocking(true)?;
    server::runtime()?.block_on(async move {
        let (tell_sessions, interrupted) = watch::channel(false);
        let shared = Arc::new(Shared {
            listener: Arc::new(UdpSocket::from_std(socket)?),
            target,
            idle: plan.idle.unwrap_or(DEFAULT_SESSION_IDLE),
            verbose: plan.verbose,
            hex: plan.hex,
            sessions: Arc::new(Mutex::new(HashMap::new())),
            interrupted,
        });
        let mut tasks = JoinSet::new();
        let mut refused = HashSet::new();
        let mut first_done = false;
        let shortage = notes::Once::new();
        let mut buffer = vec![0u8; MAX_DATAGRAM];
        // Ctrl-C is the run's (`os::interrupt`): this loop winds the sessions down itself.
        let interrupt = Interrupt::handler();
        interrupt.observe();
        let ctrl_c = interrupt.fired();
        tokio::pin!(ctrl_c);
        loop {
            tokio::select! {
                received = shared.listener.recv_from(&mut buffer) => {
                    let (n, from) = match received {
                        Ok(received) => received,
                        // An ICMP error for an earlier reply to some client: not ours to end on.
                        Err(_) => continue,
                    };
                    let client = canonical(from);
                    if !access.permits(client.ip()) {
                        if shared.verbose && remember(&mut refused, &DatagramPeer::Ip(client)) {
                            notes::verbose(format_args!("refused {client}: not permitted by --allow/--deny"));
                        }
                        continue;
                    }
                    let existing = shared.sessions.lock().unwrap_or_else(PoisonError::into_inner).get(&from).cloned();
                    let session = match existing {
                        Some(session) => session,
                        None if first_done && !keep_open => {
                            if shared.verbose && remember(&mut refused, &DatagramPeer::Ip(client)) {
                                notes::verbose(format_args!(
                                    "refused {client}: one client is forwarded without -k"
                                ));
                            }
                            continue;
                        }
                        None => {
                            let open = shared.sessions.lock().unwrap_or_else(PoisonError::into_inner).len();
                            if open >= max_sessions {
                                if shared.verbose && remember(&mut refused, &DatagramPeer::Ip(client)) {
                                    notes::verbose(format_args!(
                                        "refused {client}: {max_sessions} sessions already open (--max-conns {max_sessions})"
                                    ));
                                }
                                continue;
                            }
                            match open_session(&shared, from).await {
                                Ok(session) => {
                                    shortage.reset();
                                    first_done = true;
                                    tasks.spawn(serve_session(Arc::clone(&shared), from, Arc::clone(&session)));
                                    session
                                }
                                Err(err) if is_out_of_descriptors(&err) => {
                                    shortage.warn(format_args!(
                                        "cannot open a UDP socket for {client}: {}; dropping its datagrams until one closes",
                                        describe(&err)
                                    ));
                                    continue;
                                }
                                Err(err) => {
                                    if shared.verbose {
                                        notes::verbose(format_args!("{client} -> {target}: {}", describe(&err)));
                                    }
                                    continue;
                                }
                            }
                        }
                    };
                    let datagram = &buffer[..n];
                    match session.upstream.send(datagram).await {
                        Ok(_) => session.carried(Flow::Received, datagram),
                        Err(err) if shared.verbose => {
                            notes::verbose(format_args!("{client} -> {target}: cannot send: {}", describe(&err)));
                        }
                        Err(_) => {}
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                    if !keep_open {
                        return Ok(Status::Success);
                    }
                }
                _ = &mut ctrl_c => {
                    tell_sessions.send_replace(true);
                    let drained = async { while tasks.join_next().await.is_some() {} };
                    let _ = tokio::time::timeout(server::REPORTING_GRACE, drained).await;
                    return Ok(Status::Interrupted);
                }
            }
        }
    })
}

/// A socket of the target's family, connected to it (so that only its answers arrive).
async fn open_session(shared: &Shared, client: SocketAddr) -> io::Result<Arc<Session>> {
    let any: IpAddr = if shared.target.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    let upstream = UdpSocket::bind(SocketAddr::new(any, 0)).await?;
    upstream.connect(shared.target).await?;
    let session = Arc::new(Session {
        upstream,
        traffic: Traffic::new(),
        dumps: Mutex::new((
            Transform::new(Flow::Received, false, shared.hex),
            Transform::new(Flow::Sent, false, shared.hex),
        )),
    });
    shared
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(client, Arc::clone(&session));
    if shared.verbose {
        notes::verbose(format_args!("{} -> {}", canonical(client), shared.target));
    }
    Ok(session)
}

/// The target's answers back to the client, until the session idles out or Ctrl-C.
async fn serve_session(shared: Arc<Shared>, client: SocketAddr, session: Arc<Session>) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    let interrupted = until_interrupted(shared.interrupted.clone());
    tokio::pin!(interrupted);
    let mut refused_noted = false;
    let why = loop {
        tokio::select! {
            answer = session.upstream.recv(&mut buffer) => match answer {
                Ok(n) => {
                    if shared.listener.send_to(&buffer[..n], client).await.is_ok() {
                        session.carried(Flow::Sent, &buffer[..n]);
                    }
                }
                // Port unreachable for an earlier datagram: the target is not (yet) there.
                Err(err) => {
                    if shared.verbose && !refused_noted {
                        refused_noted = true;
                        notes::verbose(format_args!(
                            "{} -> {}: {}", canonical(client), shared.target, describe(&err)
                        ));
                    }
                }
            },
            () = session.traffic.idle(Some(shared.idle)) => break ("idle timeout", RelayEnd::IdleTimeout),
            () = &mut interrupted => break ("interrupted", RelayEnd::Stopped),
        }
    };
    shared
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&client);
    if shared.verbose {
        let (why, end) = why;
        notes::verbose(format_args!(
            "{} -> {} {why}: {}",
            canonical(client),
            shared.target,
            session.traffic.stats(end)
        ));
    }
}

async fn until_interrupted(mut interrupted: watch::Receiver<bool>) {
    let _ = interrupted.wait_for(|interrupted| *interrupted).await;
}
