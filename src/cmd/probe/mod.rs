//! `sockx probe`: is it open? Scan, wait for, or time TCP and UDP ports.
//!
//! The arguments become a [`config::ProbeConfig`]; targets are resolved once into a
//! [`plan::Plan`]; the [`engine`] runs a sliding window of non-blocking attempts over one
//! poller; each mode (scan, wait, latency) decides what to print and how the run ends.

mod attempt;
mod check;
mod config;
mod engine;
mod http;
mod latency;
mod outcome;
mod plan;
mod progress;
mod report;
mod scan;
mod space;
mod stats;
mod tls;
mod tls_flight;
mod udp_payloads;
mod unix;
mod wait;

use std::time::Duration;

use crate::cli::ProbeArgs;
use crate::cmd::Context;
use crate::error::Status;
use crate::output::notes;
use config::{MAX_DEFAULT_CONCURRENCY, Mode, ProbeConfig, StateFilter};
use engine::EngineConfig;

/// Runs `sockx probe`.
pub fn run(args: ProbeArgs, context: &Context) -> anyhow::Result<Status> {
    let config = ProbeConfig::from_args(args)?;
    describe_requests(&config);
    // Ctrl-C stops the loops, which print what was found (and a summary) first.
    let interrupt = crate::os::interrupt::Interrupt::handler();
    interrupt.observe();
    match &config.mode {
        Mode::Scan => scan::run(&config, context, &interrupt),
        Mode::Wait {
            limit,
            interval,
            command,
        } => wait::run(&config, context, &interrupt, *limit, *interval, command),
        Mode::Latency { count, interval } => {
            latency::run(&config, context, &interrupt, *count, *interval)
        }
    }
}

/// With `-v`: the check, or the UDP request each probed port with a service gets.
fn describe_requests(config: &ProbeConfig) {
    if let Some(check) = &config.spec.check {
        notes::verbose(format_args!("{}", check.describe()));
    }
    if config.spec.proto != crate::net::socket::Proto::Udp {
        return;
    }
    if let Some(payload) = &config.spec.payload {
        notes::verbose(format_args!(
            "udp payload: {} bytes (--payload)",
            payload.len()
        ));
        return;
    }
    let mut ports: Vec<u16> = config
        .targets
        .iter()
        .flat_map(|t| t.ports.iter().copied())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    let mut others = 0;
    for port in ports {
        match udp_payloads::for_port(port) {
            Some(payload) => notes::verbose(format_args!(
                "udp port {port}: {} ({} bytes)",
                payload.name,
                (payload.build)().len()
            )),
            None => others += 1,
        }
    }
    if others > 0 {
        notes::verbose(format_args!(
            "udp: an empty datagram to the {others} other {}",
            report::plural(others, "port", "ports")
        ));
    }
}

/// The engine's settings for a run of `jobs` probes with `timeout` per attempt.
fn engine_config(config: &ProbeConfig, jobs: usize, timeout: Duration) -> EngineConfig {
    let mut spec = config.spec.clone();
    // The contract: a handful of probes (`--wait`, `--count`, up to 32 ports) closes with a
    // FIN; only a larger scan resets, so as to leave no TIME_WAIT behind.
    spec.reset_on_close = matches!(config.mode, Mode::Scan) && jobs > StateFilter::AUTO_LIMIT;
    EngineConfig {
        timeout,
        banner_wait: config.timeout,
        retries: config.retries,
        concurrency: concurrency(config.concurrency, jobs),
        spec,
        rate: config.controls.rate,
    }
}

/// File descriptors kept free for everything that is not a probe socket.
const FD_RESERVE: u64 = 32;

/// The window. By default up to [`MAX_DEFAULT_CONCURRENCY`], never more than there are jobs
/// or than the open-file limit allows; `-c N` is taken as asked (the engine backs off if the
/// host runs out of descriptors). The soft limit is raised to the hard one only when the
/// window needs it, so a single check costs no extra system calls and a command run after
/// `--wait` inherits the usual limit.
fn concurrency(requested: Option<usize>, jobs: usize) -> usize {
    let wanted = requested
        .unwrap_or(MAX_DEFAULT_CONCURRENCY)
        .min(jobs.max(1));
    let room = open_file_room(wanted);
    match requested {
        Some(_) => wanted,
        None => wanted.min(room).max(1),
    }
}

#[cfg(unix)]
fn open_file_room(wanted: usize) -> usize {
    use crate::os::rlimit;
    let Some((soft, _)) = rlimit::open_files() else {
        return wanted;
    };
    let soft = if wanted as u64 + FD_RESERVE > soft {
        rlimit::raise_open_files().unwrap_or(soft)
    } else {
        soft
    };
    usize::try_from(soft.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX)
}

#[cfg(not(unix))]
fn open_file_room(wanted: usize) -> usize {
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_fits_the_jobs_and_the_limit() {
        assert_eq!(concurrency(None, 1), 1);
        assert_eq!(concurrency(Some(10), 3), 3);
        assert_eq!(concurrency(Some(100_000), 200_000), 100_000);
        let big = concurrency(None, 65535);
        assert!((1..=MAX_DEFAULT_CONCURRENCY).contains(&big));
        #[cfg(unix)]
        {
            let (soft, _) = crate::os::rlimit::open_files().unwrap();
            assert!(big as u64 <= soft);
        }
    }
}
