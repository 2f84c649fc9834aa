//! Scan mode: probe every port once, list the ones the filter shows, summarise on stderr.
//! The plan is an index space ([`Space`]) and outcomes are folded in as they come: what is
//! kept is the tally and the reports to print, never a record per planned probe.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context as _;

use super::config::ProbeConfig;
use super::engine::{self, Finish, Job, Snapshot};
use super::engine_config;
use super::outcome::Outcome;
use super::plan::Record;
use super::progress::Progress;
use super::report::{PortReport, Tally, plural, print_prometheus, print_reports};
use super::space::{Excludes, Space};
use crate::cmd::Context;
use crate::error::Status;
use crate::net::endpoint::UnixAddr;
use crate::net::format_duration;
use crate::os::interrupt::Interrupt;
use crate::output::notes;

/// Runs a scan.
pub fn run(
    config: &ProbeConfig,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    let started = Instant::now();
    let controls = &config.controls;
    let excludes = Excludes::resolve(&controls.exclude)?;
    let space = Space::build(
        &config.targets,
        context.family,
        excludes,
        &controls.exclude_ports,
        controls.random,
    )?;
    let probes = usize::try_from(space.probes()).unwrap_or(usize::MAX);
    let ip_pairs = usize::try_from(space.pairs()).unwrap_or(usize::MAX);
    let pairs = ip_pairs.saturating_add(config.unix.len());
    let hosts = usize::try_from(space.hosts()).unwrap_or(usize::MAX);
    if probes == 0 && config.unix.is_empty() {
        return Err(
            crate::error::Error::usage("nothing to probe: every target is excluded").into(),
        );
    }
    let mut engine = engine_config(config, probes, config.timeout);
    engine.spec.learn_hosts(space.listed_hosts());
    if context.verbose() && probes > 0 {
        notes::verbose(format_args!(
            "probing {ip_pairs} {} {} on {hosts} {}: {probes} {}, window {}, timeout {}, retries {}{}{}",
            config.spec.proto,
            plural(ip_pairs, "port", "ports"),
            plural(hosts, "host", "hosts"),
            plural(probes, "probe", "probes"),
            engine.concurrency,
            format_duration(engine.timeout),
            engine.retries,
            if controls.random {
                ", random order"
            } else {
                ""
            },
            controls
                .rate
                .map(|rate| format!(", at most {rate} probes/s"))
                .unwrap_or_default(),
        ));
    }
    let mut found = Found::new(config, pairs);
    // The Unix sockets first: a handful, each done within the timeout.
    let sockets = super::unix::probe_all(&config.unix, &config.spec, config.timeout);
    for (index, (addr, outcome)) in config.unix.iter().zip(sockets).enumerate() {
        found.add_unix(index, addr, &outcome);
    }
    let mut progress = Progress::new(probes, context);
    let progress_wanted = progress.is_active();
    let mut draw = |snapshot: &Snapshot| progress.set(snapshot);
    let watched: Option<&mut dyn FnMut(&Snapshot)> = if progress_wanted {
        Some(&mut draw)
    } else {
        None
    };
    let finish = if probes == 0 {
        Finish::Completed
    } else {
        engine::run_split(&space, &engine, interrupt, watched, |job, outcome| {
            found.add(&space, job, outcome)
        })
        .context("cannot start probing")?
    };
    progress.clear();

    // Interrupted or not, what was found is printed: Ctrl-C throws nothing away.
    let Found {
        tally,
        passing,
        mut shown,
        ..
    } = found;
    shown.sort_by_key(|(place, _)| *place);
    let reports: Vec<PortReport> = shown.into_iter().map(|(_, report)| report).collect();
    if config.prometheus {
        print_prometheus(&reports, started.elapsed())?;
    } else {
        print_reports(&reports, config.json, context.colors)?;
    }
    if context.verbose() {
        super::tls::print_verbose(&reports, config.spec.tls.as_deref());
    }
    if finish == Finish::Interrupted {
        if context.chatty() {
            notes::ready(format_args!(
                "{}; interrupted, {} not probed",
                tally.summary(hosts, started.elapsed()),
                pairs.saturating_sub(tally.total())
            ));
        }
        return Ok(Status::Interrupted);
    }
    if context.verbose() && engine::self_connects() > 0 {
        notes::verbose(format_args!(
            "{} self-connect(s) on loopback re-probed (a socket given the target port as its own)",
            engine::self_connects()
        ));
    }
    if context.chatty() {
        notes::ready(format_args!("{}", tally.summary(hosts, started.elapsed())));
    }
    Ok(Status::from_answer(if config.any {
        passing > 0
    } else {
        passing == pairs
    }))
}

/// What a scan found so far: the tally, the reports the filter shows (with their place in
/// the plan, to print them in order), and the records of names with several addresses that
/// still wait for some of them.
struct Found<'a> {
    config: &'a ProbeConfig,
    pairs: usize,
    tally: Tally,
    /// Open ports whose check (if any) holds: what success counts.
    passing: usize,
    /// Unix sockets first, in their order, then the ports by record.
    shown: Vec<((bool, usize), PortReport)>,
    partial: HashMap<usize, (Record, usize)>,
}

impl<'a> Found<'a> {
    fn new(config: &'a ProbeConfig, pairs: usize) -> Found<'a> {
        Found {
            config,
            pairs,
            tally: Tally::default(),
            passing: 0,
            shown: Vec::new(),
            partial: HashMap::new(),
        }
    }

    fn add_unix(&mut self, index: usize, addr: &UnixAddr, outcome: &Outcome) {
        self.tally.add_unix(outcome.state);
        self.passing += usize::from(outcome.passes());
        if self.config.filter.shows(outcome.state, self.pairs) {
            let report = super::unix::report(addr, outcome, &self.config.spec);
            self.shown.push(((false, index), report));
        }
    }

    fn add(&mut self, space: &Space, job: &Job, outcome: Outcome) {
        if space.is_single_address(job) {
            // The common case (a block, a literal): nothing to merge, and a host entry is
            // made only for a port that is listed.
            self.tally.add(outcome.state);
            self.passing += usize::from(outcome.passes());
            if self.config.filter.shows(outcome.state, self.pairs) {
                let record = Record {
                    host: space.host_of(job).0,
                    port: job.addr.port(),
                    result: None,
                };
                let report = PortReport::new(
                    &record,
                    job.addr,
                    &outcome,
                    self.config.spec.proto,
                    self.config.spec.banner,
                )
                .with_check(self.config.spec.check.as_deref(), &outcome)
                .with_tls(self.config.spec.tls.is_some(), &outcome);
                self.shown.push(((true, job.id), report));
            }
            return;
        }
        let (host, addresses) = space.host_of(job);
        let mut record = Record {
            host,
            port: job.addr.port(),
            result: None,
        };
        if addresses > 1 {
            // A name is open when any of its addresses is: wait for all of them.
            let (merged, left) = self
                .partial
                .entry(job.id)
                .or_insert_with(|| (record.clone(), addresses));
            merged.merge(job.addr, outcome);
            *left -= 1;
            if *left > 0 {
                return;
            }
            let Some((done, _)) = self.partial.remove(&job.id) else {
                return;
            };
            record = done;
        } else {
            record.result = Some((job.addr, outcome));
        }
        let Some((addr, outcome)) = &record.result else {
            return;
        };
        self.tally.add(outcome.state);
        self.passing += usize::from(outcome.passes());
        if self.config.filter.shows(outcome.state, self.pairs) {
            let report = PortReport::new(
                &record,
                *addr,
                outcome,
                self.config.spec.proto,
                self.config.spec.banner,
            )
            .with_check(self.config.spec.check.as_deref(), outcome)
            .with_tls(self.config.spec.tls.is_some(), outcome);
            self.shown.push(((true, job.id), report));
        }
    }
}
