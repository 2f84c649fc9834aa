//! Finding a program the way `execvp` will, so that a missing one is said before anything
//! waits for it (`listen --exec`, `probe --wait … -- CMD`; `cmd::program` says it).

use std::ffi::OsString;
use std::path::Path;

/// Whether `name` names an executable file (directly, or through `PATH`). A `PATH` that is
/// not UTF-8 is not second-guessed: the program is taken as found.
pub fn is_runnable(name: &str) -> bool {
    if name.contains('/') {
        return is_executable(Path::new(name));
    }
    std::env::var_os("PATH")
        .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"))
        .to_str()
        .map(|path| std::env::split_paths(path).any(|dir| is_executable(&dir.join(name))))
        .unwrap_or(true)
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_by_path_and_by_name() {
        assert!(is_runnable("/bin/sh"));
        assert!(is_runnable("sh"));
        assert!(!is_runnable("sockx-no-such-program-xyz"));
        // A directory is not a program, whatever its x bits.
        assert!(!is_runnable("/etc"));
    }
}
