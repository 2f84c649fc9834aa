//! `-w/--idle-timeout` for `--exec` connections. sockx does not touch the child's socket while
//! the child runs (its own descriptor of it serves only the graceful close), so it cannot see
//! the connection's traffic; it watches the I/O of the command instead: the
//! `rchar`/`wchar` counters of `/proc/PID/io`, summed over the child and everything it started.
//! When they stand still for the timeout, the command (with its descendants) is killed, which
//! closes the connection.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

/// Resolves once the process tree under `pid` has done no I/O for `limit`; never with `None`
/// (nor where /proc cannot tell, e.g. another OS). Returns the PIDs to kill, children first.
pub async fn idle_tree(pid: u32, limit: Option<Duration>) -> Vec<u32> {
    let Some(limit) = limit else {
        return std::future::pending().await;
    };
    let tick = (limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut last = io_total(&tree(pid));
    if last.is_none() {
        return std::future::pending().await;
    }
    let mut quiet_since = Instant::now();
    loop {
        tokio::time::sleep(tick).await;
        let pids = tree(pid);
        let now = io_total(&pids);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= limit {
            return pids.into_iter().rev().collect();
        }
    }
}

/// `pid` and its descendants, parents before children.
fn tree(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    let mut seen = HashSet::from([pid]);
    let mut next = 0;
    while next < pids.len() {
        let parent = pids[next];
        next += 1;
        for child in children(parent) {
            if seen.insert(child) {
                pids.push(child);
            }
        }
    }
    pids
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Bytes read plus written by the processes, or `None` when /proc does not say.
fn io_total(pids: &[u32]) -> Option<u64> {
    let mut total = None;
    for pid in pids {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/io")) else {
            continue;
        };
        let sum: u64 = text
            .lines()
            .filter(|line| line.starts_with("rchar:") || line.starts_with("wchar:"))
            .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        total = Some(total.unwrap_or(0) + sum);
    }
    total
}

/// Sends SIGKILL to each of `pids` (children first); gone processes are skipped.
pub fn kill_all(pids: &[u32]) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    for pid in pids {
        if let Ok(raw) = i32::try_from(*pid) {
            let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_holds_grandchildren() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 5 & sleep 5; wait"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while tree(pid).len() < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let pids = tree(pid);
        assert!(pids.len() >= 3, "{pids:?}");
        assert_eq!(pids[0], pid);
        assert!(io_total(&pids).is_some());
        kill_all(&pids.into_iter().rev().collect::<Vec<_>>());
        let _ = child.wait();
    }

    #[tokio::test]
    async fn a_quiet_process_is_idle() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pids = idle_tree(child.id(), Some(Duration::from_millis(100))).await;
        assert_eq!(pids, [child.id()]);
        kill_all(&pids);
        let _ = child.wait();
    }
}
