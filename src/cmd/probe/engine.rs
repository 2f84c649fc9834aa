//! The probing engine: a sliding window of non-blocking attempts over one poller (epoll on
//! Linux, through mio). As soon as one attempt ends, the next one starts, so the window stays
//! full; an attempt that finds this host short of sockets is retried later with a smaller
//! window, never reported as a port state.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};

use super::attempt::{self, AttemptSpec, Flight, Spares, Step};
use super::interrupt::Interrupt;
use super::outcome::{Outcome, PortState, Reason};
use crate::net::duration::deadline_after;
use crate::net::socket::Proto;

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
/// A job that keeps meeting a resource shortage gives up after this many tries.
const SHORTAGE_TRIES: u16 = 500;
/// Pause after a shortage with nothing in flight (nothing will free a socket by itself).
const SHORTAGE_PAUSE: Duration = Duration::from_millis(10);
/// Most attempts started between two looks at the poller, so that answers are read (and
/// timed) promptly while a long run of instantly refused ports is being launched.
const LAUNCH_BURST: usize = 64;
/// Longest single wait in the poller, so that Ctrl-C is noticed promptly.
const MAX_POLL_WAIT: Duration = Duration::from_millis(100);

/// A job waiting to (re)start.
#[derive(Debug, Clone, Copy)]
struct Queued {
    job: usize,
    attempt: u32,
    self_connects: u8,
    shortages: u16,
}

/// A job with an attempt in flight.
#[derive(Debug)]
struct Slot {
    queued: Queued,
    started: Instant,
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
    let mut engine = Engine::new(jobs, config)?;
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
/// Most threads a split run uses.
const MAX_THREADS: usize = 4;

/// Like [`run`], but a large run is split across up to one thread per core, each with its own
/// poller and an equal share of the window; jobs are dealt round-robin so that a filtered
/// range spreads over every thread. Connect, reset and close are kernel work that then runs
/// on several cores at once. `progress` gets the number of finished jobs now and then;
/// `report` gets every outcome (at the end when split).
pub fn run_split(
    jobs: &[Job],
    config: &EngineConfig,
    interrupt: &Interrupt,
    mut progress: impl FnMut(usize),
    mut report: impl FnMut(&Job, Outcome),
) -> io::Result<Finish> {
    // Small runs (a single check above all) skip the core count: it reads cgroup files.
    let threads = if jobs.len() < SPLIT_FROM {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_THREADS)
    };
    if threads < 2 {
        let mut done = 0;
        return run(jobs, config, interrupt, |job, outcome| {
            done += 1;
            progress(done);
            report(job, outcome);
        });
    }
    let share = EngineConfig {
        concurrency: config.concurrency.div_ceil(threads),
        ..config.clone()
    };
    let done = AtomicUsize::new(0);
    let results = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let (share, done) = (&share, &done);
                let dealt: Vec<Job> = jobs.iter().skip(index).step_by(threads).copied().collect();
                scope.spawn(move || {
                    let mut found = Vec::with_capacity(dealt.len());
                    let finish = run(&dealt, share, interrupt, |job, outcome| {
                        done.fetch_add(1, Ordering::Relaxed);
                        found.push((*job, outcome));
                    });
                    finish.map(|finish| (finish, found))
                })
            })
            .collect();
        while !workers.iter().all(|worker| worker.is_finished()) {
            progress(done.load(Ordering::Relaxed));
            std::thread::sleep(Duration::from_millis(20));
        }
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("a probing thread failed")))
            })
            .collect::<io::Result<Vec<_>>>()
    })?;
    progress(done.load(Ordering::Relaxed));
    let mut finish = Finish::Completed;
    for (worker_finish, found) in results {
        if worker_finish == Finish::Interrupted {
            finish = Finish::Interrupted;
        }
        for (job, outcome) in found {
            report(&job, outcome);
        }
    }
    Ok(finish)
}

struct Engine<'a> {
    jobs: &'a [Job],
    config: &'a EngineConfig,
    poll: Poll,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    deadlines: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    retry_queue: VecDeque<Queued>,
    next_job: usize,
    in_flight: usize,
    window: usize,
    paused_until: Option<Instant>,
    seq: u64,
    spares: Spares,
}

impl<'a> Engine<'a> {
    fn new(jobs: &'a [Job], config: &'a EngineConfig) -> io::Result<Engine<'a>> {
        let concurrency = config.concurrency.clamp(1, jobs.len().max(1));
        Ok(Engine {
            jobs,
            config,
            poll: Poll::new()?,
            slots: Vec::with_capacity(concurrency),
            free: Vec::new(),
            deadlines: BinaryHeap::with_capacity(concurrency),
            retry_queue: VecDeque::new(),
            next_job: 0,
            in_flight: 0,
            window: concurrency,
            paused_until: None,
            seq: 0,
            spares: Spares::default(),
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

    fn has_queued(&self) -> bool {
        !self.retry_queue.is_empty() || self.next_job < self.jobs.len()
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
            let queued = match self.retry_queue.pop_front() {
                Some(queued) => queued,
                None if self.next_job < self.jobs.len() => {
                    self.next_job += 1;
                    Queued {
                        job: self.next_job - 1,
                        attempt: 0,
                        self_connects: 0,
                        shortages: 0,
                    }
                }
                None => return,
            };
            let slot = self.alloc();
            let started = Instant::now();
            let addr = self.jobs[queued.job].addr;
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
            Step::Shortage => {
                self.free.push(slot);
                if queued.shortages >= SHORTAGE_TRIES {
                    let outcome = Outcome::new(PortState::Filtered, Reason::Error, None);
                    self.finish(queued, outcome, report);
                    return true;
                }
                self.retry_queue.push_front(Queued {
                    shortages: queued.shortages + 1,
                    ..queued
                });
                self.window = self.in_flight.max(1);
                if self.in_flight == 0 {
                    self.paused_until = Some(Instant::now() + SHORTAGE_PAUSE);
                }
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
        report(&self.jobs[queued.job], outcome);
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
        if self.in_flight < self.window && self.has_queued() && self.paused_until.is_none() {
            return Duration::ZERO;
        }
        let now = Instant::now();
        let mut until = now + MAX_POLL_WAIT;
        if let Some(Reverse((deadline, _, _))) = self.deadlines.peek() {
            until = until.min(*deadline);
        }
        if let Some(paused) = self.paused_until {
            until = until.min(paused);
        }
        until.saturating_duration_since(now)
    }
}
