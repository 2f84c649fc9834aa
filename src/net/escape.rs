//! The escapes of data given on the command line (`connect --send`, `probe --payload`):
//! `\r \n \t \0 \\ \xHH`. Showing bytes escaped is `output::escape`.

/// Turns `\r \n \t \0 \\ \xHH` into bytes; everything else is taken as UTF-8 text. Any
/// other backslash sequence is an error, so that a typo does not silently send something else.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut utf8 = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => bytes.push(b'\r'),
            Some('n') => bytes.push(b'\n'),
            Some('t') => bytes.push(b'\t'),
            Some('0') => bytes.push(0),
            Some('\\') => bytes.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = (hex.len() == 2)
                    .then(|| u8::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("'\\x{hex}' is not a \\xHH escape (two hex digits)"))?;
                bytes.push(byte);
            }
            Some(other) => {
                return Err(format!(
                    "unknown escape '\\{other}' (known: \\r \\n \\t \\0 \\\\ \\xHH)"
                ));
            }
            None => return Err("a lone '\\' ends the text".to_string()),
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::escape::escape_bytes;
    use proptest::prelude::*;

    #[test]
    fn payload_escapes() {
        assert_eq!(unescape("a\\r\\n\\t\\0\\\\"), Ok(b"a\r\n\t\0\\".to_vec()));
        assert_eq!(unescape("\\x00\\xff"), Ok(vec![0, 255]));
        assert_eq!(unescape("é"), Ok("é".as_bytes().to_vec()));
        assert!(unescape("\\x0").is_err());
        assert!(unescape("\\xzz").is_err());
        assert!(unescape("\\q").is_err());
        assert!(unescape("end\\").is_err());
    }

    #[test]
    fn send_escapes() {
        assert_eq!(
            unescape(r"GET / HTTP/1.0\r\n\r\n").unwrap(),
            b"GET / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(unescape(r"a\tb\0c\\d").unwrap(), b"a\tb\0c\\d");
        assert_eq!(unescape(r"\x00\xff\x41\xfE").unwrap(), [0, 255, b'A', 254]);
        for bad in [r"\q", r"\x4", r"\xzz", "trailing\\", r"\x"] {
            assert!(unescape(bad).is_err(), "{bad} was accepted");
        }
    }

    proptest! {
        #[test]
        fn escaping_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let text = escape_bytes(&bytes);
            prop_assert!(text.bytes().all(|b| (0x20..=0x7e).contains(&b)));
            prop_assert_eq!(unescape(&text), Ok(bytes));
        }
    }
}
