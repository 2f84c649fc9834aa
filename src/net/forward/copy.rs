//! One direction of a forwarded connection through a user-space buffer: where a side is TLS
//! (its bytes exist only after decryption), where splice cannot be had (no descriptor for a
//! pipe, or not Linux), and with `--hex`, which must see the bytes.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{Broken, Way};
use crate::net::traffic::Traffic;
use crate::net::transform::Transform;

/// The buffer a direction starts with: enough for an interactive exchange, cheap for the
/// many connections that never carry much.
const FIRST_BUFFER: usize = 16 * 1024;

/// What a direction that streams grows its buffer to: a read that fills the buffer means the
/// input streams, and large reads and writes keep the system calls few (a TLS record is
/// 16 KiB; several are decrypted per read).
const LARGE_BUFFER: usize = 256 * 1024;

/// Copies `reader` to `writer` until `reader` ends, then shuts `writer` down (its peer reads
/// EOF; over TLS, close_notify first). `transform` sees every chunk written (`--hex`).
pub async fn copy<R, W>(
    mut reader: R,
    mut writer: W,
    way: Way,
    traffic: &Traffic,
    mut transform: Transform,
) -> Result<(), Broken>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = vec![0u8; FIRST_BUFFER];
    loop {
        let n = match reader.read(&mut buffer).await {
            Ok(0) => break,
            Ok(n) => n,
            // A TLS peer that closed without close_notify: the end of its data all the same.
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(Broken::Read(err)),
        };
        writer
            .write_all(&buffer[..n])
            .await
            .map_err(Broken::Write)?;
        transform.observe(&buffer[..n]);
        traffic.carried(way.flow(), n);
        if n == buffer.len() && buffer.len() < LARGE_BUFFER {
            buffer.resize(LARGE_BUFFER, 0);
        }
    }
    match writer.shutdown().await {
        // The other end is gone already: the reset (if any) shows on its own direction.
        Err(err) if err.kind() != io::ErrorKind::NotConnected => Err(Broken::Write(err)),
        _ => Ok(()),
    }
}
