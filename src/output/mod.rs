//! Output: one renderer per format (terminal table, plain columns, JSON lines), the colour
//! policy, terminal-safe escaping, and the verbosity-aware notes and warnings on stderr.
//! Subcommands hand over typed rows; they never format tables themselves.

pub mod color;
pub mod escape;
pub mod json;
pub mod lines;
pub mod notes;
pub mod plain;
pub mod prometheus;
pub mod table;

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

pub use color::{ColorChoice, Colors};
pub use notes::Verbosity;

/// A row that can be shown as a table line (and, being `Serialize`, as a JSON object).
pub trait Tabular: Serialize {
    /// The columns a narrow terminal cuts, by header, first to last; the others stay whole.
    const CUT_FIRST: &'static [&'static str] = &[];

    /// One cell per column, in the order of the headers the caller passes.
    fn cells(&self) -> Vec<String>;
}

/// How rows are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A comfy-table table fitted to the terminal width (stdout is a terminal).
    Table,
    /// Plain aligned columns without box drawing (stdout is a pipe or file).
    Plain,
    /// One JSON object per line.
    Json,
}

impl Format {
    /// `--json` wins; otherwise a table on a terminal and plain columns elsewhere.
    pub fn choose(json: bool) -> Format {
        if json {
            Format::Json
        } else if io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Plain
        }
    }

    /// Writes `rows` under `headers` in this format. In the table format, the rows'
    /// [`Tabular::CUT_FIRST`] columns are cut to fit the terminal width.
    pub fn write_rows<R: Tabular>(
        self,
        out: &mut dyn Write,
        headers: &[&str],
        rows: &[R],
        colors: Colors,
    ) -> io::Result<()> {
        match self {
            Format::Json => json::write_lines(out, rows),
            Format::Plain => plain::write(out, headers, rows, colors),
            Format::Table => table::write(out, headers, rows, colors),
        }
    }
}
