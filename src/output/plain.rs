//! Plain aligned columns for pipes and files: no box drawing, no colour, nothing cut.

use std::io::{self, Write};

use super::Tabular;

/// Writes a header line and one line per row, columns padded to the widest cell (two spaces
/// apart); the last column is never padded.
pub fn write<R: Tabular>(out: &mut dyn Write, headers: &[&str], rows: &[R]) -> io::Result<()> {
    let lines: Vec<Vec<String>> = std::iter::once(headers.iter().map(|h| h.to_string()).collect())
        .chain(rows.iter().map(Tabular::cells))
        .collect();
    let mut widths = vec![0; headers.len()];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for line in &lines {
        text.clear();
        for (index, cell) in line.iter().enumerate() {
            if index + 1 == line.len() {
                text.push_str(cell);
            } else {
                let pad = widths[index] - cell.chars().count() + 2;
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
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
