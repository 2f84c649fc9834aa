//! Terminal tables with comfy-table, fitted to the terminal width.

use std::io::{self, Write};

use comfy_table::{Attribute, Cell, ContentArrangement, Table, presets};

use super::{Colors, Tabular};

/// Writes `rows` as a table whose rows stay one line high: what does not fit the terminal
/// width is cut (with `…`) rather than wrapped.
pub fn write<R: Tabular>(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[R],
    colors: Colors,
) -> io::Result<()> {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_truncation_indicator("…");
    // The width is read before colour is settled: `force_no_tty` (no colour) would also hide
    // the terminal's width, and NO_COLOR must not change the layout. A terminal that reports
    // no width (a pty nobody sized) would squeeze every column to one character: take
    // `COLUMNS` then, or leave the table unbounded as on a pipe.
    let width = table
        .width()
        .filter(|&width| width > 0)
        .or_else(columns_from_env);
    if colors.stdout {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    match width {
        Some(width) => {
            table.set_width(width);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    table.set_header(
        headers
            .iter()
            .map(|header| Cell::new(header).add_attribute(Attribute::Bold)),
    );
    for row in rows {
        let mut line = comfy_table::Row::from(row.cells());
        line.max_height(1);
        table.add_row(line);
    }
    writeln!(out, "{table}")
}

/// `COLUMNS` when it holds a usable width.
fn columns_from_env() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&width| width > 0)
}
