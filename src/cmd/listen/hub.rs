//! The stdio side of `-k`: stdin broadcast to every connected client, and one writer that
//! puts every client's chunks on stdout whole.
//!
//! Memory stays bounded whatever the clients do: each client has a queue of at most
//! [`CLIENT_QUEUE`] stdin chunks (shared, not copied). A client that takes nothing for
//! [`SLOW_CLIENT_GRACE`] is disconnected by its own task (see [`stall`](super::stall): the
//! kernel's send buffer can hide a stalled client from this queue for megabytes); a queue that
//! stays full that long drops its client from the broadcast too, so that nothing can hold
//! stdin (and everyone else) back for longer.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::net::transform::{Flow, Transform};

/// A piece of stdin, shared by every client it goes to.
pub type Chunk = Arc<[u8]>;

/// Stdin chunks a client may have waiting before it counts as slow.
pub const CLIENT_QUEUE: usize = 32;

/// How long a client may take no stdin while some is pending for it before it is disconnected
/// (and how long stdin waits for a client whose queue is full).
pub const SLOW_CLIENT_GRACE: Duration = Duration::from_secs(5);

/// Largest piece read from stdin at once.
const STDIN_CHUNK: usize = 16 * 1024;

/// Chunks from clients waiting for stdout.
const STDOUT_QUEUE: usize = 64;

/// The registry of clients that take stdin.
#[derive(Debug, Default)]
pub struct Hub {
    state: Mutex<HubState>,
    next_id: AtomicU64,
    clients: watch::Sender<usize>,
}

#[derive(Debug, Default)]
struct HubState {
    stdin_done: bool,
    clients: HashMap<u64, Member>,
}

#[derive(Debug, Clone)]
struct Member {
    queue: mpsc::Sender<Chunk>,
    dropped: Arc<AtomicBool>,
}

/// A client's end of the broadcast.
#[derive(Debug)]
pub struct Subscription {
    id: u64,
    hub: Arc<Hub>,
    queue: Option<mpsc::Receiver<Chunk>>,
    dropped: Arc<AtomicBool>,
}

/// What the next stdin event is for one client.
#[derive(Debug, PartialEq, Eq)]
pub enum Feed {
    /// Send this to the client.
    Data(Chunk),
    /// Stdin is at its end: half-close the client's write side.
    End,
    /// The client could not keep up and was dropped from the broadcast: disconnect it.
    TooSlow,
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a client. After stdin's end, a new client gets [`Feed::End`] at once.
    pub fn subscribe(self: &Arc<Hub>) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let dropped = Arc::new(AtomicBool::new(false));
        let mut state = self.lock();
        let queue = if state.stdin_done {
            None
        } else {
            let (sender, receiver) = mpsc::channel(CLIENT_QUEUE);
            state.clients.insert(
                id,
                Member {
                    queue: sender,
                    dropped: Arc::clone(&dropped),
                },
            );
            Some(receiver)
        };
        let count = state.clients.len();
        drop(state);
        self.clients.send_replace(count);
        Subscription {
            id,
            hub: Arc::clone(self),
            queue,
            dropped,
        }
    }

    fn remove(&self, id: u64) {
        let mut state = self.lock();
        state.clients.remove(&id);
        let count = state.clients.len();
        drop(state);
        self.clients.send_replace(count);
    }

    /// Stdin has ended: every client (present and future) gets [`Feed::End`].
    pub fn finish(&self) {
        let mut state = self.lock();
        state.stdin_done = true;
        state.clients.clear();
        drop(state);
        self.clients.send_replace(0);
    }

    /// Waits until at least one client is connected.
    pub async fn wait_for_clients(&self) {
        let mut count = self.clients.subscribe();
        let _ = count.wait_for(|count| *count > 0).await;
    }

    /// Queues `chunk` for every client. A client whose queue is full gets until
    /// [`SLOW_CLIENT_GRACE`] to make room, else it is dropped (and told so).
    pub async fn broadcast(&self, chunk: Chunk) {
        let members: Vec<(u64, Member)> = self
            .lock()
            .clients
            .iter()
            .map(|(id, member)| (*id, member.clone()))
            .collect();
        let mut slow = Vec::new();
        for (id, member) in members {
            match member.queue.try_send(Arc::clone(&chunk)) {
                Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
                Err(mpsc::error::TrySendError::Full(_)) => slow.push((id, member)),
            }
        }
        if slow.is_empty() {
            return;
        }
        let deadline = tokio::time::Instant::now() + SLOW_CLIENT_GRACE;
        for (id, member) in slow {
            let sent = tokio::time::timeout_at(deadline, member.queue.send(Arc::clone(&chunk)));
            if sent.await.is_err() {
                member.dropped.store(true, Ordering::Release);
                self.remove(id);
            }
        }
    }
}

impl Subscription {
    /// The next thing to do with this client's write side.
    pub async fn next(&mut self) -> Feed {
        let received = match self.queue.as_mut() {
            Some(queue) => queue.recv().await,
            None => None,
        };
        match received {
            Some(chunk) => Feed::Data(chunk),
            None if self.dropped.load(Ordering::Acquire) => Feed::TooSlow,
            None => Feed::End,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(self.id);
    }
}

/// Reads stdin on a thread of its own (a blocking read cannot be cancelled) and broadcasts it,
/// one chunk at a time, whenever at least one client is connected. With `crlf` line endings
/// go out as CRLF; with `hex` each chunk is dumped once on stderr.
pub fn pump_stdin(hub: Arc<Hub>, crlf: bool, hex: bool) {
    let (sender, mut receiver) = mpsc::channel::<Vec<u8>>(2);
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buffer = vec![0u8; STDIN_CHUNK];
        let mut transform = Transform::new(Flow::Sent, crlf, hex);
        loop {
            match stdin.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    // Dumped once, as it is read: every client gets the same bytes.
                    let queued =
                        transform.pass(&buffer[..n], |chunk| sender.blocking_send(chunk.to_vec()));
                    if queued.is_err() {
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // An unreadable stdin counts as an empty one.
                Err(_) => break,
            }
        }
    });
    tokio::spawn(async move {
        loop {
            hub.wait_for_clients().await;
            match receiver.recv().await {
                Some(bytes) => hub.broadcast(Chunk::from(bytes)).await,
                None => break,
            }
        }
        hub.finish();
    });
}

/// Starts the stdout writer: every chunk sent to the returned queue is written with one
/// `write_all`, so chunks from different clients never interleave. The handle resolves with
/// the first write error (a closed stdout), or `Ok` once every sender is gone.
pub fn stdout_writer() -> (
    mpsc::Sender<Vec<u8>>,
    tokio::task::JoinHandle<io::Result<()>>,
) {
    let (sender, mut receiver) = mpsc::channel::<Vec<u8>>(STDOUT_QUEUE);
    let writer = tokio::task::spawn_blocking(move || {
        let mut stdout = io::stdout().lock();
        while let Some(chunk) = receiver.blocking_recv() {
            stdout.write_all(&chunk)?;
            if receiver.is_empty() {
                stdout.flush()?;
            }
        }
        stdout.flush()
    });
    (sender, writer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str) -> Chunk {
        Chunk::from(text.as_bytes())
    }

    #[tokio::test]
    async fn every_client_gets_every_chunk_then_the_end() {
        let hub = Hub::new();
        let mut a = hub.subscribe();
        let mut b = hub.subscribe();
        hub.broadcast(chunk("one")).await;
        hub.broadcast(chunk("two")).await;
        hub.finish();
        for sub in [&mut a, &mut b] {
            assert_eq!(sub.next().await, Feed::Data(chunk("one")));
            assert_eq!(sub.next().await, Feed::Data(chunk("two")));
            assert_eq!(sub.next().await, Feed::End);
        }
        // A client that arrives after stdin's end is told at once.
        assert_eq!(hub.subscribe().next().await, Feed::End);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_client_is_dropped_and_the_others_keep_going() {
        let hub = Hub::new();
        let mut fast = hub.subscribe();
        let mut slow = hub.subscribe();
        for i in 0..CLIENT_QUEUE + 3 {
            hub.broadcast(chunk(&i.to_string())).await;
            assert_eq!(fast.next().await, Feed::Data(chunk(&i.to_string())));
        }
        // The slow one still gets what was queued before it was dropped, then TooSlow.
        for i in 0..CLIENT_QUEUE {
            assert_eq!(slow.next().await, Feed::Data(chunk(&i.to_string())));
        }
        assert_eq!(slow.next().await, Feed::TooSlow);
        hub.broadcast(chunk("after")).await;
        assert_eq!(fast.next().await, Feed::Data(chunk("after")));
    }

    #[tokio::test]
    async fn leaving_clients_are_forgotten() {
        let hub = Hub::new();
        let sub = hub.subscribe();
        assert_eq!(*hub.clients.borrow(), 1);
        drop(sub);
        assert_eq!(*hub.clients.borrow(), 0);
    }
}
