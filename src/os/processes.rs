//! Process details (name, command line, user) for a few PIDs, and UID → user name lookups.
//!
//! sysinfo is refreshed only for the PIDs asked about, never for every process.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

/// What we show about a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its PID.
    pub pid: u32,
    /// Its name: the executable's file name where the kernel's is cut short.
    pub name: String,
    /// The full command line, arguments joined by spaces; `None` when unknown (e.g. kernel
    /// threads, or not permitted).
    pub cmd: Option<String>,
    /// The UID it runs as, where known.
    pub uid: Option<u32>,
}

/// Linux keeps only the first 15 bytes of a process name (TASK_COMM_LEN - 1).
const COMM_MAX: usize = 15;

/// Details of the processes in `pids` that still exist.
pub fn describe(pids: &[u32]) -> HashMap<u32, ProcessInfo> {
    let mut details = HashMap::with_capacity(pids.len());
    if pids.is_empty() {
        return details;
    }
    let Ok(mut system) = System::new() else {
        return details;
    };
    let wanted: Vec<Pid> = pids.iter().map(|&pid| Pid::from_u32(pid)).collect();
    let kind = ProcessRefreshKind::nothing()
        .without_tasks()
        .with_cmd(UpdateKind::Always)
        .with_exe(UpdateKind::Always)
        .with_user(UpdateKind::Always);
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&wanted), false, kind);
    for pid in &wanted {
        let Some(process) = system.process(*pid) else {
            continue;
        };
        let cmd = process.cmd();
        let name = display_name(
            &process.name().to_string_lossy(),
            cmd.first(),
            process.exe(),
        );
        let cmd = (!cmd.is_empty()).then(|| join_command(cmd));
        let uid = process.user_id().map(|uid| **uid);
        details.insert(
            pid.as_u32(),
            ProcessInfo {
                pid: pid.as_u32(),
                name,
                cmd,
                uid,
            },
        );
    }
    details
}

/// The kernel's name, or the longer executable name it is the start of when it was cut.
fn display_name(comm: &str, argv0: Option<&OsString>, exe: Option<&Path>) -> String {
    if comm.len() < COMM_MAX {
        return comm.to_string();
    }
    let candidates = [
        argv0.and_then(|arg| Path::new(arg).file_name()),
        exe.and_then(Path::file_name),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|name| name.to_string_lossy())
        .find(|name| name.len() > comm.len() && name.starts_with(comm))
        .map_or_else(|| comm.to_string(), |name| name.into_owned())
}

/// The command line as one string, as `ps` shows it.
fn join_command(args: &[OsString]) -> String {
    let mut line = String::new();
    for (index, arg) in args.iter().enumerate() {
        if index > 0 {
            line.push(' ');
        }
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// UID → user name, looked up once per UID.
#[derive(Debug, Default)]
pub struct UserNames {
    cache: HashMap<u32, Option<String>>,
}

impl UserNames {
    /// The name of `uid`, `None` when it has no entry in the user database.
    pub fn name(&mut self, uid: u32) -> Option<String> {
        self.cache
            .entry(uid)
            .or_insert_with(|| lookup_user(uid))
            .clone()
    }
}

#[cfg(unix)]
fn lookup_user(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|user| user.name)
}

#[cfg(not(unix))]
fn lookup_user(_uid: u32) -> Option<String> {
    None
}

/// The UID of a user given by name or number.
#[cfg(unix)]
pub fn uid_of_user(user: &str) -> Option<u32> {
    if let Ok(uid) = user.parse::<u32>() {
        return Some(uid);
    }
    nix::unistd::User::from_name(user)
        .ok()
        .flatten()
        .map(|user| user.uid.as_raw())
}

/// The UID of a user given by number (no user database here).
#[cfg(not(unix))]
pub fn uid_of_user(user: &str) -> Option<u32> {
    user.parse().ok()
}

/// Whether sockx runs with root privileges (and so can see every process's descriptors).
pub fn is_privileged() -> bool {
    #[cfg(unix)]
    {
        nix::unistd::Uid::effective().is_root()
    }
    #[cfg(not(unix))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_names_are_completed_from_the_executable() {
        let argv0 = OsString::from("/usr/local/bin/prometheus-node-exporter");
        assert_eq!(
            display_name("prometheus-node", Some(&argv0), None),
            "prometheus-node-exporter"
        );
        let exe = Path::new("/opt/x/averyverylongname-server");
        assert_eq!(
            display_name("averyverylongna", None, Some(exe)),
            "averyverylongname-server"
        );
        let python = OsString::from("python3");
        assert_eq!(display_name("python3", Some(&python), None), "python3");
        let other = OsString::from("/bin/sh");
        assert_eq!(
            display_name("abcdefghijklmno", Some(&other), None),
            "abcdefghijklmno"
        );
    }

    #[test]
    fn our_own_process_is_described() {
        let me = std::process::id();
        let details = describe(&[me]);
        let info = details.get(&me).unwrap();
        let exe = std::env::current_exe().unwrap();
        let exe_name = exe.file_name().unwrap().to_string_lossy();
        assert!(exe_name.starts_with(&info.name), "{info:?} vs {exe_name}");
        assert!(
            info.cmd.as_deref().unwrap().contains(&*exe_name),
            "{info:?}"
        );
        #[cfg(unix)]
        assert_eq!(info.uid, Some(nix::unistd::Uid::current().as_raw()));
    }

    #[test]
    fn users_resolve_both_ways() {
        let mut names = UserNames::default();
        assert_eq!(names.name(0).as_deref(), Some("root"));
        assert_eq!(uid_of_user("root"), Some(0));
        assert_eq!(uid_of_user("1234"), Some(1234));
        assert_eq!(uid_of_user("no-such-user-sockx"), None);
    }
}
