//! Wait mode: re-probe every target that is not open yet, `--interval` apart, until all are
//! open (then run the command, if any) or the deadline passes. Names that do not resolve yet
//! are retried like closed ports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::config::ProbeConfig;
use super::engine::{self, Finish};
use super::engine_config;
use super::outcome::{Outcome, PortState, Reason};
use super::plan::{HostEntry, Plan, Record, check_size, resolve_hosts};
use super::report::{PortReport, print_prometheus, print_reports};
use crate::cmd::Context;
use crate::cmd::program::ensure_runnable;
use crate::error::{Error, Status};
use crate::net::duration::deadline_after;
use crate::net::endpoint::UnixAddr;
use crate::net::{HostSpec, format_duration};
use crate::os::interrupt::Interrupt;
use crate::output::escape::quote_arg;
use crate::output::notes::verbose;

/// A resolved host and its last outcome.
type HostResult = (Arc<HostEntry>, Option<(SocketAddr, Outcome)>);

/// A target and port still to become open.
struct Awaited {
    /// `HOST:PORT` as the user wrote it, for the deadline message.
    label: String,
    hosts: HostSpec,
    port: u16,
    /// Once resolved: each host with its last outcome.
    resolved: Option<Vec<HostResult>>,
    /// Why the last resolution failed.
    last_error: Option<String>,
}

impl Awaited {
    fn is_open(&self) -> bool {
        self.resolved
            .as_ref()
            .is_some_and(|hosts| hosts.iter().all(|(_, result)| is_open(result.as_ref())))
    }
}

/// A Unix socket still to become open, with its last outcome.
struct AwaitedSocket {
    addr: UnixAddr,
    result: Option<Outcome>,
}

impl AwaitedSocket {
    fn is_open(&self) -> bool {
        self.result.as_ref().is_some_and(Outcome::passes)
    }

    /// `unix:/run/app.sock open`, `unix:/run/app.sock closed (no-such-file)`.
    fn summary(&self) -> String {
        match &self.result {
            Some(outcome) if outcome.state == PortState::Open => format!("{} open", self.addr),
            Some(outcome) => format!(
                "{} {} ({})",
                self.addr,
                outcome.state.as_str(),
                outcome.reason.as_str()
            ),
            None => format!("{} not probed", self.addr),
        }
    }
}

/// Probes every Unix socket that is not open yet, once.
fn probe_sockets(sockets: &mut [AwaitedSocket], config: &ProbeConfig, timeout: Duration) {
    let waiting: Vec<&mut AwaitedSocket> = sockets.iter_mut().filter(|s| !s.is_open()).collect();
    let addrs: Vec<UnixAddr> = waiting.iter().map(|socket| socket.addr.clone()).collect();
    let outcomes = super::unix::probe_all(&addrs, &config.spec, timeout);
    for (socket, outcome) in waiting.into_iter().zip(outcomes) {
        socket.result = Some(outcome);
    }
}

/// Open, and its check (if any) holds.
fn is_open(result: Option<&(SocketAddr, Outcome)>) -> bool {
    result.is_some_and(|(_, outcome)| outcome.passes())
}

/// Runs wait mode.
pub fn run(
    config: &ProbeConfig,
    context: &Context,
    interrupt: &Interrupt,
    limit: Duration,
    interval: Duration,
    command: &[String],
) -> anyhow::Result<Status> {
    if let Some(program) = command.first() {
        // Said before waiting: a typo must not cost the whole wait (exit 127, as a shell).
        ensure_runnable(program, "-- sh -c '…'").map_err(|err| Error {
            status: Status::Child(127),
            ..err
        })?;
    }
    // Wait mode keeps every target's state: its plan is bounded up front (exit 2 above).
    check_size(&config.targets)?;
    let started = Instant::now();
    let deadline = deadline_after(started, limit);
    let mut awaited: Vec<Awaited> = config
        .targets
        .iter()
        .flat_map(|target| {
            target.ports.iter().map(|&port| Awaited {
                label: format!("{}:{port}", target.hosts),
                hosts: target.hosts.clone(),
                port,
                resolved: None,
                last_error: None,
            })
        })
        .collect();
    let mut sockets: Vec<AwaitedSocket> = config
        .unix
        .iter()
        .map(|addr| AwaitedSocket {
            addr: addr.clone(),
            result: None,
        })
        .collect();
    let mut round = 0u64;
    loop {
        round += 1;
        resolve_pending(&mut awaited, context)?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let timeout = config.timeout.min(remaining).max(Duration::from_millis(1));
        probe_sockets(&mut sockets, config, timeout);
        if probe_round(&mut awaited, config, interrupt, timeout)? == Finish::Interrupted
            || interrupt.is_set()
        {
            return Ok(interrupted(&awaited, &sockets, context, started));
        }
        verbose(format_args!(
            "round {round} after {}: {}",
            format_duration(started.elapsed()),
            round_summary(&awaited, &sockets)
        ));
        if awaited.iter().all(Awaited::is_open) && sockets.iter().all(AwaitedSocket::is_open) {
            break;
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out(&awaited, &sockets, limit).into());
        }
        if interrupt.sleep(interval.min(remaining)) {
            return Ok(interrupted(&awaited, &sockets, context, started));
        }
    }
    if context.verbose() {
        verbose(format_args!(
            "all open after {}",
            format_duration(started.elapsed())
        ));
    }
    if command.is_empty() {
        print_open(&awaited, &sockets, config, context, started)?;
        return Ok(Status::Success);
    }
    run_command(command)
}

/// Resolves the targets that are not resolved yet; a name that fails stays pending.
fn resolve_pending(awaited: &mut [Awaited], context: &Context) -> Result<(), Error> {
    for item in awaited.iter_mut().filter(|item| item.resolved.is_none()) {
        match resolve_hosts(&item.hosts, context.family) {
            Ok(hosts) => {
                item.resolved = Some(hosts.into_iter().map(|h| (Arc::new(h), None)).collect());
                item.last_error = None;
            }
            // A family mismatch or an empty block will not get better by waiting.
            Err(err) if err.status == Status::Usage => return Err(err),
            Err(err) => {
                if context.verbose() && item.last_error.is_none() {
                    verbose(format_args!("{}: {}, retrying", item.label, err.message));
                }
                item.last_error = Some(err.message);
            }
        }
    }
    Ok(())
}

/// Probes every resolved host and port that is not open yet, once.
fn probe_round(
    awaited: &mut [Awaited],
    config: &ProbeConfig,
    interrupt: &Interrupt,
    timeout: Duration,
) -> anyhow::Result<Finish> {
    let mut plan = Plan::default();
    let mut owners = Vec::new();
    for (item_index, item) in awaited.iter().enumerate() {
        for (host_index, (host, result)) in item.resolved.iter().flatten().enumerate() {
            if !is_open(result.as_ref()) {
                plan.add(host.clone(), &[item.port]);
                owners.push((item_index, host_index));
            }
        }
    }
    if plan.jobs.is_empty() {
        return Ok(Finish::Completed);
    }
    let mut engine = engine_config(config, plan.jobs.len(), timeout);
    engine
        .spec
        .learn_hosts(plan.records.iter().map(|record| &*record.host));
    let records = &mut plan.records;
    let finish = engine::run(&plan.jobs, &engine, interrupt, |job, outcome| {
        records[job.id].merge(job.addr, outcome);
    })
    .context("cannot start probing")?;
    for (record, &(item_index, host_index)) in plan.records.into_iter().zip(&owners) {
        let Record { result, .. } = record;
        let item = &mut awaited[item_index];
        let Some(hosts) = item.resolved.as_mut() else {
            continue;
        };
        hosts[host_index].1 = result;
    }
    Ok(finish)
}

/// What a round found, target by target: `127.0.0.1:80 open, db:5432 closed (conn-refused)`.
fn round_summary(awaited: &[Awaited], sockets: &[AwaitedSocket]) -> String {
    let mut parts: Vec<String> = sockets.iter().map(AwaitedSocket::summary).collect();
    for item in awaited {
        let Some(hosts) = &item.resolved else {
            parts.push(format!("{} not resolved", item.label));
            continue;
        };
        for (host, result) in hosts {
            let endpoint = format!("{}:{}", host.shown, item.port);
            parts.push(match result {
                Some((_, outcome)) if outcome.state == PortState::Open => {
                    format!("{endpoint} open")
                }
                Some((_, outcome)) => format!(
                    "{endpoint} {} ({})",
                    outcome.state.as_str(),
                    outcome.reason.as_str()
                ),
                None => format!("{endpoint} not probed"),
            });
        }
    }
    parts.join(", ")
}

/// Ctrl-C: with -v, say what was still awaited (the session's summary) before stopping.
fn interrupted(
    awaited: &[Awaited],
    sockets: &[AwaitedSocket],
    context: &Context,
    started: Instant,
) -> Status {
    if context.verbose() {
        let pending = pending_names(awaited, sockets);
        verbose(format_args!(
            "interrupted after {}; still waiting for {}",
            format_duration(started.elapsed()),
            pending.join(", ")
        ));
    }
    Status::Interrupted
}

/// The targets still not open: Unix sockets first, as the rounds probe them.
fn pending_names(awaited: &[Awaited], sockets: &[AwaitedSocket]) -> Vec<String> {
    let sockets = sockets
        .iter()
        .filter(|socket| !socket.is_open())
        .map(|socket| socket.addr.to_string());
    let ports = awaited
        .iter()
        .filter(|item| !item.is_open())
        .map(|item| item.label.clone());
    sockets.chain(ports).collect()
}

/// The deadline error, naming every target still not open.
fn timed_out(awaited: &[Awaited], sockets: &[AwaitedSocket], limit: Duration) -> Error {
    let pending: Vec<&Awaited> = awaited.iter().filter(|item| !item.is_open()).collect();
    let error = Error::failure(format!(
        "timed out after {} waiting for {}",
        format_duration(limit),
        pending_names(awaited, sockets).join(", ")
    ));
    let socket_cause = sockets
        .iter()
        .filter(|socket| !socket.is_open())
        .find_map(socket_problem);
    if let Some(cause) = socket_cause.or_else(|| {
        pending
            .iter()
            .find_map(|item| item.last_error.clone().or_else(|| failed_check(item)))
    }) {
        return error.with_hint(cause);
    }
    // A probe that could not even start says why: the port itself may well be open.
    let local = pending
        .iter()
        .flat_map(|item| item.resolved.iter().flatten())
        .find_map(|(_, result)| result.as_ref().and_then(|(_, o)| local_shortage(o.reason)));
    match local {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// The hint for a probe that could not start for a local reason.
fn local_shortage(reason: Reason) -> Option<&'static str> {
    match reason {
        Reason::NoLocalPort => Some(
            "no free local port to connect from (no-local-port): see net.ipv4.ip_local_port_range",
        ),
        Reason::NoDescriptors => {
            Some("no file descriptor for a socket (no-descriptors): see ulimit -n")
        }
        Reason::NoBuffers => Some("the kernel is out of socket memory (no-buffers)"),
        _ => None,
    }
}

/// What kept a Unix socket from being ready: `unix:/run/app.sock: no-such-file`, or its
/// failed check.
fn socket_problem(socket: &AwaitedSocket) -> Option<String> {
    let outcome = socket.result.as_ref()?;
    if outcome.state == PortState::Open {
        let check = outcome.check.as_ref().filter(|check| !check.ok)?;
        return Some(format!(
            "{} is open, but its check failed: {}",
            socket.addr,
            check.detail.as_deref().unwrap_or("?")
        ));
    }
    Some(format!("{}: {}", socket.addr, outcome.reason.as_str()))
}

/// `HOST:PORT is open, but its check failed: DETAIL`, for an open port that was not ready.
fn failed_check(item: &Awaited) -> Option<String> {
    item.resolved.iter().flatten().find_map(|(host, result)| {
        let (_, outcome) = result.as_ref()?;
        if let Some(problem) = outcome.tls.as_ref().and_then(|tls| tls.problem.as_deref()) {
            return Some(format!(
                "{}:{} is open, but its TLS check failed: {problem}",
                host.shown, item.port
            ));
        }
        let check = outcome.check.as_ref().filter(|check| !check.ok)?;
        Some(format!(
            "{}:{} is open, but its check failed: {}",
            host.shown,
            item.port,
            check.detail.as_deref().unwrap_or("?")
        ))
    })
}

/// Without a command, the open ports are the answer: print them as a scan would.
fn print_open(
    awaited: &[Awaited],
    sockets: &[AwaitedSocket],
    config: &ProbeConfig,
    context: &Context,
    started: Instant,
) -> anyhow::Result<()> {
    let mut reports: Vec<PortReport> = sockets
        .iter()
        .filter_map(|socket| {
            let outcome = socket.result.as_ref()?;
            Some(super::unix::report(&socket.addr, outcome, &config.spec))
        })
        .collect();
    for item in awaited {
        for (host, result) in item.resolved.iter().flatten() {
            if let Some((addr, outcome)) = result {
                let record = Record {
                    host: host.clone(),
                    port: item.port,
                    result: None,
                };
                reports.push(
                    PortReport::new(
                        &record,
                        *addr,
                        outcome,
                        config.spec.proto,
                        config.spec.banner,
                    )
                    .with_check(config.spec.check.as_deref(), outcome)
                    .with_tls(config.spec.tls.is_some(), outcome),
                );
            }
        }
    }
    if config.prometheus {
        print_prometheus(&reports, started.elapsed())?;
    } else {
        print_reports(&reports, config.json, context.colors)?;
    }
    Ok(())
}

/// Runs the command (no shell) and returns its exit status; sockx ignores Ctrl-C meanwhile so
/// that the command decides how to end.
fn run_command(command: &[String]) -> anyhow::Result<Status> {
    let Some((program, args)) = command.split_first() else {
        return Ok(Status::Success);
    };
    match std::process::Command::new(program).args(args).status() {
        Ok(status) => Ok(Status::Child(exit_code(status))),
        Err(err) => {
            let code = if err.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            Err(Error {
                status: Status::Child(code),
                message: format!("cannot run '{}': {err}", quote_arg(program)),
                hint: None,
            }
            .into())
        }
    }
}

/// The shell's convention: the exit code, or 128 + the signal that ended the command.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return code as u8;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return (128 + signal) as u8;
        }
    }
    1
}
