//! Plain aligned columns for pipes and files: no box drawing, nothing cut, and no colour
//! unless asked for (`--color always`: a bold header line).

use std::io::{self, Write};

use super::color::paint;
use super::{Colors, Tabular};

/// SGR bold, for the header line.
const BOLD: &str = "1";

/// Writes a header line and one line per row, columns padded to the widest cell (two spaces
/// apart); the last column is never padded. Two passes over the rows (widths, then lines), so
/// that only one row's cells are held at a time however many rows there are.
pub fn write<R: Tabular>(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[R],
    colors: Colors,
) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row.cells()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    if colors.stdout {
        let mut header = Vec::new();
        write_line(&mut header, &mut text, &widths, headers)?;
        let header = String::from_utf8_lossy(&header);
        writeln!(out, "{}", paint(header.trim_end_matches('\n'), BOLD, true))?;
    } else {
        write_line(out, &mut text, &widths, headers)?;
    }
    for row in rows {
        write_line(out, &mut text, &widths, &row.cells())?;
    }
    Ok(())
}

/// One line of cells, padded to `widths`, trailing spaces trimmed.
fn write_line<S: AsRef<str>>(
    out: &mut dyn Write,
    text: &mut String,
    widths: &[usize],
    line: &[S],
) -> io::Result<()> {
    text.clear();
    for (index, cell) in line.iter().enumerate() {
        let cell = cell.as_ref();
        text.push_str(cell);
        if index + 1 < line.len() {
            let pad = widths[index] - cell.chars().count() + 2;
            text.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Row(&'static str, &'static str);

    impl Tabular for Row {
        fn cells(&self) -> Vec<String> {
            vec![self.0.to_string(), self.1.to_string()]
        }
    }

    #[test]
    fn aligned_without_boxes() {
        let mut out = Vec::new();
        let rows = [Row("tcp", "a b"), Row("udp6x", "c")];
        write(&mut out, &["PROTO", "CMD"], &rows, Colors::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "PROTO  CMD\ntcp    a b\nudp6x  c\n"
        );
    }

    #[test]
    fn forced_colour_makes_the_header_bold() {
        let mut out = Vec::new();
        let colors = Colors {
            stdout: true,
            stderr: false,
        };
        write(&mut out, &["PROTO", "CMD"], &[Row("tcp", "a b")], colors).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b[1mPROTO  CMD\x1b[0m\ntcp    a b\n"
        );
    }
}
