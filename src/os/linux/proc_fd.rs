//! Which processes hold which sockets: a scan of `/proc/PID/fd`.
//!
//! Every open socket shows up as a descriptor whose link reads `socket:[INODE]`. A socket can
//! be held by any number of processes whatever their PIDs (forked workers whose parent closed
//! its copy, a descriptor passed over a Unix socket, a child with a lower PID after PID
//! wraparound), so every process is always read: the scan never stops early. It is kept cheap
//! instead: one `readlinkat` per descriptor and nothing else (no `stat`, no allocation per
//! descriptor), processes handed out one at a time from a shared index to a few threads, and
//! only the inodes asked for are kept.

use std::collections::{HashMap, HashSet};
use std::mem::MaybeUninit;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fd::OwnedFd;
use rustix::fs::{CWD, Mode, OFlags, RawDir, openat, readlinkat_raw};
use rustix::io::Errno;

/// What the scan found.
#[derive(Debug, Default)]
pub struct OwnerScan {
    /// The PIDs holding each inode that was found, ascending.
    pub owners: HashMap<u64, Vec<u32>>,
    /// Processes whose descriptors could not be read for lack of privileges.
    pub denied: usize,
}

/// Buffer sizes: a directory read holds hundreds of entries; a socket link is at most
/// `socket:[18446744073709551615]`, so a longer link (a path) is cut short and simply does not
/// match.
const DIR_BUFFER: usize = 32 * 1024;
const LINK_BUFFER: usize = 32;

/// At most this many threads: the work is system calls into procfs, bound by the cores.
const MAX_THREADS: usize = 4;

/// Processes per thread below which another thread costs more than it saves.
const PROCESSES_PER_THREAD: usize = 16;

/// Every holder of the sockets whose inodes are in `wanted` (0 is never an inode): scans every
/// process, or only `only_pid`.
pub fn owners_by_inode(wanted: &[u64], only_pid: Option<u32>) -> OwnerScan {
    let wanted: HashSet<u64> = wanted.iter().copied().filter(|&inode| inode != 0).collect();
    if wanted.is_empty() {
        return OwnerScan::default();
    }
    let Ok(proc) = openat(
        CWD,
        "/proc",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return OwnerScan::default();
    };
    let pids = match only_pid {
        Some(pid) => vec![pid],
        None => list_pids(&proc),
    };

    let scan = Scan {
        proc: &proc,
        pids: &pids,
        wanted: &wanted,
        next: AtomicUsize::new(0),
        matches: Mutex::new(Vec::new()),
        denied: AtomicUsize::new(0),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_THREADS)
        .min(pids.len().div_ceil(PROCESSES_PER_THREAD));
    if threads <= 1 {
        scan.work();
    } else {
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(|| scan.work());
            }
            scan.work();
        });
    }

    let matches = scan.matches.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut owners: HashMap<u64, Vec<u32>> = HashMap::new();
    for (inode, pid) in matches {
        owners.entry(inode).or_default().push(pid);
    }
    for pids in owners.values_mut() {
        pids.sort_unstable();
        pids.dedup();
    }
    OwnerScan {
        owners,
        denied: scan.denied.into_inner(),
    }
}

/// The shared state of one scan.
struct Scan<'a> {
    proc: &'a OwnedFd,
    pids: &'a [u32],
    wanted: &'a HashSet<u64>,
    next: AtomicUsize,
    matches: Mutex<Vec<(u64, u32)>>,
    denied: AtomicUsize,
}

impl Scan<'_> {
    /// Takes processes from the shared index until none are left.
    fn work(&self) {
        let mut buffers = Buffers::new();
        let mut local = Vec::new();
        loop {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&pid) = self.pids.get(index) else {
                break;
            };
            let outcome = scan_process(self.proc, pid, &mut buffers, |inode| {
                if self.wanted.contains(&inode) {
                    local.push((inode, pid));
                }
            });
            if outcome == Outcome::Denied {
                self.denied.fetch_add(1, Ordering::Relaxed);
            }
        }
        if !local.is_empty() {
            let mut matches = self.matches.lock().unwrap_or_else(|e| e.into_inner());
            matches.extend(local);
        }
    }
}

/// Per-thread scratch space, reused for every process and descriptor.
struct Buffers {
    dir: Vec<MaybeUninit<u8>>,
    link: [MaybeUninit<u8>; LINK_BUFFER],
    path: String,
}

impl Buffers {
    fn new() -> Buffers {
        Buffers {
            dir: vec![MaybeUninit::uninit(); DIR_BUFFER],
            link: [MaybeUninit::uninit(); LINK_BUFFER],
            path: String::with_capacity(24),
        }
    }
}

/// How reading one process's descriptors went.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Read,
    Denied,
    Gone,
}

/// Calls `on_socket` with the inode of every socket `pid` has open.
fn scan_process(
    proc: &OwnedFd,
    pid: u32,
    buffers: &mut Buffers,
    mut on_socket: impl FnMut(u64),
) -> Outcome {
    use std::fmt::Write as _;
    buffers.path.clear();
    let _ = write!(buffers.path, "{pid}/fd");
    let fd_dir = match openat(
        proc,
        buffers.path.as_str(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ACCESS | Errno::PERM) => return Outcome::Denied,
        Err(_) => return Outcome::Gone,
    };
    let mut entries = RawDir::new(&fd_dir, &mut buffers.dir);
    while let Some(Ok(entry)) = entries.next() {
        let name = entry.file_name();
        if name.to_bytes().first() == Some(&b'.') {
            continue;
        }
        if let Ok((link, _)) = readlinkat_raw(&fd_dir, name, &mut buffers.link)
            && let Some(inode) = socket_inode(link)
        {
            on_socket(inode);
        }
    }
    Outcome::Read
}

/// The inode in a `socket:[INODE]` link.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    digits.iter().try_fold(0u64, |inode, &digit| {
        digit
            .is_ascii_digit()
            .then(|| inode.checked_mul(10)?.checked_add(u64::from(digit - b'0')))?
    })
}

/// Every PID in `/proc`, ascending.
fn list_pids(proc: &OwnedFd) -> Vec<u32> {
    let mut pids = Vec::with_capacity(1024);
    // A second descriptor: getdents moves the offset, and `proc` is used by other threads.
    let Ok(listing) = openat(
        proc,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return pids;
    };
    let mut buffer = vec![MaybeUninit::uninit(); DIR_BUFFER];
    let mut entries = RawDir::new(&listing, &mut buffer);
    while let Some(Ok(entry)) = entries.next() {
        if let Ok(name) = entry.file_name().to_str()
            && let Ok(pid) = name.parse::<u32>()
        {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    pids
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::unix::fs::MetadataExt;

    fn inode_of(fd: i32) -> u64 {
        std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .unwrap()
            .ino()
    }

    #[test]
    fn parses_socket_links_only() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
        assert_eq!(socket_inode(b"socket:[99999999999999999999999]"), None);
        assert_eq!(socket_inode(b"socket:[12a]"), None);
    }

    #[test]
    fn finds_our_own_listener() {
        use std::os::fd::AsRawFd;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let inode = inode_of(listener.as_raw_fd());
        let wanted = [inode];
        let everyone = owners_by_inode(&wanted, None);
        assert_eq!(everyone.owners.get(&inode), Some(&vec![std::process::id()]));
        let only_us = owners_by_inode(&wanted, Some(std::process::id()));
        assert_eq!(only_us.owners.get(&inode), Some(&vec![std::process::id()]));
        assert!(owners_by_inode(&wanted, Some(1)).owners.is_empty() || std::process::id() == 1);
    }

    #[test]
    fn nothing_wanted_scans_nothing() {
        let scan = owners_by_inode(&[0], None);
        assert!(scan.owners.is_empty());
    }
}
