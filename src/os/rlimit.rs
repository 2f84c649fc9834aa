//! The open-file limit (RLIMIT_NOFILE): a scan keeps one socket per probe in flight, so its
//! window is bounded by this limit.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The soft and hard limits on open files, or `None` when they cannot be read.
pub fn open_files() -> Option<(u64, u64)> {
    getrlimit(Resource::RLIMIT_NOFILE).ok()
}

/// Raises the soft limit on open files to the hard limit and returns the soft limit in force
/// afterwards. Some systems (macOS) report an unlimited hard limit that setrlimit refuses; the
/// request is then halved until one is accepted, never going below the current soft limit.
pub fn raise_open_files() -> Option<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    let mut wanted = hard;
    while wanted > soft {
        if setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).is_ok() {
            return Some(wanted);
        }
        wanted /= 2;
    }
    Some(soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_reaches_the_hard_limit_and_never_lowers() {
        let (soft, hard) = open_files().unwrap();
        let raised = raise_open_files().unwrap();
        assert!(raised >= soft && raised <= hard);
        assert_eq!(open_files().unwrap().0, raised);
    }
}
