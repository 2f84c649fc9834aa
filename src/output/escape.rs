//! Terminal safety: text from the network, from other processes or from arguments is shown
//! escaped, so that no raw control character reaches a terminal, and cut to a readable length
//! where it is quoted in an error.

use std::fmt::Write as _;

/// How many characters of an argument an error line quotes before it cuts.
pub const QUOTE_LIMIT: usize = 80;

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
            _ => {
                let _ = write!(text, "\\x{byte:02x}");
            }
        }
    }
    text
}

/// `text` with every control character escaped (`\n`, `\r`, `\t`, `\e`, `\xHH`, `\u{…}` for
/// C1 and other invisible format characters); printable Unicode stays as it is.
pub fn escape_text(text: &str) -> String {
    // Printable ASCII needs nothing: the common case (a command line, a user name) is one copy.
    if text.bytes().all(|byte| (0x20..0x7f).contains(&byte)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x1b' => out.push_str("\\e"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            // C1 controls, bidi overrides and other format characters can move the cursor or
            // reorder what a reader sees.
            c if (0x80..0xa0).contains(&(c as u32))
                || matches!(c as u32, 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069) =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// An argument as an error quotes it: escaped, and cut after [`QUOTE_LIMIT`] characters with
/// `…` and the full length, so that a 128 KiB argument does not fill the terminal.
pub fn quote_arg(text: &str) -> String {
    let escaped = escape_text(text);
    let count = escaped.chars().count();
    if count <= QUOTE_LIMIT {
        return escaped;
    }
    let head: String = escaped.chars().take(QUOTE_LIMIT).collect();
    format!("{head}… ({} bytes)", text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn banners_are_printable() {
        assert_eq!(
            escape_bytes(b"SSH-2.0-x\r\n\x00\xff\\"),
            "SSH-2.0-x\\r\\n\\x00\\xff\\\\"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_text("evil\nname\x1b[2J\x07"),
            "evil\\nname\\e[2J\\x07"
        );
        assert_eq!(escape_text("caf\u{e9} \u{202e}x"), "caf\u{e9} \\u{202e}x");
        assert_eq!(escape_text("\u{9b}"), "\\u{9b}");
    }

    #[test]
    fn long_arguments_are_cut() {
        let long = "a".repeat(128 * 1024);
        let quoted = quote_arg(&long);
        assert!(quoted.chars().count() < QUOTE_LIMIT + 30, "{quoted}");
        assert!(quoted.ends_with("… (131072 bytes)"), "{quoted}");
        assert_eq!(quote_arg("short"), "short");
    }

    proptest! {
        #[test]
        fn no_control_character_survives(text in ".*") {
            let escaped = escape_text(&text);
            prop_assert!(!escaped.chars().any(|c| c.is_control()));
        }
    }
}
