//! Result lines, as `probe` prints them: a few aligned columns (some coloured), then free
//! text (`127.0.0.1:22  open  syn-ack  0.12ms  SSH-2.0-…`), and summary blocks; or, with
//! `--json`, one object a line. Rows say what their cells are ([`Line`], [`Block`]); this
//! module decides how they are written.

use std::io::{self, Write};

use serde::Serialize;

use super::Colors;
use super::color::paint;

/// One aligned cell: its text and, optionally, the ANSI SGR colour it is shown in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The text (already terminal-safe).
    pub text: String,
    /// The colour on a terminal (`"32"`: green), if any.
    pub color: Option<&'static str>,
}

impl Cell {
    /// A cell without colour.
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            color: None,
        }
    }

    /// A cell shown in `color` on a terminal.
    pub fn colored(text: impl Into<String>, color: &'static str) -> Cell {
        Cell {
            text: text.into(),
            color: Some(color),
        }
    }
}

/// A row of result lines (and, being `Serialize`, a JSON object).
pub trait Line: Serialize {
    /// The aligned cells, in column order.
    fn cells(&self) -> Vec<Cell>;
    /// The words after the aligned cells, two spaces apart (already terminal-safe).
    fn tail(&self) -> Vec<String>;
}

/// A summary shown as a few lines of text (or, with `--json`, one object).
pub trait Block: Serialize {
    /// The text lines (already terminal-safe).
    fn lines(&self) -> Vec<String>;
}

/// Writes `block` as one JSON object, or as its text lines.
pub fn write_block<B: Block>(out: &mut dyn Write, block: &B, json: bool) -> io::Result<()> {
    if json {
        return super::json::write_line(out, block);
    }
    for line in block.lines() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Column widths that fit every row's cells.
pub fn widths<L: Line>(rows: &[L]) -> Vec<usize> {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (index, cell) in row.cells().iter().enumerate() {
            let width = cell.text.chars().count();
            match widths.get_mut(index) {
                Some(known) => *known = (*known).max(width),
                None => widths.push(width),
            }
        }
    }
    widths
}

/// Writes `rows` as JSON lines, or as text lines aligned on their widest cells.
pub fn write_all<L: Line>(
    out: &mut dyn Write,
    rows: &[L],
    json: bool,
    colors: Colors,
) -> io::Result<()> {
    if json {
        return super::json::write_lines(out, rows);
    }
    let widths = widths(rows);
    for row in rows {
        write_text(out, row, &widths, colors)?;
    }
    Ok(())
}

/// Writes one row as JSON, or as text with the given widths (a row streamed as it comes,
/// with widths fixed beforehand).
pub fn write_one<L: Line>(
    out: &mut dyn Write,
    row: &L,
    widths: &[usize],
    json: bool,
    colors: Colors,
) -> io::Result<()> {
    if json {
        super::json::write_line(out, row)
    } else {
        write_text(out, row, widths, colors)
    }
}

/// One text line: each cell padded to its width (the padding outside the colour), two
/// spaces between columns, then the tail; no trailing spaces.
fn write_text<L: Line>(
    out: &mut dyn Write,
    row: &L,
    widths: &[usize],
    colors: Colors,
) -> io::Result<()> {
    let mut line = String::new();
    for (index, cell) in row.cells().iter().enumerate() {
        let shown = match cell.color {
            Some(code) => paint(&cell.text, code, colors.stdout),
            None => cell.text.clone(),
        };
        line.push_str(&shown);
        let pad = widths
            .get(index)
            .map_or(0, |width| width.saturating_sub(cell.text.chars().count()));
        line.extend(std::iter::repeat_n(' ', pad + 2));
    }
    line.push_str(&row.tail().join("  "));
    writeln!(out, "{}", line.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row(&'static str, &'static str, &'static str);

    impl Line for Row {
        fn cells(&self) -> Vec<Cell> {
            vec![Cell::plain(self.0), Cell::colored(self.1, "32")]
        }
        fn tail(&self) -> Vec<String> {
            vec![self.2.to_string()]
        }
    }

    #[test]
    fn aligned_cells_then_the_tail() {
        let rows = [Row("a:1", "open", "1ms"), Row("bb:22", "x", "")];
        let mut out = Vec::new();
        write_all(&mut out, &rows, false, Colors::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a:1    open  1ms\nbb:22  x\n"
        );
        let mut out = Vec::new();
        let colors = Colors {
            stdout: true,
            stderr: false,
        };
        write_one(&mut out, &rows[1], &[5, 4], false, colors).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "bb:22  \x1b[32mx\x1b[0m\n");
        let mut out = Vec::new();
        write_all(&mut out, &rows[..1], true, colors).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[\"a:1\",\"open\",\"1ms\"]\n"
        );
    }
}
