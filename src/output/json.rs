//! JSON lines: one object per row, UTF-8, no colour.

use std::io::{self, Write};

use serde::Serialize;

/// Writes each item as one JSON object on its own line.
pub fn write_lines<T: Serialize>(out: &mut dyn Write, items: &[T]) -> io::Result<()> {
    for item in items {
        write_line(out, item)?;
    }
    Ok(())
}

/// Writes one JSON object and a newline.
pub fn write_line<T: Serialize>(out: &mut dyn Write, item: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, item)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        port: u16,
        name: Option<&'static str>,
    }

    #[test]
    fn one_object_per_line() {
        let mut out = Vec::new();
        let rows = [
            Row {
                port: 1,
                name: Some("a"),
            },
            Row {
                port: 2,
                name: None,
            },
        ];
        write_lines(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"port\":1,\"name\":\"a\"}\n{\"port\":2,\"name\":null}\n"
        );
    }
}
