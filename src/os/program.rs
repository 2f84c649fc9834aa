//! Finding a program the way `execvp` will, so that a missing one is said before anything
//! waits for it (`listen --exec`, `probe --wait … -- CMD`).

use std::ffi::OsString;
use std::path::Path;

use crate::error::Error;
use crate::output::escape::quote_arg;

/// Fails (exit 1) when `name` cannot be found or is not executable: a name with a `/` is
/// taken as a path, a bare name is looked up in `PATH`. `shell_form` names the caller's way of
/// running shell syntax instead, for the hint (`--sh-exec`, `-- sh -c '…'`).
pub fn ensure_runnable(name: &str, shell_form: &str) -> Result<(), Error> {
    if is_runnable(name) {
        return Ok(());
    }
    Err(Error::failure(format!(
        "cannot run '{}': command not found",
        quote_arg(name)
    ))
    .with_hint(format!(
        "give the full path, or use {shell_form} for shell syntax"
    )))
}

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
    fn a_missing_name_is_quoted_escaped() {
        let err = ensure_runnable("no-such\x1b[2J", "--sh-exec").unwrap_err();
        assert_eq!(err.message, "cannot run 'no-such\\e[2J': command not found");
    }

    #[test]
    fn programs_are_found_by_path_and_by_name() {
        assert!(is_runnable("/bin/sh"));
        assert!(is_runnable("sh"));
        assert!(!is_runnable("sockx-no-such-program-xyz"));
        // A directory is not a program, whatever its x bits.
        assert!(!is_runnable("/etc"));
        let err = ensure_runnable("sockx-no-such-program-xyz", "--sh-exec").unwrap_err();
        assert_eq!(
            err.message,
            "cannot run 'sockx-no-such-program-xyz': command not found"
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("give the full path, or use --sh-exec for shell syntax")
        );
    }
}
