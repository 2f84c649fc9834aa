//! Terminal tables with comfy-table, fitted to the terminal width.
//!
//! The fitting is ours, not comfy-table's (which shares the shortage out over every column and
//! would cut `127.0.…` and `ESTABL…`): a row's [`Tabular::CUT_FIRST`] columns give way, in
//! that order, down to nothing (the column is left out then); every other column stays whole.

use std::io::{self, Write};

use comfy_table::{Attribute, Cell, ContentArrangement, Table, presets};

use super::{Colors, Tabular};

/// What each column costs besides its text in the `UTF8_FULL_CONDENSED` preset: one space on
/// each side and one border; plus the border that closes the line.
const COLUMN_OVERHEAD: usize = 3;
const LINE_OVERHEAD: usize = 1;

/// A cut column narrower than this shows nothing useful (`a…`): it is left out instead.
const NARROWEST_CUT: usize = 4;

/// Writes `rows` as a table whose rows stay one line high and, where the terminal's width is
/// known, fit it (see the module's doc); what is cut ends with `…`.
pub fn write<R: Tabular>(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[R],
    colors: Colors,
) -> io::Result<()> {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    // The width is read before colour is settled: `force_no_tty` (no colour) would also hide
    // the terminal's width, and NO_COLOR must not change the layout. A terminal that reports
    // no width (a pty nobody sized) would squeeze every column to one character: take
    // `COLUMNS` then, or leave the table unbounded as on a pipe.
    let width = table
        .width()
        .filter(|&width| width > 0)
        .or_else(columns_from_env);
    render(out, table, headers, rows, colors, width)
}

/// Writes `rows` into `table` (styled, not yet filled), fitted to `width` columns when known.
fn render<R: Tabular>(
    out: &mut dyn Write,
    mut table: Table,
    headers: &[&str],
    rows: &[R],
    colors: Colors,
    width: Option<u16>,
) -> io::Result<()> {
    if colors.stdout {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }

    let cells: Vec<Vec<String>> = rows.iter().map(Tabular::cells).collect();
    let widths = match width {
        Some(width) => {
            let natural = natural_widths(headers, &cells);
            let cut_order: Vec<usize> = R::CUT_FIRST
                .iter()
                .filter_map(|name| headers.iter().position(|header| header == name))
                .collect();
            fit(&natural, &cut_order, usize::from(width))
        }
        None => vec![None; headers.len()],
    };
    let shown = |line: &[String]| -> Vec<String> {
        line.iter()
            .zip(&widths)
            .filter_map(|(cell, width)| match width {
                Some(Column::Cut(width)) => Some(cut(cell, *width)),
                Some(Column::Whole) | None => Some(cell.clone()),
                Some(Column::Left) => None,
            })
            .collect()
    };
    let header_line: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    table.set_header(
        shown(&header_line)
            .into_iter()
            .map(|header| Cell::new(header).add_attribute(Attribute::Bold)),
    );
    for line in &cells {
        table.add_row(shown(line));
    }
    writeln!(out, "{table}")
}

/// How one column is shown on a narrow terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Whole,
    /// Cut to this many characters.
    Cut(usize),
    /// Left out.
    Left,
}

/// The widest cell of each column, header included, in characters.
fn natural_widths(headers: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    widths
}

/// How each column fits a terminal `width` wide: the columns of `cut_order` give way one
/// after the other (cut, or left out below [`NARROWEST_CUT`]); the others stay whole, even
/// when that leaves the table wider than the terminal.
fn fit(natural: &[usize], cut_order: &[usize], width: usize) -> Vec<Option<Column>> {
    let mut columns: Vec<Option<Column>> = vec![Some(Column::Whole); natural.len()];
    let table_width = |columns: &[Option<Column>]| -> usize {
        let shown = columns
            .iter()
            .zip(natural)
            .filter_map(|(column, &natural)| match column {
                Some(Column::Whole) | None => Some(natural),
                Some(Column::Cut(width)) => Some(*width),
                Some(Column::Left) => None,
            });
        shown.map(|text| text + COLUMN_OVERHEAD).sum::<usize>() + LINE_OVERHEAD
    };
    for &index in cut_order {
        let total = table_width(&columns);
        if total <= width {
            break;
        }
        let room = natural[index].saturating_sub(total - width);
        columns[index] = Some(if room >= NARROWEST_CUT.min(natural[index]) && room > 0 {
            Column::Cut(room)
        } else {
            Column::Left
        });
    }
    columns
}

/// `text` in at most `width` characters, ending with `…` where it was cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut short: String = text.chars().take(width.saturating_sub(1)).collect();
    short.push('…');
    short
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

#[cfg(test)]
mod tests {
    use super::*;
    use Column::{Cut, Left, Whole};

    /// PROTO LOCAL PORT STATE REMOTE PID PROCESS USER COMMAND, as `ports -a` has them.
    const NATURAL: [usize; 9] = [5, 9, 5, 11, 15, 5, 15, 4, 40];
    const PROCESS: usize = 6;
    const COMMAND: usize = 8;

    fn width_of(columns: &[Option<Column>]) -> usize {
        columns
            .iter()
            .zip(NATURAL)
            .map(|(column, natural)| match column {
                Some(Whole) | None => natural + COLUMN_OVERHEAD,
                Some(Cut(width)) => width + COLUMN_OVERHEAD,
                Some(Left) => 0,
            })
            .sum::<usize>()
            + LINE_OVERHEAD
    }

    #[test]
    fn a_wide_terminal_cuts_nothing() {
        let columns = fit(&NATURAL, &[COMMAND, PROCESS], 200);
        assert!(columns.iter().all(|c| *c == Some(Whole)));
    }

    #[test]
    fn the_command_is_cut_first_then_the_process() {
        // 109 + 28 = 137 wide: 120 columns cut COMMAND by 17.
        let columns = fit(&NATURAL, &[COMMAND, PROCESS], 120);
        assert_eq!(columns[COMMAND], Some(Cut(23)));
        assert_eq!(columns[PROCESS], Some(Whole));
        assert_eq!(width_of(&columns), 120);
        // 90 columns: COMMAND goes, then PROCESS is cut; addresses and states stay whole.
        let columns = fit(&NATURAL, &[COMMAND, PROCESS], 90);
        assert_eq!(columns[COMMAND], Some(Left));
        assert_eq!(columns[PROCESS], Some(Cut(11)));
        assert_eq!(width_of(&columns), 90);
        for (index, column) in columns.iter().enumerate() {
            if index != COMMAND && index != PROCESS {
                assert_eq!(*column, Some(Whole), "column {index}");
            }
        }
        let columns = fit(&NATURAL, &[COMMAND, PROCESS], 80);
        assert_eq!(columns[PROCESS], Some(Left));
        assert_eq!(width_of(&columns), 76);
        // Too narrow for anything but the fixed columns: they stay whole all the same.
        let columns = fit(&NATURAL, &[COMMAND, PROCESS], 60);
        assert_eq!(columns[COMMAND], Some(Left));
        assert_eq!(columns[PROCESS], Some(Left));
        assert!(width_of(&columns) > 60);
    }

    #[test]
    fn cut_cells_end_with_an_ellipsis() {
        assert_eq!(cut("127.0.0.1", 9), "127.0.0.1");
        assert_eq!(cut("python3 -c x", 6), "pytho…");
        assert_eq!(cut("ab", 1), "…");
    }

    #[derive(serde::Serialize)]
    struct Row([&'static str; 3]);

    impl Tabular for Row {
        const CUT_FIRST: &'static [&'static str] = &["CMD"];
        fn cells(&self) -> Vec<String> {
            self.0.iter().map(|cell| cell.to_string()).collect()
        }
    }

    #[test]
    fn a_rendered_table_fits_and_keeps_the_addresses_whole() {
        let rows = [Row([
            "127.0.0.1",
            "ESTABLISHED",
            "python3 -m http.server 8000 --bind 127.0.0.1",
        ])];
        let rendered = |width| {
            let mut table = Table::new();
            table.load_style(presets::UTF8_FULL_CONDENSED);
            let mut out = Vec::new();
            render(
                &mut out,
                table,
                &["ADDR", "STATE", "CMD"],
                &rows,
                Colors::default(),
                width,
            )
            .unwrap();
            String::from_utf8(out).unwrap()
        };
        let narrow = rendered(Some(40));
        for line in narrow.lines() {
            assert_eq!(line.chars().count(), 40, "{narrow}");
        }
        assert!(
            narrow.contains("│ 127.0.0.1 ┆ ESTABLISHED ┆ python3 -… │"),
            "{narrow}"
        );
        let tiny = rendered(Some(20));
        assert!(!tiny.contains("CMD") && !tiny.contains("python"), "{tiny}");
        assert!(
            tiny.contains("127.0.0.1") && tiny.contains("ESTABLISHED"),
            "{tiny}"
        );
        let unbounded = rendered(None);
        assert!(unbounded.contains("--bind 127.0.0.1 │"), "{unbounded}");
    }
}
