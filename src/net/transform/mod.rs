//! What one direction of a session does to the data on its way: `--crlf` (line endings from
//! stdin go out as CRLF) and `--hex` (a dump on stderr with that direction's offsets).
//!
//! Every data path applies it in one place, [`Transform::pass`]: translate the chunk, hand it
//! to the write, and dump what was written. The relay's directions, `-u` in connect and
//! listen, and `-k`'s stdin broadcast all go through it, so that a chunk boundary never
//! changes what is sent (the CR/LF state carries over) and every dump's offsets count the
//! bytes that really went out.

mod crlf;
mod hexdump;

use crlf::CrlfTranslator;
pub use hexdump::Flow;
use hexdump::HexDumper;

/// The transformation of one direction, with its state across chunks.
#[derive(Debug)]
pub struct Transform {
    flow: Flow,
    crlf: Option<CrlfTranslator>,
    hex: Option<HexDumper>,
    translated: Vec<u8>,
}

impl Transform {
    /// The transformation for `flow`: CRLF translation when `crlf`, a dump when `hex`.
    pub fn new(flow: Flow, crlf: bool, hex: bool) -> Transform {
        Transform {
            flow,
            crlf: crlf.then(CrlfTranslator::new),
            hex: hex.then(|| HexDumper::new(flow)),
            translated: Vec::new(),
        }
    }

    /// The direction this transformation is for.
    pub fn flow(&self) -> Flow {
        self.flow
    }

    /// True when the data passes unchanged and unseen: zero-copy paths may take it.
    pub fn is_identity(&self) -> bool {
        self.crlf.is_none() && self.hex.is_none()
    }

    /// The bytes `chunk` becomes (translated, not dumped): the size a datagram will have.
    pub fn translate<'a>(&'a mut self, chunk: &'a [u8]) -> &'a [u8] {
        translate(self.crlf.as_mut(), &mut self.translated, chunk)
    }

    /// Passes `chunk` through: `write` gets the translated bytes, and what it wrote is dumped
    /// once it succeeded. A dump that cannot be written (stderr gone) does not stop the data.
    pub fn pass<T, E>(
        &mut self,
        chunk: &[u8],
        write: impl FnOnce(&[u8]) -> Result<T, E>,
    ) -> Result<T, E> {
        let Transform {
            flow: _,
            crlf,
            hex,
            translated,
        } = self;
        let data = translate(crlf.as_mut(), translated, chunk);
        let written = write(data)?;
        if let Some(hex) = hex.as_mut() {
            let _ = hex.dump(data);
        }
        Ok(written)
    }
}

impl Transform {
    /// Records `chunk` as having gone this way unchanged (dumped with `--hex`): for the served
    /// modes' async paths, whose writes cannot run inside [`Transform::pass`] and which never
    /// translate (only stdin's data is `--crlf`'s).
    pub fn observe(&mut self, chunk: &[u8]) {
        debug_assert!(self.crlf.is_none(), "observe() never translates");
        if let Some(hex) = self.hex.as_mut() {
            let _ = hex.dump(chunk);
        }
    }
}

/// `chunk` through `crlf` (into `buffer`), or `chunk` itself without it.
fn translate<'a>(
    crlf: Option<&mut CrlfTranslator>,
    buffer: &'a mut Vec<u8>,
    chunk: &'a [u8],
) -> &'a [u8] {
    match crlf {
        Some(crlf) => {
            buffer.clear();
            crlf.translate(chunk, buffer);
            buffer
        }
        None => chunk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a direction sends when its input arrives in these chunks.
    fn sent(chunks: &[&[u8]], crlf: bool) -> Vec<u8> {
        let mut transform = Transform::new(Flow::Sent, crlf, false);
        let mut out = Vec::new();
        for chunk in chunks {
            transform
                .pass(chunk, |data| {
                    out.extend_from_slice(data);
                    Ok::<_, ()>(())
                })
                .unwrap();
        }
        out
    }

    #[test]
    fn without_crlf_the_bytes_pass_unchanged() {
        let data: Vec<u8> = (0..=255u8).collect();
        assert_eq!(sent(&[&data[..100], &data[100..]], false), data);
        assert!(Transform::new(Flow::Received, false, false).is_identity());
        assert!(!Transform::new(Flow::Received, false, true).is_identity());
    }

    #[test]
    fn a_cr_at_the_end_of_one_chunk_pairs_with_the_lf_that_starts_the_next() {
        assert_eq!(sent(&[b"a\r", b"\nb"], true), b"a\r\nb");
        assert_eq!(sent(&[b"a\r", b"\n", b"\n"], true), b"a\r\n\r\n");
    }

    #[test]
    fn an_lf_alone_in_a_chunk_becomes_crlf() {
        assert_eq!(sent(&[b"a", b"\n", b"b", b"\n"], true), b"a\r\nb\r\n");
        assert_eq!(sent(&[b"\n"], true), b"\r\n");
    }

    #[test]
    fn a_cr_followed_by_other_bytes_does_not_protect_a_later_lf() {
        assert_eq!(sent(&[b"\r", b"x", b"\n"], true), b"\rx\r\n");
        assert_eq!(sent(&[b"\r\r", b"\n"], true), b"\r\r\n");
    }

    #[test]
    fn every_split_of_the_input_sends_the_same_bytes() {
        let input = b"one\ntwo\r\nthree\r\r\n\n\rfour\n";
        let whole = sent(&[input], true);
        assert_eq!(whole, b"one\r\ntwo\r\nthree\r\r\n\r\n\rfour\r\n");
        for cut in 0..=input.len() {
            assert_eq!(
                sent(&[&input[..cut], &input[cut..]], true),
                whole,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_failed_write_keeps_its_error() {
        let mut transform = Transform::new(Flow::Sent, true, false);
        let failed: Result<(), &str> = transform.pass(b"x\n", |_| Err("gone"));
        assert_eq!(failed, Err("gone"));
    }

    #[test]
    fn translate_gives_the_size_on_the_wire() {
        let mut transform = Transform::new(Flow::Sent, true, false);
        assert_eq!(transform.translate(b"a\nb\n").len(), 6);
    }
}
