//! Load client for tests/bench/keepopen.sh: N concurrent TCP clients, each sends BYTES of a
//! pattern of its own and reads them back, checking every byte as it arrives.
//!
//! Usage: echo_client ADDR CLIENTS BYTES
//! Prints one line: `clients=N ok=N failed=N bytes_verified=N elapsed_s=F mib_per_s=F`.
//! Exit status 0 only when every client got every byte back unchanged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Large enough that every client's window into it is distinct.
const PATTERN: usize = 1 << 21;
const PIECE: usize = 64 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: echo_client ADDR CLIENTS BYTES");
        std::process::exit(2)
    };
    if args.len() != 4 {
        usage();
    }
    let addr: SocketAddr = args[1].parse().unwrap_or_else(|_| usage());
    let clients: usize = args[2].parse().unwrap_or_else(|_| usage());
    let bytes: usize = args[3].parse().unwrap_or_else(|_| usage());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let code = runtime.block_on(run(addr, clients, bytes));
    std::process::exit(code);
}

async fn run(addr: SocketAddr, clients: usize, bytes: usize) -> i32 {
    // A pseudo-random pattern (xorshift), so that misplaced bytes are caught.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let pattern: Arc<[u8]> = (0..PATTERN)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let verified = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|id| {
            let pattern = Arc::clone(&pattern);
            let verified = Arc::clone(&verified);
            tokio::spawn(async move { client(addr, id, bytes, pattern, verified).await })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                failed += 1;
                if failed <= 5 {
                    eprintln!("client failed: {err}");
                }
            }
            Err(err) => {
                failed += 1;
                eprintln!("client panicked: {err}");
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = verified.load(Ordering::Relaxed);
    println!(
        "clients={clients} ok={} failed={failed} bytes_verified={total} elapsed_s={elapsed:.3} mib_per_s={:.1}",
        clients - failed,
        // Both directions crossed the listener.
        2.0 * total as f64 / elapsed / (1024.0 * 1024.0)
    );
    i32::from(failed > 0 || total != (clients * bytes) as u64)
}

async fn client(
    addr: SocketAddr,
    id: usize,
    bytes: usize,
    pattern: Arc<[u8]>,
    verified: Arc<AtomicU64>,
) -> Result<(), String> {
    let offset = (id * 7919) % (PATTERN - PIECE);
    let mut attempt = 0;
    let stream = loop {
        match TcpStream::connect(addr).await {
            Ok(stream) => break stream,
            Err(err) if attempt < 50 => {
                attempt += 1;
                let _ = err;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            Err(err) => return Err(format!("client {id}: connect: {err}")),
        }
    };
    let (mut reader, mut writer) = stream.into_split();
    let source = Arc::clone(&pattern);
    let send = tokio::spawn(async move {
        let mut sent = 0;
        while sent < bytes {
            let n = PIECE.min(bytes - sent);
            let at = offset + sent % PIECE;
            writer.write_all(&source[at..at + n]).await?;
            sent += n;
        }
        writer.shutdown().await
    });
    let mut buffer = vec![0u8; 16 * 1024];
    let mut received = 0usize;
    loop {
        let n = reader
            .read(&mut buffer)
            .await
            .map_err(|err| format!("client {id}: read: {err}"))?;
        if n == 0 {
            break;
        }
        for (i, byte) in buffer[..n].iter().enumerate() {
            let position = received + i;
            if position >= bytes || *byte != pattern[offset + position % PIECE] {
                return Err(format!("client {id}: wrong byte at offset {position}"));
            }
        }
        received += n;
        verified.fetch_add(n as u64, Ordering::Relaxed);
    }
    send.await
        .map_err(|err| format!("client {id}: sender: {err}"))?
        .map_err(|err| format!("client {id}: write: {err}"))?;
    if received != bytes {
        return Err(format!(
            "client {id}: {received} of {bytes} bytes came back"
        ));
    }
    Ok(())
}
