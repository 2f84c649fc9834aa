//! `sockx completions SHELL` and the hidden `sockx manpage`: generated from the CLI definition.

use std::io::{self, Write};

use anyhow::Context;
use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::{Cli, CompletionsArgs, ManpageArgs};
use crate::error::{Error, Status};
use crate::output::escape::quote_arg;

/// Prints the completion script for the shell.
pub fn run(args: CompletionsArgs) -> anyhow::Result<Status> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut completion_command(), "sockx", &mut script);
    io::stdout().lock().write_all(&script)?;
    Ok(Status::Success)
}

/// The CLI without its hidden subcommands, which clap_complete would offer on Tab (it does not
/// skip them, and clap cannot remove a subcommand): the root is assembled again from the CLI's
/// own arguments and visible subcommands, so nothing of the CLI is restated here.
fn completion_command() -> clap::Command {
    let cli = Cli::command();
    // `Cli`'s own name and version (clap's derive takes them from the package, as here).
    let mut root = clap::Command::new(env!("CARGO_PKG_NAME"))
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(cli.is_propagate_version_set())
        .args(cli.get_arguments().cloned())
        .subcommands(
            cli.get_subcommands()
                .filter(|sub| !sub.is_hide_set())
                .cloned(),
        );
    if let Some(about) = cli.get_about() {
        root = root.about(about.clone());
    }
    root
}

/// Prints the man page of sockx or of one subcommand, or writes every page into a directory.
pub fn manpage(args: ManpageArgs) -> anyhow::Result<Status> {
    let pages = pages()?;
    if let Some(dir) = &args.out_dir {
        for page in &pages {
            let path = dir.join(&page.file_name);
            std::fs::write(&path, &page.roff)
                .with_context(|| format!("cannot write {}", quote_arg(&path.to_string_lossy())))?;
        }
        return Ok(Status::Success);
    }
    let wanted = match &args.page {
        None => "sockx.1".to_string(),
        Some(subcommand) => format!("sockx-{subcommand}.1"),
    };
    let Some(page) = pages.iter().find(|page| page.file_name == wanted) else {
        let subcommands: Vec<&str> = pages
            .iter()
            .filter_map(|page| page.file_name.strip_prefix("sockx-")?.strip_suffix(".1"))
            .collect();
        return Err(Error::usage(format!(
            "no man page for {}",
            quote_arg(args.page.as_deref().unwrap_or_default())
        ))
        .with_hint(format!("pages exist for: {}", subcommands.join(", ")))
        .into());
    };
    io::stdout().lock().write_all(&page.roff)?;
    Ok(Status::Success)
}

/// One rendered man page.
struct Page {
    /// `sockx.1`, `sockx-probe.1`, …
    file_name: String,
    /// The page in roff.
    roff: Vec<u8>,
}

/// Every man page: `sockx.1`, and `sockx-NAME.1` for each subcommand that is not hidden.
fn pages() -> anyhow::Result<Vec<Page>> {
    // As `clap_mangen::generate_to` does: `help` gets no page (and `sockx.1` names none), and
    // the built tree titles each subcommand's page `sockx-NAME` with a synopsis of `sockx NAME`
    // that carries the global options.
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let subcommands: Vec<clap::Command> = cli
        .get_subcommands()
        .filter(|subcommand| !subcommand.is_hide_set())
        .cloned()
        .collect();
    let mut pages = vec![render(cli, &[])?];
    for subcommand in subcommands {
        pages.push(render(subcommand, &["sockx"])?);
    }
    Ok(pages)
}

/// Renders the page clap_mangen makes for `command`, with a last section, SEE ALSO, naming
/// `see_also` (pages of section 1).
fn render(command: clap::Command, see_also: &[&str]) -> anyhow::Result<Page> {
    // The footer names the package, not the subcommand ("sockx 0.1.0", not "probe 0.1.0").
    let man = Man::new(command).source(format!("sockx {}", env!("CARGO_PKG_VERSION")));
    let mut roff = Vec::new();
    man.render(&mut roff)?;
    if !see_also.is_empty() {
        let mut section = Roff::default();
        section.control("SH", ["SEE ALSO"]);
        let mut names = Vec::new();
        for (i, name) in see_also.iter().enumerate() {
            if i > 0 {
                names.push(roman(", "));
            }
            names.push(bold(*name));
            names.push(roman("(1)"));
        }
        section.text(names);
        // Without the apostrophe preamble, which the page already starts with.
        roff.extend_from_slice(section.to_roff().as_bytes());
    }
    Ok(Page {
        file_name: man.get_filename(),
        roff,
    })
}
