//! `--send DATA` escapes: `\r \n \t \0 \\ \xHH`.

/// The bytes `text` stands for. Any other backslash sequence is an error, so that a typo
/// does not silently send something else.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        if byte != b'\\' {
            out.push(byte);
            continue;
        }
        match bytes.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let high = bytes.next();
                let low = bytes.next();
                let value = match (high, low) {
                    (Some(h), Some(l)) => hex_digit(h).zip(hex_digit(l)).map(|(h, l)| h * 16 + l),
                    _ => None,
                };
                out.push(value.ok_or_else(|| {
                    format!("invalid escape in '{text}': \\x needs two hex digits")
                })?);
            }
            Some(other) => {
                return Err(format!(
                    "invalid escape '\\{}' in '{text}' (known: \\r \\n \\t \\0 \\\\ \\xHH)",
                    char::from(other)
                ));
            }
            None => return Err(format!("'{text}' ends with a lone backslash")),
        }
    }
    Ok(out)
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_escape() {
        assert_eq!(
            unescape(r"GET / HTTP/1.0\r\n\r\n").unwrap(),
            b"GET / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(unescape(r"a\tb\0c\\d").unwrap(), b"a\tb\0c\\d");
        assert_eq!(unescape(r"\x00\xff\x41\xfE").unwrap(), [0, 255, b'A', 254]);
        assert_eq!(unescape("héllo").unwrap(), "héllo".as_bytes());
    }

    #[test]
    fn bad_escapes_are_errors() {
        for bad in [r"\q", r"\x4", r"\xzz", "trailing\\", r"\x"] {
            assert!(unescape(bad).is_err(), "{bad} was accepted");
        }
    }
}
