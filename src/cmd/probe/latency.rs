//! Latency mode: N connects per target `--interval` apart, a line per attempt and a summary
//! (also after Ctrl-C, which ends `--count 0`).

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use super::config::ProbeConfig;
use super::engine::{self, Finish};
use super::engine_config;
use super::outcome::Outcome;
use super::plan::{Plan, Record};
use super::report::{PortReport, ReportProto};
use super::stats::{LatencySummary, Samples};
use crate::cmd::Context;
use crate::error::Status;
use crate::net::duration::deadline_after;
use crate::net::socket::Proto;
use crate::os::interrupt::Interrupt;
use crate::output::lines::{self, Block};

/// The JSON summary object of one target.
#[derive(Debug, Serialize)]
struct SummaryLine<'a> {
    host: &'a str,
    addr: Option<String>,
    port: Option<u16>,
    proto: ReportProto,
    #[serde(flatten)]
    summary: LatencySummary,
    /// `HOST:PORT` for people (not serialised).
    #[serde(skip)]
    endpoint: String,
}

/// Runs latency mode; `count` `None` means until Ctrl-C.
pub fn run(
    config: &ProbeConfig,
    context: &Context,
    interrupt: &Interrupt,
    count: Option<u64>,
    interval: Duration,
) -> anyhow::Result<Status> {
    let Plan {
        mut records, jobs, ..
    } = Plan::build(&config.targets, context.family)?;
    let mut engine = engine_config(config, jobs.len(), config.timeout);
    engine
        .spec
        .learn_hosts(records.iter().map(|record| &*record.host));
    let mut samples = vec![Samples::default(); records.len()];
    let mut last_addr: Vec<Option<SocketAddr>> = vec![None; records.len()];
    let mut socket_samples = vec![Samples::default(); config.unix.len()];
    let socket_width = config
        .unix
        .iter()
        .map(|addr| addr.to_string().chars().count());
    let widths = [
        records
            .iter()
            .map(endpoint_width)
            .chain(socket_width)
            .max()
            .unwrap_or(0),
        if config.spec.proto == Proto::Udp {
            13
        } else {
            8
        },
        12,
    ];
    let mut stdout = std::io::stdout().lock();
    let start = Instant::now();
    let mut seq = 0u64;
    let mut interrupted = false;
    while count.is_none_or(|count| seq < count) {
        seq += 1;
        for record in &mut records {
            record.result = None;
        }
        let sockets = super::unix::probe_all(&config.unix, &config.spec, config.timeout);
        let finish = if jobs.is_empty() {
            Finish::Completed
        } else {
            engine::run(&jobs, &engine, interrupt, |job, outcome| {
                records[job.id].merge(job.addr, outcome);
            })
            .context("cannot start probing")?
        };
        if finish == Finish::Interrupted || interrupt.is_set() {
            interrupted = true;
            break;
        }
        for ((addr, outcome), samples) in config.unix.iter().zip(&sockets).zip(&mut socket_samples)
        {
            samples.add(if outcome.passes() {
                time_to_answer(outcome).map(super::report::millis)
            } else {
                None
            });
            let report = super::unix::report(addr, outcome, &config.spec);
            write_report(&mut stdout, report, outcome, seq, config, context, widths)?;
        }
        for (index, record) in records.iter().enumerate() {
            let Some((addr, outcome)) = &record.result else {
                continue;
            };
            last_addr[index] = Some(*addr);
            samples[index].add(if outcome.passes() {
                time_to_answer(outcome).map(super::report::millis)
            } else {
                None
            });
            write_attempt(
                &mut stdout,
                record,
                *addr,
                outcome,
                seq,
                config,
                context,
                widths,
            )?;
        }
        stdout.flush()?;
        if count.is_some_and(|count| seq >= count) {
            break;
        }
        let next = deadline_after(
            start,
            interval.saturating_mul(u32::try_from(seq).unwrap_or(u32::MAX)),
        );
        if interrupt.sleep(next.saturating_duration_since(Instant::now())) {
            interrupted = true;
            break;
        }
    }
    for (addr, samples) in config.unix.iter().zip(&socket_samples) {
        let shown = addr.to_string();
        let line = SummaryLine {
            host: &shown,
            addr: Some(shown.strip_prefix("unix:").unwrap_or(&shown).to_string()),
            port: None,
            proto: ReportProto::unix(config.spec.proto),
            summary: samples.summary(),
            endpoint: crate::output::escape::escape_text(&shown),
        };
        lines::write_block(&mut stdout, &line, config.json)?;
    }
    for (index, record) in records.iter().enumerate() {
        write_summary(
            &mut stdout,
            record,
            last_addr[index],
            &samples[index],
            config,
        )?;
    }
    stdout.flush()?;
    samples.extend(socket_samples);
    let sent: u64 = samples.iter().map(Samples::sent).sum();
    if samples.iter().any(Samples::any_failed) {
        Ok(Status::Negative)
    } else if interrupted && sent == 0 {
        Ok(Status::Interrupted)
    } else {
        Ok(Status::Success)
    }
}

/// What latency mode times: the connect, with `--tls` the handshake, or with a check the
/// time to its verdict.
fn time_to_answer(outcome: &Outcome) -> Option<Duration> {
    match (&outcome.check, &outcome.tls) {
        (Some(check), _) => Some(check.elapsed),
        (None, Some(tls)) => Some(tls.elapsed),
        (None, None) => outcome.rtt,
    }
}

/// The widest `HOST:PORT (ADDR)` a record can print.
fn endpoint_width(record: &Record) -> usize {
    let addr = record
        .host
        .ips
        .iter()
        .map(|ip| ip.to_string().len() + 3)
        .max();
    record.endpoint().chars().count()
        + if record.host.is_name {
            addr.unwrap_or(0)
        } else {
            0
        }
}

#[allow(clippy::too_many_arguments)]
fn write_attempt(
    out: &mut dyn Write,
    record: &Record,
    addr: SocketAddr,
    outcome: &Outcome,
    seq: u64,
    config: &ProbeConfig,
    context: &Context,
    widths: [usize; 3],
) -> std::io::Result<()> {
    let report = PortReport::new(record, addr, outcome, config.spec.proto, config.spec.banner)
        .with_check(config.spec.check.as_deref(), outcome)
        .with_tls(config.spec.tls.is_some(), outcome);
    write_report(out, report, outcome, seq, config, context, widths)
}

/// An attempt's line: the report with its number and the time latency mode measures.
fn write_report(
    out: &mut dyn Write,
    mut report: PortReport,
    outcome: &Outcome,
    seq: u64,
    config: &ProbeConfig,
    context: &Context,
    widths: [usize; 3],
) -> std::io::Result<()> {
    report.seq = Some(seq);
    report.rtt_ms = time_to_answer(outcome).map(super::report::millis);
    lines::write_one(out, &report, &widths, config.json, context.colors)
}

fn write_summary(
    out: &mut dyn Write,
    record: &Record,
    addr: Option<SocketAddr>,
    samples: &Samples,
    config: &ProbeConfig,
) -> std::io::Result<()> {
    let line = SummaryLine {
        host: &record.host.name,
        addr: addr.map(|addr| addr.ip().to_string()),
        port: Some(record.port),
        proto: config.spec.proto.into(),
        summary: samples.summary(),
        endpoint: record.endpoint(),
    };
    lines::write_block(out, &line, config.json)
}

/// The ping-style block: `--- HOST:PORT ---`, counts and loss, then the times.
impl Block for SummaryLine<'_> {
    fn lines(&self) -> Vec<String> {
        let summary = &self.summary;
        let ms = |value: Option<f64>| value.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
        vec![
            format!("--- {} ---", self.endpoint),
            format!(
                "{} sent, {} ok, {}% loss",
                summary.sent, summary.ok, summary.loss_pct
            ),
            format!(
                "rtt min/avg/max/stddev = {}/{}/{}/{} ms",
                ms(summary.min_ms),
                ms(summary.avg_ms),
                ms(summary.max_ms),
                ms(summary.stddev_ms)
            ),
            format!(
                "rtt p50/p95/p99 = {}/{}/{} ms",
                ms(summary.p50_ms),
                ms(summary.p95_ms),
                ms(summary.p99_ms)
            ),
        ]
    }
}
