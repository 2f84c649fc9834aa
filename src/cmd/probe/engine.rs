//! The probing engine: a sliding window of non-blocking attempts over one poller (epoll on
//! Linux, through mio). As soon as one attempt ends, the next one starts, so the window stays
//! full; an attempt that finds this host short of sockets, descriptors or local ports is
//! retried later with a smaller window. When nothing of ours is in flight to free one, the
//! shortage has its own deadline (the attempt's timeout), and then it is the reason reported
//! (`no-local-port`, …), never a guess at the port's state.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};

use super::attempt::{self, AttemptSpec, Flight, Spares, Step};
use super::outcome::{Outcome, PortState, Reason};
use crate::net::duration::deadline_after;
use crate::net::socket::Proto;
use crate::os::interrupt::Interrupt;

/// How the engine runs its attempts.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long one attempt may wait for an answer.
    pub timeout: Duration,
    /// How long to wait for a banner after connecting.
    pub banner_wait: Duration,
    /// Extra attempts after a timeout.
    pub retries: u32,
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// What an attempt does.
    pub spec: AttemptSpec,
    /// `--rate`: most attempts started per second, evenly spaced.
    pub rate: Option<f64>,
}

/// The jobs of a run by position, computed when the engine gets to them (a scan's plan is
/// never materialised); `None` for a position that is skipped (an excluded address).
pub trait Source: Sync {
    /// How many positions there are.
    fn len(&self) -> u64;
    /// The job at `position`, if any.
    fn job(&self, position: u64) -> Option<Job>;
}

/// A list of jobs as a [`Source`] (wait and latency modes: a few targets, planned up front).
struct Listed<'a>(&'a [Job]);

impl Source for Listed<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn job(&self, position: u64) -> Option<Job> {
        self.0.get(usize::try_from(position).ok()?).copied()
    }
}

/// One address and port to probe; `id` lets the caller find its own record again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// The caller's identifier.
    pub id: usize,
    /// Where to probe.
    pub addr: SocketAddr,
}

/// How a run of the engine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Every job got an outcome.
    Completed,
    /// Ctrl-C stopped it; some jobs got none.
    Interrupted,
}

/// A self-connect is retried this many times before the port is reported closed.
const SELF_CONNECT_TRIES: u8 = 3;
/// Pause after a shortage with nothing in flight (nothing of ours will free a socket).
const SHORTAGE_PAUSE: Duration = Duration::from_millis(10);
/// How often an engine tells a [`Watch`] where it stands.
const PUBLISH_EVERY: Duration = Duration::from_millis(50);
/// Most attempts started between two looks at the poller, so that answers are read (and
/// timed) promptly while a long run of instantly refused ports is being launched.
const LAUNCH_BURST: usize = 64;
/// Longest single wait in the poller, so that Ctrl-C is noticed promptly.
const MAX_POLL_WAIT: Duration = Duration::from_millis(100);

/// A job waiting to (re)start.
#[derive(Debug, Clone, Copy)]
struct Queued {
    job: Job,
    attempt: u32,
    self_connects: u8,
    /// Since when the host has been short with nothing of ours in flight.
    short_since: Option<Instant>,
}

/// A job with an attempt in flight.
#[derive(Debug)]
struct Slot {
    queued: Queued,
    started: Instant,
    deadline: Instant,
    seq: u64,
    flight: Flight,
}

/// Probes every job, calling `report` once per job with its outcome (in completion order).
pub fn run(
    jobs: &[Job],
    config: &EngineConfig,
    interrupt: &Interrupt,
    mut report: impl FnMut(&Job, Outcome),
) -> io::Result<Finish> {
    let listed = Listed(jobs);
    let mut engine = Engine::new(&listed, 0, 1, config)?;
    engine.run(interrupt, &mut report)
}

/// Self-connects met (and re-probed) by every engine run in this process, for `-v`.
static SELF_CONNECTS: AtomicUsize = AtomicUsize::new(0);

/// How many attempts so far connected a socket to itself and were re-probed.
pub fn self_connects() -> usize {
    SELF_CONNECTS.load(Ordering::Relaxed)
}

/// Fewest jobs for which the work is split across threads.
const SPLIT_FROM: usize = 4096;
/// Outcomes a probing thread hands over at once.
const OUTCOME_BATCH: usize = 256;
/// Most threads a split run uses.
const MAX_THREADS: usize = 4;

/// Where a run stands, for a progress bar: shared between the probing threads and the one
/// that draws.
#[derive(Debug)]
pub struct Watch {
    base: Instant,
    done: AtomicUsize,
    gauges: Vec<Gauge>,
}

/// One engine's part of a [`Watch`].
#[derive(Debug, Default)]
struct Gauge {
    /// Jobs not started yet.
    unstarted: AtomicU64,
    /// When its last attempt in flight gives up, in ms after `base` (0: none in flight).
    drain_ms: AtomicU64,
}

/// A [`Watch`] read at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Jobs finished.
    pub done: usize,
    /// Jobs not started yet.
    pub unstarted: u64,
    /// How long until every attempt now in flight has answered or timed out, at the latest.
    pub drain: Duration,
}

impl Watch {
    fn new(engines: usize, jobs: u64) -> Watch {
        let gauges: Vec<Gauge> = (0..engines).map(|_| Gauge::default()).collect();
        if let Some(first) = gauges.first() {
            first.unstarted.store(jobs, Ordering::Relaxed);
        }
        Watch {
            base: Instant::now(),
            done: AtomicUsize::new(0),
            gauges,
        }
    }

    /// Reads every engine's gauge.
    pub fn snapshot(&self) -> Snapshot {
        let now_ms = self.base.elapsed().as_millis() as u64;
        let mut snapshot = Snapshot {
            done: self.done.load(Ordering::Relaxed),
            unstarted: 0,
            drain: Duration::ZERO,
        };
        for gauge in &self.gauges {
            snapshot.unstarted += gauge.unstarted.load(Ordering::Relaxed);
            let drain_ms = gauge
                .drain_ms
                .load(Ordering::Relaxed)
                .saturating_sub(now_ms);
            snapshot.drain = snapshot.drain.max(Duration::from_millis(drain_ms));
        }
        snapshot
    }
}

/// Like [`run`], but a large run is split across up to one thread per core, each with its own
/// poller and an equal share of the window (and of `--rate`); positions are dealt
/// round-robin so that a filtered range spreads over every thread. Connect, reset and close
/// are kernel work that then runs on several cores at once. Outcomes stream back to this
/// thread, which calls `report` as they come (nothing is collected). With `progress`, the run
/// is watched from this thread (also when not split), which calls it now and then.
pub fn run_split(
    source: &dyn Source,
    config: &EngineConfig,
    interrupt: &Interrupt,
    mut progress: Option<&mut dyn FnMut(&Snapshot)>,
    mut report: impl FnMut(&Job, Outcome),
) -> io::Result<Finish> {
    // Small runs (a single check above all) skip the core count: it reads cgroup files.
    let threads = if source.len() < SPLIT_FROM as u64 {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_THREADS)
    };
    if threads < 2 && progress.is_none() {
        let mut engine = Engine::new(source, 0, 1, config)?;
        return engine.run(interrupt, &mut report);
    }
    let share = EngineConfig {
        concurrency: config.concurrency.div_ceil(threads),
        rate: config.rate.map(|rate| rate / threads as f64),
        ..config.clone()
    };
    let watch = Watch::new(threads, source.len());
    let (sender, outcomes) = std::sync::mpsc::sync_channel::<Vec<(Job, Outcome)>>(64);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let (share, watch, sender) = (&share, &watch, sender.clone());
                scope.spawn(move || {
                    let mut engine = Engine::new(source, index as u64, threads as u64, share)?;
                    engine.watch = Some((watch, index));
                    // Outcomes go in batches: one wake-up of the reporting thread per
                    // batch, not per port. (The receiver outlives every worker.)
                    let mut batch = Vec::with_capacity(OUTCOME_BATCH);
                    let finish = engine.run(interrupt, &mut |job, outcome| {
                        watch.done.fetch_add(1, Ordering::Relaxed);
                        batch.push((*job, outcome));
                        if batch.len() == OUTCOME_BATCH {
                            let full =
                                std::mem::replace(&mut batch, Vec::with_capacity(OUTCOME_BATCH));
                            let _ = sender.send(full);
                        }
                    });
                    let _ = sender.send(batch);
                    finish
                })
            })
            .collect();
        drop(sender);
        loop {
            match outcomes.recv_timeout(Duration::from_millis(20)) {
                Ok(batch) => {
                    for (job, outcome) in batch {
                        report(&job, outcome);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if let Some(progress) = progress.as_mut() {
                progress(&watch.snapshot());
            }
        }
        let mut finish = Finish::Completed;
        for worker in workers {
            let worker_finish = worker
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a probing thread failed")))?;
            if worker_finish == Finish::Interrupted {
                finish = Finish::Interrupted;
            }
        }
        if let Some(progress) = progress.as_mut() {
            progress(&watch.snapshot());
        }
        Ok(finish)
    })
}

struct Engine<'a> {
    source: &'a dyn Source,
    /// The next position of the source this engine takes, and its stride (the thread count).
    next_position: u64,
    stride: u64,
    config: &'a EngineConfig,
    poll: Poll,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    deadlines: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    retry_queue: VecDeque<Queued>,
    in_flight: usize,
    window: usize,
    paused_until: Option<Instant>,
    seq: u64,
    spares: Spares,
    /// Where to say how far this engine is, and its gauge's index.
    watch: Option<(&'a Watch, usize)>,
    published: Instant,
    /// `--rate`: time between two starts, and when the next may start.
    pace: Option<Duration>,
    next_start: Instant,
}

impl<'a> Engine<'a> {
    fn new(
        source: &'a dyn Source,
        first: u64,
        stride: u64,
        config: &'a EngineConfig,
    ) -> io::Result<Engine<'a>> {
        let jobs = source.len().saturating_sub(first).div_ceil(stride.max(1));
        let concurrency = config
            .concurrency
            .clamp(1, usize::try_from(jobs).unwrap_or(usize::MAX).max(1));
        Ok(Engine {
            source,
            next_position: first,
            stride: stride.max(1),
            config,
            poll: Poll::new()?,
            slots: Vec::with_capacity(concurrency),
            free: Vec::new(),
            deadlines: BinaryHeap::with_capacity(concurrency),
            retry_queue: VecDeque::new(),
            in_flight: 0,
            window: concurrency,
            paused_until: None,
            seq: 0,
            spares: Spares::default(),
            watch: None,
            published: Instant::now(),
            pace: config
                .rate
                .filter(|rate| *rate > 0.0)
                .map(|rate| Duration::from_secs_f64(1.0 / rate)),
            next_start: Instant::now(),
        })
    }

    fn run(
        &mut self,
        interrupt: &Interrupt,
        report: &mut dyn FnMut(&Job, Outcome),
    ) -> io::Result<Finish> {
        let mut events = Events::with_capacity(1024);
        loop {
            if interrupt.is_set() {
                return Ok(Finish::Interrupted);
            }
            self.launch(report);
            self.publish();
            if self.in_flight == 0 && !self.has_queued() {
                return Ok(Finish::Completed);
            }
            let wait = self.poll_wait();
            match self.poll.poll(&mut events, Some(wait)) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
            for event in &events {
                self.on_ready(event.token().0, report);
            }
            self.expire(report);
        }
    }

    /// Tells the watch, if any, how many jobs wait and when the last attempt in flight ends.
    /// Every [`PUBLISH_EVERY`] at most: it walks the slots.
    fn publish(&mut self) {
        let Some((watch, index)) = self.watch else {
            return;
        };
        let finished = self.in_flight == 0 && !self.has_queued();
        if !finished && self.published.elapsed() < PUBLISH_EVERY {
            return;
        }
        self.published = Instant::now();
        let gauge = &watch.gauges[index];
        let unstarted = (self.source.len())
            .saturating_sub(self.next_position)
            .div_ceil(self.stride)
            + self.retry_queue.len() as u64;
        gauge.unstarted.store(unstarted, Ordering::Relaxed);
        let last = self.slots.iter().flatten().map(|slot| slot.deadline).max();
        let drain_ms = last.map_or(0, |deadline| {
            deadline.saturating_duration_since(watch.base).as_millis() as u64
        });
        gauge.drain_ms.store(drain_ms, Ordering::Relaxed);
    }

    fn has_queued(&self) -> bool {
        !self.retry_queue.is_empty() || self.next_position < self.source.len()
    }

    /// Starts attempts until the window is full or nothing is waiting.
    fn launch(&mut self, report: &mut dyn FnMut(&Job, Outcome)) {
        if let Some(until) = self.paused_until {
            if Instant::now() < until {
                return;
            }
            self.paused_until = None;
        }
        for _ in 0..LAUNCH_BURST {
            if self.in_flight >= self.window {
                return;
            }
            if self.pace.is_some() && Instant::now() < self.next_start {
                return;
            }
            let queued = match self.retry_queue.pop_front() {
                Some(queued) => queued,
                None if self.next_position < self.source.len() => {
                    let position = self.next_position;
                    self.next_position += self.stride;
                    let Some(job) = self.source.job(position) else {
                        continue;
                    };
                    Queued {
                        job,
                        attempt: 0,
                        self_connects: 0,
                        short_since: None,
                    }
                }
                None => return,
            };
            if let Some(pace) = self.pace {
                // Evenly spaced starts; after a pause, no burst to catch up.
                let now = Instant::now();
                if now.saturating_duration_since(self.next_start) > pace {
                    self.next_start = now;
                }
                self.next_start = deadline_after(self.next_start, pace);
            }
            let slot = self.alloc();
            let started = Instant::now();
            let addr = queued.job.addr;
            let step = attempt::start(
                &self.config.spec,
                addr,
                self.poll.registry(),
                Token(slot),
                started,
                &mut self.spares,
            );
            if !self.settle(slot, queued, started, step, report) {
                // The host is short of sockets: stop launching for now.
                return;
            }
        }
    }

    /// Acts on an attempt's step; false when the host is short of resources.
    fn settle(
        &mut self,
        slot: usize,
        queued: Queued,
        started: Instant,
        step: Step,
        report: &mut dyn FnMut(&Job, Outcome),
    ) -> bool {
        match step {
            Step::Waiting(flight) => {
                let deadline = deadline_after(started, self.config.timeout);
                self.occupy(slot, queued, started, deadline, flight);
            }
            Step::Rearmed(flight) => {
                let deadline = deadline_after(Instant::now(), self.config.banner_wait);
                self.occupy(slot, queued, started, deadline, flight);
            }
            Step::Done(outcome) => {
                self.free.push(slot);
                self.finish(queued, outcome, report);
            }
            Step::SelfConnect => {
                SELF_CONNECTS.fetch_add(1, Ordering::Relaxed);
                self.free.push(slot);
                if queued.self_connects + 1 >= SELF_CONNECT_TRIES {
                    let outcome = Outcome::new(
                        PortState::Closed,
                        Reason::SelfConnect,
                        Some(started.elapsed()),
                    );
                    self.finish(queued, outcome, report);
                } else {
                    self.retry_queue.push_back(Queued {
                        self_connects: queued.self_connects + 1,
                        ..queued
                    });
                }
            }
            Step::Shortage(reason) => {
                self.free.push(slot);
                self.window = self.in_flight.max(1);
                if self.in_flight > 0 {
                    // Our own attempts hold what is short; each frees it by its deadline.
                    self.retry_queue.push_front(Queued {
                        short_since: None,
                        ..queued
                    });
                    return false;
                }
                // Nothing of ours will free anything: the shortage gets the attempt's timeout.
                let now = Instant::now();
                let since = queued.short_since.unwrap_or(now);
                let deadline = deadline_after(since, self.config.timeout);
                if now >= deadline {
                    let outcome = Outcome::new(PortState::Filtered, reason, None);
                    self.finish(queued, outcome, report);
                    return true;
                }
                self.retry_queue.push_front(Queued {
                    short_since: Some(since),
                    ..queued
                });
                self.paused_until = Some((now + SHORTAGE_PAUSE).min(deadline));
                return false;
            }
        }
        true
    }

    fn occupy(
        &mut self,
        slot: usize,
        queued: Queued,
        started: Instant,
        deadline: Instant,
        flight: Flight,
    ) {
        self.seq += 1;
        self.slots[slot] = Some(Slot {
            queued,
            started,
            deadline,
            seq: self.seq,
            flight,
        });
        self.in_flight += 1;
        self.deadlines.push(Reverse((deadline, self.seq, slot)));
    }

    /// A slot index for a new attempt.
    fn alloc(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        })
    }

    fn finish(&mut self, queued: Queued, outcome: Outcome, report: &mut dyn FnMut(&Job, Outcome)) {
        if self.window < self.config.concurrency {
            self.window += 1;
        }
        report(&queued.job, outcome);
    }

    fn on_ready(&mut self, slot: usize, report: &mut dyn FnMut(&Job, Outcome)) {
        let Some(entry) = self.slots.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.in_flight -= 1;
        let step = attempt::advance(
            entry.flight,
            &self.config.spec,
            self.poll.registry(),
            Token(slot),
            entry.started,
        );
        match step {
            // Same phase, same deadline: put it back as it was.
            Step::Waiting(flight) => {
                self.slots[slot] = Some(Slot {
                    flight,
                    queued: entry.queued,
                    started: entry.started,
                    deadline: entry.deadline,
                    seq: entry.seq,
                });
                self.in_flight += 1;
            }
            step => {
                self.settle(slot, entry.queued, entry.started, step, report);
            }
        }
    }

    /// Ends the attempts whose deadline passed.
    fn expire(&mut self, report: &mut dyn FnMut(&Job, Outcome)) {
        let now = Instant::now();
        while let Some(&Reverse((deadline, seq, slot))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            let current = self.slots[slot].as_ref().is_some_and(|s| s.seq == seq);
            if !current {
                continue;
            }
            let Some(entry) = self.slots[slot].take() else {
                continue;
            };
            self.in_flight -= 1;
            self.free.push(slot);
            if let Some(outcome) =
                attempt::banner_deadline(&entry.flight, entry.started, self.config.spec.banner)
            {
                self.finish(entry.queued, outcome, report);
            } else if entry.queued.attempt < self.config.retries {
                self.retry_queue.push_back(Queued {
                    attempt: entry.queued.attempt + 1,
                    ..entry.queued
                });
            } else {
                let udp = self.config.spec.proto == Proto::Udp;
                self.finish(entry.queued, Outcome::timed_out(udp), report);
            }
        }
    }

    /// How long the poller may sleep: not at all while more can be launched, else until the
    /// next deadline or the end of a pause.
    fn poll_wait(&self) -> Duration {
        let now = Instant::now();
        let can_launch =
            self.in_flight < self.window && self.has_queued() && self.paused_until.is_none();
        if can_launch && self.pace.is_none_or(|_| self.next_start <= now) {
            return Duration::ZERO;
        }
        let mut until = now + MAX_POLL_WAIT;
        if can_launch {
            until = until.min(self.next_start);
        }
        if let Some(Reverse((deadline, _, _))) = self.deadlines.peek() {
            until = until.min(*deadline);
        }
        if let Some(paused) = self.paused_until {
            until = until.min(paused);
        }
        until.saturating_duration_since(now)
    }
}
