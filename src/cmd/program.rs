//! A program named on the command line that cannot be run, said before anything waits for it
//! (`listen --exec`, `probe --wait … -- CMD`); `os::program` finds it the way `execvp` will.

use crate::error::Error;
use crate::os::program::is_runnable;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_name_is_quoted_escaped() {
        let err = ensure_runnable("no-such\x1b[2J", "--sh-exec").unwrap_err();
        assert_eq!(err.message, "cannot run 'no-such\\e[2J': command not found");
    }

    #[test]
    fn a_missing_program_points_at_the_shell_form() {
        let err = ensure_runnable("sockx-no-such-program-xyz", "--sh-exec").unwrap_err();
        assert_eq!(
            err.message,
            "cannot run 'sockx-no-such-program-xyz': command not found"
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("give the full path, or use --sh-exec for shell syntax")
        );
        assert!(ensure_runnable("sh", "--sh-exec").is_ok());
    }
}
