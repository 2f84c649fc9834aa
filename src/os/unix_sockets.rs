//! The Unix-domain socket table: every AF_UNIX socket with its name, the file it is bound
//! to, its peer and, once [`attach_owners`] ran, the processes holding it and its peer.
//!
//! Linux lists them through sock_diag (`os/linux/unix_diag.rs`) and finds the owners with the
//! same `/proc/*/fd` scan as TCP and UDP sockets; elsewhere listing them is not supported.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;

use crate::net::SocketState;
use crate::os::sockets::OwnerLookup;

/// The socket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnixKind {
    /// `SOCK_STREAM`: `unix`.
    Stream,
    /// `SOCK_DGRAM`: `unix-dgram`.
    Dgram,
    /// `SOCK_SEQPACKET`: `unix-seq`.
    SeqPacket,
}

impl UnixKind {
    /// The contract's `proto` name.
    pub fn as_str(self) -> &'static str {
        match self {
            UnixKind::Stream => "unix",
            UnixKind::Dgram => "unix-dgram",
            UnixKind::SeqPacket => "unix-seq",
        }
    }
}

/// The address a socket is bound to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnixName {
    /// A file system path, as given to `bind()` (it may be relative to the binder's directory).
    Path(OsString),
    /// An abstract name (Linux), without its leading NUL.
    Abstract(Vec<u8>),
}

impl UnixName {
    /// The name in a `sun_path`: none when empty (an unnamed socket), abstract when it starts
    /// with a NUL, else a path ending at the first NUL.
    pub fn from_sun_path(bytes: &[u8]) -> Option<UnixName> {
        use std::os::unix::ffi::OsStringExt as _;
        match bytes.split_first() {
            None => None,
            Some((0, name)) => Some(UnixName::Abstract(name.to_vec())),
            Some(_) => {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                Some(UnixName::Path(OsString::from_vec(bytes[..end].to_vec())))
            }
        }
    }

    /// The name's bytes as a user writes them: the path, or `@` and the abstract name.
    pub fn display_bytes(&self) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt as _;
        match self {
            UnixName::Path(path) => path.as_bytes().to_vec(),
            UnixName::Abstract(name) => {
                let mut text = vec![b'@'];
                text.extend_from_slice(name);
                text
            }
        }
    }
}

/// One Unix-domain socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSocket {
    /// Stream, datagram or seqpacket.
    pub kind: UnixKind,
    /// `Listen`, `Established`, `Unconn` (an unconnected datagram socket) or `Close` (a
    /// stream socket neither listening nor connected).
    pub state: SocketState,
    /// The socket's inode.
    pub inode: u64,
    /// Its name; `None` when unnamed. An accepted connection carries its listener's name.
    pub name: Option<UnixName>,
    /// The socket file it is bound to, as (kernel device number, inode).
    pub file: Option<(u32, u64)>,
    /// The inode of the socket on the other end, when connected.
    pub peer: Option<u64>,
    /// The UID owning the socket, where the kernel tells (Linux 5.3+).
    pub uid: Option<u32>,
    /// The processes holding it, ascending; empty until found or when unknown.
    pub pids: Vec<u32>,
}

impl UnixSocket {
    /// Whether it waits for peers: a listening stream or seqpacket socket, or a bound,
    /// unconnected datagram socket.
    pub fn is_listening(&self) -> bool {
        match self.state {
            SocketState::Listen => true,
            SocketState::Unconn => self.name.is_some(),
            _ => false,
        }
    }
}

/// A socket as a user names it (a path or an abstract name), to be found in the table.
#[derive(Debug, Clone)]
pub struct NamedSocket {
    name: UnixName,
    /// The socket file, when it exists: matched by device and inode, so that `./app.sock`
    /// finds a socket bound as `/srv/app/app.sock` and the other way round.
    file: Option<(u32, u64)>,
}

impl NamedSocket {
    /// `name`, with its file looked up now.
    pub fn new(name: UnixName) -> NamedSocket {
        use std::os::unix::fs::MetadataExt as _;
        let file = match &name {
            UnixName::Path(path) => std::fs::metadata(path)
                .ok()
                .map(|meta| (kernel_dev(meta.dev()), meta.ino())),
            UnixName::Abstract(_) => None,
        };
        NamedSocket { name, file }
    }

    /// Whether `socket` is bound to this name (an accepted connection carries its
    /// listener's name too).
    pub fn names(&self, socket: &UnixSocket) -> bool {
        (self.file.is_some() && socket.file == self.file)
            || socket.name.as_ref() == Some(&self.name)
    }
}

/// The Unix-domain sockets, without owners: every one, or with `unconnected_only` only the
/// listening and unconnected ones (what the default view shows).
pub fn list_unix_sockets(unconnected_only: bool) -> io::Result<Vec<UnixSocket>> {
    platform::list(unconnected_only)
}

/// The holders of every socket whose inode is in `inodes` (0 is never one), by inode; all
/// processes are read, or only `only_pid`. The scan is the one TCP and UDP sockets use.
pub fn owners_by_inode(
    inodes: &[u64],
    only_pid: Option<u32>,
) -> (HashMap<u64, Vec<u32>>, OwnerLookup) {
    platform::owners(inodes, only_pid)
}

/// The kernel's device number for a file's `st_dev` (what `UNIX_DIAG_VFS` reports):
/// `MAJOR << 20 | MINOR`.
pub fn kernel_dev(st_dev: u64) -> u32 {
    let major = ((st_dev >> 8) & 0xfff) | ((st_dev >> 32) & !0xfff);
    let minor = (st_dev & 0xff) | ((st_dev >> 12) & !0xff);
    ((major << 20) | (minor & 0xf_ffff)) as u32
}

#[cfg(target_os = "linux")]
mod platform {
    use super::*;
    use crate::os::linux::{proc_fd, unix_diag};

    pub fn list(unconnected_only: bool) -> io::Result<Vec<UnixSocket>> {
        unix_diag::unix_sockets(unconnected_only)
    }

    pub fn owners(inodes: &[u64], only_pid: Option<u32>) -> (HashMap<u64, Vec<u32>>, OwnerLookup) {
        let scan = proc_fd::owners_by_inode(inodes, only_pid);
        (
            scan.owners,
            OwnerLookup {
                denied_processes: scan.denied,
            },
        )
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use super::*;

    pub fn list(_unconnected_only: bool) -> io::Result<Vec<UnixSocket>> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    pub fn owners(
        _inodes: &[u64],
        _only_pid: Option<u32>,
    ) -> (HashMap<u64, Vec<u32>>, OwnerLookup) {
        (HashMap::new(), OwnerLookup::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_sun_path() {
        assert_eq!(UnixName::from_sun_path(b""), None);
        assert_eq!(
            UnixName::from_sun_path(b"\0abc\0"),
            Some(UnixName::Abstract(b"abc\0".to_vec()))
        );
        assert_eq!(
            UnixName::from_sun_path(b"/run/x.sock\0"),
            Some(UnixName::Path("/run/x.sock".into()))
        );
        assert_eq!(
            UnixName::Abstract(b"n".to_vec()).display_bytes(),
            b"@n".to_vec()
        );
    }

    #[test]
    fn device_numbers_in_the_kernels_form() {
        // 8:1 (sda1) is 0x801 for stat and 0x800001 inside the kernel; 259:3 (nvme) is
        // 0x10303; minor 300 spills above the major in stat's form.
        assert_eq!(kernel_dev(0x801), 0x80_0001);
        assert_eq!(kernel_dev(0x1_0303), (259 << 20) | 3);
        assert_eq!(kernel_dev((1 << 20) | (8 << 8) | 0x2c), (8 << 20) | 300);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn our_listener_is_bound_to_the_file_we_stat() {
        use std::os::unix::fs::MetadataExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let sockets = list_unix_sockets(true).unwrap();
        let ours = sockets
            .iter()
            .find(|s| s.file == Some((kernel_dev(meta.dev()), meta.ino())))
            .unwrap();
        assert_eq!(ours.name, Some(UnixName::Path(path.into_os_string())));
        let (owners, _) = owners_by_inode(&[ours.inode], None);
        assert_eq!(owners.get(&ours.inode), Some(&vec![std::process::id()]));
    }
}
