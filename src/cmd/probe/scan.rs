//! Scan mode: probe every port once, list the ones the filter shows, summarise on stderr.

use std::time::Instant;

use anyhow::Context as _;

use super::config::ProbeConfig;
use super::engine::{self, Finish};
use super::interrupt::Interrupt;
use super::outcome::PortState;
use super::plan::Plan;
use super::progress::Progress;
use super::report::{PortReport, Tally, plural, print_reports};
use super::{engine_config, note};
use crate::cmd::Context;
use crate::error::Status;
use crate::net::format_duration;

/// Runs a scan.
pub fn run(
    config: &ProbeConfig,
    context: &Context,
    interrupt: &Interrupt,
) -> anyhow::Result<Status> {
    let started = Instant::now();
    let Plan {
        mut records,
        jobs,
        hosts,
    } = Plan::build(&config.targets, context.family)?;
    let mut engine = engine_config(config, jobs.len(), config.timeout);
    engine
        .spec
        .learn_hosts(records.iter().map(|record| &*record.host));
    if context.verbose() {
        let mut named: Vec<&str> = Vec::new();
        for record in records.iter().filter(|r| r.host.is_name) {
            if !named.contains(&record.host.name.as_str()) {
                named.push(&record.host.name);
                let ips: Vec<String> = record.host.ips.iter().map(ToString::to_string).collect();
                note(&format!(
                    "{} resolves to {}",
                    record.host.name,
                    ips.join(", ")
                ));
            }
        }
        note(&format!(
            "probing {} {} {} on {hosts} {}: {} {}, window {}, timeout {}, retries {}",
            records.len(),
            config.spec.proto,
            plural(records.len(), "port", "ports"),
            plural(hosts, "host", "hosts"),
            jobs.len(),
            plural(jobs.len(), "probe", "probes"),
            engine.concurrency,
            format_duration(engine.timeout),
            engine.retries
        ));
    }
    let mut progress = Progress::new(jobs.len(), context);
    let finish = engine::run_split(
        &jobs,
        &engine,
        interrupt,
        |done| progress.set(done),
        |job, outcome| records[job.id].merge(job.addr, outcome),
    )
    .context("cannot start probing")?;
    progress.clear();
    if finish == Finish::Interrupted {
        if context.verbose() {
            // The contract: a -v session prints its summary before it stops.
            let mut tally = Tally::default();
            for (_, outcome) in records.iter().filter_map(|r| r.result.as_ref()) {
                tally.add(outcome.state);
            }
            note(&format!(
                "{}; interrupted, {} not probed",
                tally.summary(hosts, started.elapsed()),
                records.len() - tally.total()
            ));
        }
        return Ok(Status::Interrupted);
    }

    let probed = records.len();
    let passing = records
        .iter()
        .filter(|record| {
            record
                .result
                .as_ref()
                .is_some_and(|(_, outcome)| outcome.passes())
        })
        .count();
    let mut tally = Tally::default();
    let mut reports = Vec::new();
    for record in &records {
        let Some((addr, outcome)) = &record.result else {
            continue;
        };
        tally.add(outcome.state);
        if config.filter.shows(outcome.state, probed) {
            reports.push(
                PortReport::new(
                    record,
                    *addr,
                    outcome,
                    config.spec.proto,
                    config.spec.banner,
                )
                .with_check(config.spec.check.as_deref(), outcome),
            );
        }
    }
    print_reports(&reports, config.json, context.colors)?;
    if context.verbose() && engine::self_connects() > 0 {
        note(&format!(
            "{} self-connect(s) on loopback re-probed (a socket given the target port as its own)",
            engine::self_connects()
        ));
    }
    if context.chatty() {
        let mut summary = tally.summary(hosts, started.elapsed());
        let failing = tally.count(PortState::Open).saturating_sub(passing);
        if failing > 0 {
            summary.push_str(&format!(" ({failing} failing the check)"));
        }
        note(&summary);
    }
    Ok(Status::from_answer(if config.any {
        passing > 0
    } else {
        passing == probed
    }))
}
