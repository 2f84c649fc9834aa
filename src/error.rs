//! Errors, exit statuses, and the one place that reports them.
//!
//! Subcommands return `anyhow::Result<Status>`. A failure that decides its own exit code
//! (usage error, network failure) carries an [`Error`] somewhere in its chain; context added
//! with `anyhow::Context` is kept for the message. Everything else is a failure (exit 1).

use crate::output::escape::{QUOTE_LIMIT, escape_text, quote_arg};
use std::io::{self, Write};
use std::process::ExitCode;

/// How a run ended; the process exit code follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0: success, or a positive answer.
    Success,
    /// Exit 1: a negative answer (nothing matched, port not open) or a network failure.
    Negative,
    /// Exit 2: invalid usage or input.
    Usage,
    /// Exit 130: stopped by Ctrl-C with nothing else deciding the outcome.
    Interrupted,
    /// The exit status of a command sockx ran on the user's behalf (`probe --wait ... -- CMD`).
    Child(u8),
}

impl Status {
    /// The process exit code for this status.
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Negative => 1,
            Status::Usage => 2,
            Status::Interrupted => 130,
            Status::Child(code) => code,
        }
    }

    /// `Success` when `positive`, `Negative` otherwise.
    pub fn from_answer(positive: bool) -> Status {
        if positive {
            Status::Success
        } else {
            Status::Negative
        }
    }
}

/// A failure that knows its exit status and may carry a hint for the user.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// The exit status this failure ends the run with.
    pub status: Status,
    /// What went wrong, one line, without the `sockx: error:` prefix.
    pub message: String,
    /// An optional second line, printed as `hint: ...`.
    pub hint: Option<String>,
}

impl Error {
    /// Invalid usage or input: exit 2.
    pub fn usage(message: impl Into<String>) -> Error {
        Error {
            status: Status::Usage,
            message: message.into(),
            hint: None,
        }
    }

    /// A network failure or negative answer that is worth an error line: exit 1.
    pub fn failure(message: impl Into<String>) -> Error {
        Error {
            status: Status::Negative,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a `hint:` line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }
}

/// True when `err` is, or was caused by, a broken pipe: the reader went away, which is a
/// quiet, successful end (`sockx ports | head -1`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io_err| io_err.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Turns a run's outcome into the process exit code, printing an error once if there is one.
pub fn report(outcome: anyhow::Result<Status>) -> ExitCode {
    match outcome {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let known = err.chain().find_map(|cause| cause.downcast_ref::<Error>());
            let status = known.map_or(Status::Negative, |e| e.status);
            let hint = known.and_then(|e| e.hint.as_deref());
            print_error(&format!("{err:#}"), hint);
            ExitCode::from(status.code())
        }
    }
}

/// Reports a command-line parse failure of `command` (sockx's CLI): help and version go to
/// stdout with exit 0; a real usage error becomes one `sockx: error:` line plus a hint, with
/// exit 2.
pub fn report_usage(err: &clap::Error, command: &clap::Command) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            let code = if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                Status::Usage
            } else {
                Status::Success
            };
            ExitCode::from(code.code())
        }
        _ => {
            let subcommand = invoked_subcommand(command, std::env::args().skip(1));
            let rendered = requote_arguments(&err.render().to_string(), err);
            let (message, hint) = summarize_clap_error(&rendered, subcommand.as_deref());
            print_error(&message, Some(&hint));
            ExitCode::from(Status::Usage.code())
        }
    }
}

/// clap quotes the offending argument whole, and strips the escape sequences in it rather than
/// showing them: quote it again, escaped and cut ([`quote_arg`]).
fn requote_arguments(rendered: &str, err: &clap::Error) -> String {
    use clap::error::ContextValue;
    let mut text = rendered.to_string();
    for (_, value) in err.context() {
        let values: Vec<&str> = match value {
            ContextValue::String(value) => vec![value.as_str()],
            ContextValue::Strings(values) => values.iter().map(String::as_str).collect(),
            _ => continue,
        };
        for value in values {
            // What clap printed of it: its rendering strips escape sequences.
            let shown = clap::builder::StyledStr::from(value.to_string()).to_string();
            let quoted = quote_arg(value);
            if shown.chars().count() > QUOTE_LIMIT {
                // Long enough to be nothing but the argument, wherever it stands (clap's tip
                // quotes it inside `'-- …'`).
                text = text.replace(&shown, &quoted);
            } else if shown.is_empty() && !value.is_empty() {
                // Nothing but an escape sequence: clap shows ''.
                text = text.replacen("''", &format!("'{quoted}'"), 1);
            } else if shown != quoted {
                text = text.replace(&format!("'{shown}'"), &format!("'{quoted}'"));
            }
        }
    }
    text
}

/// clap's rendering is several lines (`error: ...`, a tip, usage); keep the first line as the
/// message and the tip (or a pointer to `--help`) as the hint.
fn summarize_clap_error(rendered: &str, subcommand: Option<&str>) -> (String, String) {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid usage");
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // What clap puts on the lines after the first (the missing arguments, the possible
    // values) belongs to the message: without it "not provided:" names nothing.
    let details: Vec<&str> = lines
        .take_while(|l| !l.starts_with("Usage: ") && !l.starts_with("For more information"))
        .filter(|l| !l.starts_with("tip: "))
        .collect();
    if !details.is_empty() {
        message = format!("{message} {}", details.join(", "));
    }
    // The subcommand named on the command line; else the word after `sockx` in clap's usage
    // line (a bad value has no usage line; a conflict's usage line starts with the flags).
    let usage = subcommand.or_else(|| {
        rendered
            .lines()
            .find_map(|l| l.trim().strip_prefix("Usage: "))
            .and_then(|usage| usage.split_whitespace().nth(1))
            .filter(|word| !word.starts_with(['[', '<', '-']))
    });
    let hint = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: "))
        .map(str::to_string)
        .unwrap_or_else(|| match usage {
            Some(sub) => format!("see 'sockx {sub} --help'"),
            None => "see 'sockx --help'".to_string(),
        });
    (message, hint)
}

/// The subcommand of `command` named on the command line (the first word that is one), for
/// the hint.
fn invoked_subcommand(
    command: &clap::Command,
    args: impl Iterator<Item = String>,
) -> Option<String> {
    args.take_while(|arg| arg != "--").find_map(|arg| {
        command
            .get_subcommands()
            .find(|sub| sub.get_name() == arg || sub.get_all_aliases().any(|alias| alias == arg))
            .map(|sub| sub.get_name().to_string())
    })
}

/// Prints `sockx: error: MESSAGE` and an optional `hint: HINT` on stderr.
pub fn print_error(message: &str, hint: Option<&str>) {
    let mut stderr = io::stderr().lock();
    // Several lines from a lower layer would break the one-line contract: join them.
    // Whatever reached the message (a peer's text, an argument) is escaped here too.
    let one_line = message.lines().collect::<Vec<_>>().join(" ");
    let _ = writeln!(stderr, "sockx: error: {}", escape_text(&one_line));
    if let Some(hint) = hint {
        let hint = hint.lines().collect::<Vec<_>>().join(" ");
        let _ = writeln!(stderr, "hint: {}", escape_text(&hint));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Status::Success.code(), 0);
        assert_eq!(Status::Negative.code(), 1);
        assert_eq!(Status::Usage.code(), 2);
        assert_eq!(Status::Interrupted.code(), 130);
        assert_eq!(Status::Child(7).code(), 7);
        assert_eq!(Status::from_answer(false), Status::Negative);
    }

    #[test]
    fn broken_pipe_is_found_under_context() {
        let err = Err::<(), _>(io::Error::from(io::ErrorKind::BrokenPipe))
            .context("writing the table")
            .unwrap_err();
        assert!(is_broken_pipe(&err));
        let other = anyhow::Error::new(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(!is_broken_pipe(&other));
    }

    #[test]
    fn clap_errors_become_one_line_and_a_hint() {
        let rendered = "error: invalid value '0' for '--port <PORT>': port 0 is not valid\n\nUsage: sockx ports [OPTIONS]\n\nFor more information, try '--help'.\n";
        let (message, hint) = summarize_clap_error(rendered, None);
        assert_eq!(
            message,
            "invalid value '0' for '--port <PORT>': port 0 is not valid"
        );
        assert_eq!(hint, "see 'sockx ports --help'");
        let with_tip = "error: unexpected argument '--x' found\n\n  tip: to pass '--x' as a value, use '-- --x'\n\nUsage: sockx [OPTIONS] <COMMAND>\n";
        assert_eq!(
            summarize_clap_error(with_tip, None).1,
            "to pass '--x' as a value, use '-- --x'"
        );
    }

    #[test]
    fn clap_details_stay_in_the_message() {
        let missing = "error: the following required arguments were not provided:\n  <TARGET>...\n\nUsage: sockx probe <TARGET>... [-- <CMD>...]\n\nFor more information, try '--help'.\n";
        let (message, hint) = summarize_clap_error(missing, None);
        assert_eq!(
            message,
            "the following required arguments were not provided: <TARGET>..."
        );
        assert_eq!(hint, "see 'sockx probe --help'");
        let values = "error: invalid value 'foo' for '<SHELL>'\n  [possible values: bash, zsh]\n\n  tip: a similar value exists: 'zsh'\n\nFor more information, try '--help'.\n";
        let (message, hint) = summarize_clap_error(values, Some("completions"));
        assert_eq!(
            message,
            "invalid value 'foo' for '<SHELL>' [possible values: bash, zsh]"
        );
        assert_eq!(hint, "a similar value exists: 'zsh'");
        let conflict = "error: the argument '--quiet' cannot be used with '--verbose'\n\nUsage: sockx --quiet <COMMAND>\n";
        assert_eq!(summarize_clap_error(conflict, None).1, "see 'sockx --help'");
        let words = ["-v", "p", "0"].map(String::from).into_iter();
        assert_eq!(
            invoked_subcommand(&test_cli(), words).as_deref(),
            Some("ports")
        );
    }

    /// A command line shaped like sockx's: `ports` (alias `p`) and `probe -t NUMBER TARGET`.
    fn test_cli() -> clap::Command {
        use clap::{Arg, Command};
        Command::new("sockx")
            .subcommand(Command::new("ports").visible_alias("p"))
            .subcommand(
                Command::new("probe")
                    .arg(
                        Arg::new("timeout")
                            .short('t')
                            .value_parser(clap::value_parser!(u32)),
                    )
                    .arg(Arg::new("target")),
            )
    }

    #[test]
    fn clap_errors_quote_arguments_escaped_and_cut() {
        let requoted = |args: &[&str]| {
            let err = test_cli().try_get_matches_from(args).unwrap_err();
            requote_arguments(&err.render().to_string(), &err)
        };
        let long = format!("--{}", "a".repeat(5000));
        let text = requoted(&["sockx", "ports", &long]);
        assert!(text.len() < 1000, "{text}");
        assert!(text.contains("… (5002 bytes)'"), "{text}");
        let text = requoted(&["sockx", "ports", "--x\x1b[2J\x07y"]);
        assert!(text.contains("'--x\\e[2J\\x07y'"), "{text}");
        let text = requoted(&["sockx", "probe", "-t", "\x1bz", "127.0.0.1:9"]);
        assert!(text.contains("invalid value '\\ez'"), "{text}");
    }

    #[test]
    fn known_error_keeps_its_status_under_context() {
        let err = Err::<(), _>(Error::usage("port 0 is not allowed"))
            .context("parsing targets")
            .unwrap_err();
        let known = err.chain().find_map(|c| c.downcast_ref::<Error>()).unwrap();
        assert_eq!(known.status, Status::Usage);
        assert_eq!(format!("{err:#}"), "parsing targets: port 0 is not allowed");
    }
}
