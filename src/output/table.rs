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
    if colors.stdout {
        table.enforce_styling();
    } else {
        table.force_no_tty();
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
