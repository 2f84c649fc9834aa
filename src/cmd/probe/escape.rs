//! Escapes both ways: `--payload` text to bytes, and banner bytes to printable text.

/// Turns `\r \n \t \0 \\ \xHH` into bytes; everything else is taken as UTF-8 text.
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
            Some(other) => return Err(format!("unknown escape '\\{other}'")),
            None => return Err("a lone '\\' ends the text".to_string()),
        }
    }
    Ok(bytes)
}

/// Shows bytes as printable ASCII: `\r \n \t \\` and `\xHH` for everything else.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &byte in bytes {
        match byte {
            b'\r' => text.push_str("\\r"),
            b'\n' => text.push_str("\\n"),
            b'\t' => text.push_str("\\t"),
            b'\\' => text.push_str("\\\\"),
            0x20..=0x7e => text.push(char::from(byte)),
            _ => text.push_str(&format!("\\x{byte:02x}")),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn banners_are_printable() {
        assert_eq!(
            escape_bytes(b"SSH-2.0-x\r\n\x00\xff\\"),
            "SSH-2.0-x\\r\\n\\x00\\xff\\\\"
        );
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
