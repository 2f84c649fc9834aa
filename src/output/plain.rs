//! Plain aligned columns for pipes and files: no box drawing, no colour, nothing cut.

use std::io::{self, Write};

use super::Tabular;

/// Writes a header line and one line per row, columns padded to the widest cell (two spaces
/// apart); the last column is never padded. Two passes over the rows (widths, then lines), so
/// that only one row's cells are held at a time however many rows there are.
pub fn write<R: Tabular>(out: &mut dyn Write, headers: &[&str], rows: &[R]) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row.cells()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    write_line(out, &mut text, &widths, headers)?;
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
        write(
            &mut out,
            &["PROTO", "CMD"],
            &[Row("tcp", "a b"), Row("udp6x", "c")],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "PROTO  CMD\ntcp    a b\nudp6x  c\n"
        );
    }
}
