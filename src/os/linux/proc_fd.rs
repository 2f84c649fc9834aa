//! Which processes hold which sockets: a scan of `/proc/PID/fd`.
//!
//! Every open socket shows up as a descriptor whose link reads `socket:[INODE]`. The scan only
//! looks for the inodes it is given, runs on several threads (processes are handed out one at
//! a time from a shared index, lowest PID first), never allocates per descriptor, and stops
//! as soon as every wanted inode has an owner. Because a socket is often shared by a parent
//! and the children it forked (pre-fork servers), the children of the owners found are then
//! checked too, so that every holder is listed even after an early stop.

use std::collections::{HashMap, HashSet};
use std::mem::MaybeUninit;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, CWD, Mode, OFlags, RawDir, openat, readlinkat_raw, statat};
use rustix::io::Errno;

/// A socket whose owners are wanted.
#[derive(Debug, Clone, Copy)]
pub struct WantedSocket {
    /// The socket's inode (never 0).
    pub inode: u64,
    /// The socket's owner UID; processes of that user are scanned first.
    pub uid: Option<u32>,
}

/// What the scan found.
#[derive(Debug, Default)]
pub struct OwnerScan {
    /// The PIDs holding each inode that was found, ascending.
    pub owners: HashMap<u64, Vec<u32>>,
    /// Processes whose descriptors could not be read for lack of privileges.
    pub denied: usize,
}

/// Buffer sizes: a directory read holds hundreds of entries; a socket link is at most
/// `socket:[4294967295]`, so a longer link (a path) is cut short and simply does not match.
const DIR_BUFFER: usize = 32 * 1024;
const LINK_BUFFER: usize = 32;

/// The owners of `wanted` sockets: scans every process, or only `only_pid`.
pub fn owners_by_inode(wanted: &[WantedSocket], only_pid: Option<u32>) -> OwnerScan {
    let slots: HashMap<u64, usize> = {
        let mut slots = HashMap::with_capacity(wanted.len());
        for socket in wanted.iter().filter(|socket| socket.inode != 0) {
            let next = slots.len();
            slots.entry(socket.inode).or_insert(next);
        }
        slots
    };
    if slots.is_empty() {
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
        None => {
            let uids: HashSet<u32> = wanted.iter().filter_map(|socket| socket.uid).collect();
            users_first(&proc, list_pids(&proc), &uids)
        }
    };

    let scan = Scan {
        proc: &proc,
        pids: &pids,
        slots: &slots,
        found: (0..slots.len()).map(|_| AtomicBool::new(false)).collect(),
        remaining: AtomicUsize::new(slots.len()),
        next: AtomicUsize::new(0),
        matches: Mutex::new(Vec::new()),
        denied: AtomicUsize::new(0),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(4)
        .min(pids.len().div_ceil(16));
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

    let scanned = scan.next.load(Ordering::Relaxed).min(pids.len());
    let mut matches = scan.matches.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut denied = scan.denied.into_inner();
    if scanned < pids.len() && only_pid.is_none() {
        let seen: HashSet<u32> = pids[..scanned].iter().copied().collect();
        denied += add_forked_holders(&proc, &mut matches, seen);
    }

    let mut owners: HashMap<u64, Vec<u32>> = HashMap::new();
    for (inode, pid) in matches {
        owners.entry(inode).or_default().push(pid);
    }
    for pids in owners.values_mut() {
        pids.sort_unstable();
        pids.dedup();
    }
    OwnerScan { owners, denied }
}

/// The shared state of one scan.
struct Scan<'a> {
    proc: &'a OwnedFd,
    pids: &'a [u32],
    slots: &'a HashMap<u64, usize>,
    found: Vec<AtomicBool>,
    remaining: AtomicUsize,
    next: AtomicUsize,
    matches: Mutex<Vec<(u64, u32)>>,
    denied: AtomicUsize,
}

impl Scan<'_> {
    /// Takes processes from the shared index until none are left or every inode is found.
    fn work(&self) {
        let mut buffers = Buffers::new();
        let mut local = Vec::new();
        while self.remaining.load(Ordering::Relaxed) > 0 {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&pid) = self.pids.get(index) else {
                break;
            };
            let outcome = scan_process(self.proc, pid, &mut buffers, |inode| {
                if let Some(&slot) = self.slots.get(&inode) {
                    local.push((inode, pid));
                    if !self.found[slot].swap(true, Ordering::Relaxed) {
                        self.remaining.fetch_sub(1, Ordering::Relaxed);
                    }
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

/// Puts the processes of the sockets' users first (each part stays ascending): a socket is
/// usually held by a process of the user who created it.
fn users_first(proc: &OwnedFd, pids: Vec<u32>, uids: &HashSet<u32>) -> Vec<u32> {
    if uids.is_empty() {
        return pids;
    }
    let mut path = String::with_capacity(12);
    let (mut first, mut rest) = (Vec::with_capacity(pids.len()), Vec::new());
    for pid in pids {
        use std::fmt::Write as _;
        path.clear();
        let _ = write!(path, "{pid}");
        match statat(proc, path.as_str(), AtFlags::empty()) {
            Ok(stat) if uids.contains(&stat.st_uid) => first.push(pid),
            Ok(_) => rest.push(pid),
            Err(_) => {}
        }
    }
    first.append(&mut rest);
    first
}

/// After an early stop: checks the children of every owner found (and their children, as long
/// as they hold the socket too) for the same sockets. Returns how many could not be read.
fn add_forked_holders(
    proc: &OwnedFd,
    matches: &mut Vec<(u64, u32)>,
    mut seen: HashSet<u32>,
) -> usize {
    let mut held: HashMap<u32, HashSet<u64>> = HashMap::new();
    for &(inode, pid) in matches.iter() {
        held.entry(pid).or_default().insert(inode);
    }
    let mut queue: Vec<(u32, HashSet<u64>)> = held.into_iter().collect();
    let mut buffers = Buffers::new();
    let mut denied = 0;
    while let Some((parent, inodes)) = queue.pop() {
        for child in children(parent) {
            if !seen.insert(child) {
                continue;
            }
            let mut child_holds = HashSet::new();
            let outcome = scan_process(proc, child, &mut buffers, |inode| {
                if inodes.contains(&inode) {
                    child_holds.insert(inode);
                }
            });
            if outcome == Outcome::Denied {
                denied += 1;
            }
            if !child_holds.is_empty() {
                matches.extend(child_holds.iter().map(|&inode| (inode, child)));
                queue.push((child, child_holds));
            }
        }
    }
    denied
}

/// The children of `pid`, from `/proc/PID/task/*/children`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut children = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            children.extend(
                text.split_whitespace()
                    .filter_map(|word| word.parse::<u32>().ok()),
            );
        }
    }
    children
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
        let wanted = [WantedSocket { inode, uid: None }];
        let everyone = owners_by_inode(&wanted, None);
        assert_eq!(everyone.owners.get(&inode), Some(&vec![std::process::id()]));
        let only_us = owners_by_inode(&wanted, Some(std::process::id()));
        assert_eq!(only_us.owners.get(&inode), Some(&vec![std::process::id()]));
        assert!(owners_by_inode(&wanted, Some(1)).owners.is_empty() || std::process::id() == 1);
    }

    #[test]
    fn nothing_wanted_scans_nothing() {
        let scan = owners_by_inode(
            &[WantedSocket {
                inode: 0,
                uid: None,
            }],
            None,
        );
        assert!(scan.owners.is_empty());
    }
}
