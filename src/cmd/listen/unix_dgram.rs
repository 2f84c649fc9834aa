//! `listen -u unix:PATH` (or `unix:@NAME`): a Unix datagram socket, served by the datagram
//! mode of [`udp`](super::udp). Binding follows the stream socket's rules (a stale file is
//! replaced, a live one is "address in use", `--unix-mode`), and the file goes when sockx
//! ends, Ctrl-C included.

use std::os::unix::net::UnixDatagram;

use super::{udp, unix};
use crate::cli::ListenArgs;
use crate::cmd::Context;
use crate::error::{Error, Status};
use crate::net::datagram::DatagramSocket;
use crate::net::endpoint::UnixAddr;
use crate::os::interrupt::Interrupt;
use crate::output::notes;

/// Binds `addr`, prints `listening on unix:PATH (unix-dgram)` and serves until Ctrl-C (or `-w`).
pub fn run(addr: &UnixAddr, args: &ListenArgs, context: &Context) -> anyhow::Result<Status> {
    unix::check_socket_args(args, addr)?;
    if args.exec.is_some() || args.sh_exec.is_some() {
        return Err(Error::usage("-u cannot go with --exec or --sh-exec")
            .with_hint("a command is run per stream connection; drop -u")
            .into());
    }
    // In place before the ready line and before any thread, as for UDP.
    let interrupt = Interrupt::install()?;
    let (socket, file) = unix::bind_with(addr, args.unix_mode, UnixDatagram::bind_addr)?;
    notes::ready(format_args!("listening on {addr} (unix-dgram)"));
    let outcome = udp::run(DatagramSocket::Unix(socket), args, context, &interrupt);
    // Every way out of the mode comes back here: the file goes with it.
    drop(file);
    outcome
}
