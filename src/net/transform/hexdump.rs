//! `--hex`: a hex dump of the traffic on stderr, one block per chunk, each marked with its
//! direction, its offset within that direction, and a timestamp.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::SystemTime;

/// Which way a chunk travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// From us to the peer.
    Sent,
    /// From the peer to us.
    Received,
}

impl Flow {
    fn marker(self) -> &'static str {
        match self {
            Flow::Sent => "> sent",
            Flow::Received => "< received",
        }
    }
}

/// Dumps the chunks of one direction, keeping that direction's offset.
#[derive(Debug, Clone)]
pub struct HexDumper {
    flow: Flow,
    offset: u64,
}

impl HexDumper {
    /// A dumper for `flow`, starting at offset 0.
    pub fn new(flow: Flow) -> HexDumper {
        HexDumper { flow, offset: 0 }
    }

    /// Writes the block for `chunk` to stderr in one write, so that blocks of the two
    /// directions never interleave.
    pub fn dump(&mut self, chunk: &[u8]) -> io::Result<()> {
        let block = self.format(chunk, SystemTime::now());
        io::stderr().lock().write_all(block.as_bytes())
    }

    /// The text of the block for `chunk` (advances the offset).
    pub fn format(&mut self, chunk: &[u8], at: SystemTime) -> String {
        let mut text = String::with_capacity(80 + chunk.len() * 4);
        let _ = writeln!(
            text,
            "{} {} bytes at offset {} ({})",
            self.flow.marker(),
            chunk.len(),
            self.offset,
            humantime::format_rfc3339_millis(at)
        );
        for (index, line) in chunk.chunks(16).enumerate() {
            let _ = write!(text, "  {:08x} ", self.offset + index as u64 * 16);
            for column in 0..16 {
                if column == 8 {
                    text.push(' ');
                }
                match line.get(column) {
                    Some(byte) => {
                        let _ = write!(text, " {byte:02x}");
                    }
                    None => text.push_str("   "),
                }
            }
            text.push_str("  |");
            text.extend(line.iter().map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            }));
            text.push_str("|\n");
        }
        self.offset += chunk.len() as u64;
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn blocks_carry_direction_offset_and_time() {
        let at = UNIX_EPOCH + Duration::from_millis(1_500);
        let mut dumper = HexDumper::new(Flow::Sent);
        let first = dumper.format(b"GET / HTTP/1.0\r\n\r\n", at);
        assert_eq!(
            first,
            "> sent 18 bytes at offset 0 (1970-01-01T00:00:01.500Z)\n  \
             00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 30 0d 0a  |GET / HTTP/1.0..|\n  \
             00000010  0d 0a                                             |..|\n"
        );
        let second = dumper.format(b"x", at);
        assert!(
            second.starts_with("> sent 1 bytes at offset 18 "),
            "{second}"
        );
        assert!(second.contains("  00000012  78 "), "{second}");
    }

    #[test]
    fn received_is_marked() {
        let mut dumper = HexDumper::new(Flow::Received);
        let text = dumper.format(&[0, 255], SystemTime::now());
        assert!(text.starts_with("< received 2 bytes at offset 0 "));
        assert!(text.contains(" 00 ff "));
    }
}
