//! `--crlf`: line endings from stdin go out as CRLF.

/// Turns every bare LF into CRLF, across chunk boundaries: an LF already preceded by CR
/// (possibly at the end of the previous chunk) is left alone.
#[derive(Debug, Default, Clone)]
pub struct CrlfTranslator {
    last_was_cr: bool,
}

impl CrlfTranslator {
    /// A translator at the start of a stream.
    pub fn new() -> CrlfTranslator {
        CrlfTranslator::default()
    }

    /// Appends the translation of `input` to `output`.
    pub fn translate(&mut self, input: &[u8], output: &mut Vec<u8>) {
        output.reserve(input.len() + input.len() / 8);
        for &byte in input {
            if byte == b'\n' && !self.last_was_cr {
                output.push(b'\r');
            }
            output.push(byte);
            self.last_was_cr = byte == b'\r';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> Vec<u8> {
        let mut translator = CrlfTranslator::new();
        let mut out = Vec::new();
        for chunk in chunks {
            translator.translate(chunk, &mut out);
        }
        out
    }

    #[test]
    fn bare_lf_becomes_crlf() {
        assert_eq!(run(&[b"a\nb\n"]), b"a\r\nb\r\n");
        assert_eq!(run(&[b"\n\n"]), b"\r\n\r\n");
    }

    #[test]
    fn existing_crlf_is_kept_even_across_chunks() {
        assert_eq!(run(&[b"a\r\n"]), b"a\r\n");
        assert_eq!(run(&[b"a\r", b"\nb"]), b"a\r\nb");
        assert_eq!(run(&[b"\r", b"x\n"]), b"\rx\r\n");
    }

    #[test]
    fn binary_without_lf_is_unchanged() {
        let data: Vec<u8> = (0..=255u8).filter(|&b| b != b'\n').collect();
        assert_eq!(run(&[&data]), data);
    }
}
