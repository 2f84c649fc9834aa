//! A finished client session over a non-blocking socket as one `Read + Write`: plaintext in
//! and out, TLS records to and from the socket, `WouldBlock` when the socket has nothing yet.
//! The probe's application checks (`--tls --http`) talk through it.

use std::io::{self, Read, Write};

use rustls::ClientConnection;

/// The session `conn` on the socket `sock`.
#[derive(Debug)]
pub struct TlsIo<'a, S> {
    /// The TLS session.
    pub conn: &'a mut ClientConnection,
    /// The socket under it.
    pub sock: &'a mut S,
}

impl<S: Read + Write> TlsIo<'_, S> {
    /// Writes out the records rustls holds, as far as the socket takes them.
    fn flush_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(self.sock) {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// Records are waiting for the socket to become writable.
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }
}

impl<S: Read + Write> Read for TlsIo<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.flush_records()?;
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                // The peer closed without close_notify: for a reply that ends with the
                // connection (HTTP's `Connection: close`), that is the end all the same.
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
            match self.conn.read_tls(self.sock) {
                Ok(_) => {
                    self.conn
                        .process_new_packets()
                        .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

impl<S: Read + Write> Write for TlsIo<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.conn.writer().write(buf)?;
        self.flush_records()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_records()
    }
}
