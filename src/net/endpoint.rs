//! What a user names as a peer or a place to listen: a TCP or UDP host and port, or a Unix
//! socket (a path or a Linux abstract name, stream or datagram), parsed once from the
//! contract's argument forms.
//!
//! A Unix address is `unix:PATH`, `unix:@NAME` (abstract), or any argument containing a `/`
//! (`./app.sock`, `/run/docker.sock`); with `-U`/`--unix` the argument is read as a path
//! whatever it looks like (as nc does). With `-u` a Unix address is a datagram socket.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::addr::{BindSpec, HostPort};
use crate::output::escape::{escape_text, quote_arg};

/// The room in `sockaddr_un.sun_path` (108 bytes on Linux): a path needs one more for its NUL,
/// an abstract name one more for its leading NUL.
const SUN_PATH_ROOM: usize = 108;

/// A Unix socket's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnixAddr {
    /// A socket file.
    Path(PathBuf),
    /// A name in Linux's abstract namespace (`unix:@NAME`), without the leading NUL.
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// Reads `word` as a Unix address when it is written as one (`unix:…`, or containing a
    /// `/`), or always when `forced` (`-U`). `None`: it is not a Unix address.
    pub fn parse(word: &str, forced: bool) -> Option<Result<UnixAddr, String>> {
        if let Some(rest) = word.strip_prefix("unix:") {
            return Some(match rest.strip_prefix('@') {
                Some(name) => UnixAddr::abstract_name(name),
                None => UnixAddr::path(rest),
            });
        }
        (forced || word.contains('/')).then(|| UnixAddr::path(word))
    }

    fn path(text: &str) -> Result<UnixAddr, String> {
        if text.is_empty() {
            return Err("'unix:' needs a path (unix:PATH) or a name (unix:@NAME)".to_string());
        }
        if text.len() >= SUN_PATH_ROOM {
            return Err(format!(
                "the socket path '{}' is {} bytes long; a Unix socket path has at most {}",
                quote_arg(text),
                text.len(),
                SUN_PATH_ROOM - 1
            ));
        }
        Ok(UnixAddr::Path(PathBuf::from(text)))
    }

    fn abstract_name(name: &str) -> Result<UnixAddr, String> {
        if name.is_empty() {
            return Err("'unix:@' needs a name (unix:@NAME)".to_string());
        }
        if name.len() >= SUN_PATH_ROOM {
            return Err(format!(
                "the abstract name '{}' is {} bytes long; at most {} fit",
                quote_arg(name),
                name.len(),
                SUN_PATH_ROOM - 1
            ));
        }
        Ok(UnixAddr::Abstract(name.as_bytes().to_vec()))
    }

    /// The socket file, for a path address.
    pub fn file(&self) -> Option<&Path> {
        match self {
            UnixAddr::Path(path) => Some(path),
            UnixAddr::Abstract(_) => None,
        }
    }

    /// The address as the standard library takes it for `bind` and `connect`.
    pub fn to_socket_addr(&self) -> io::Result<std::os::unix::net::SocketAddr> {
        match self {
            UnixAddr::Path(path) => std::os::unix::net::SocketAddr::from_pathname(path),
            #[cfg(target_os = "linux")]
            UnixAddr::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name)
            }
            #[cfg(not(target_os = "linux"))]
            UnixAddr::Abstract(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "abstract Unix socket names exist only on Linux",
            )),
        }
    }
}

impl fmt::Display for UnixAddr {
    /// `unix:/run/app.sock`, `unix:@name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Escaped: the address is shown in the ready line, in -v lines and in errors.
            UnixAddr::Path(path) => write!(f, "unix:{}", escape_text(&path.to_string_lossy())),
            UnixAddr::Abstract(name) => {
                write!(f, "unix:@{}", escape_text(&String::from_utf8_lossy(name)))
            }
        }
    }
}

/// How the words are to be read: the transport flags of the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Transport {
    /// `-u`: UDP, or a Unix datagram socket.
    pub datagram: bool,
    /// `-U`: the argument is a Unix socket path.
    pub unix: bool,
}

/// The Unix address in `words`, when they name one; two words with one of them a Unix
/// address is a usage error.
fn unix_words(words: &[String], transport: Transport) -> Option<Result<UnixAddr, String>> {
    match words {
        [one] => UnixAddr::parse(one, transport.unix),
        _ if transport.unix => Some(Err("-U takes one socket path".to_string())),
        _ if words
            .iter()
            .any(|word| UnixAddr::parse(word, false).is_some()) =>
        {
            Some(Err(
                "a Unix address is one argument (unix:PATH, unix:@NAME or a path)".to_string(),
            ))
        }
        _ => None,
    }
}

/// A peer to connect to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A TCP host and port.
    Tcp(HostPort),
    /// A UDP host and port (`-u`).
    Udp(HostPort),
    /// A Unix stream socket.
    Unix(UnixAddr),
    /// A Unix datagram socket (`-u` with a Unix address).
    UnixDgram(UnixAddr),
}

impl Endpoint {
    /// Parses the peer from the command line's words: `HOST:PORT`, `[IPv6]:PORT`, `HOST PORT`,
    /// or a Unix address.
    pub fn from_words(words: &[String], transport: Transport) -> Result<Endpoint, String> {
        if let Some(unix) = unix_words(words, transport) {
            let unix = unix?;
            return Ok(if transport.datagram {
                Endpoint::UnixDgram(unix)
            } else {
                Endpoint::Unix(unix)
            });
        }
        let peer = HostPort::from_words(words)?;
        Ok(if transport.datagram {
            Endpoint::Udp(peer)
        } else {
            Endpoint::Tcp(peer)
        })
    }

    /// The address of a Unix peer.
    pub fn unix(&self) -> Option<&UnixAddr> {
        match self {
            Endpoint::Unix(addr) | Endpoint::UnixDgram(addr) => Some(addr),
            Endpoint::Tcp(_) | Endpoint::Udp(_) => None,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp(peer) | Endpoint::Udp(peer) => peer.fmt(f),
            Endpoint::Unix(addr) | Endpoint::UnixDgram(addr) => addr.fmt(f),
        }
    }
}

/// A place to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindEndpoint {
    /// A TCP address and port (0: any free port).
    Tcp(BindSpec),
    /// A UDP address and port (`-u`).
    Udp(BindSpec),
    /// A Unix stream socket.
    Unix(UnixAddr),
    /// A Unix datagram socket (`-u` with a Unix address).
    UnixDgram(UnixAddr),
}

impl BindEndpoint {
    /// Parses `[HOST:]PORT`, `[IPv6]:PORT`, `HOST PORT`, or a Unix address.
    pub fn from_words(words: &[String], transport: Transport) -> Result<BindEndpoint, String> {
        if let Some(unix) = unix_words(words, transport) {
            let unix = unix?;
            return Ok(if transport.datagram {
                BindEndpoint::UnixDgram(unix)
            } else {
                BindEndpoint::Unix(unix)
            });
        }
        let spec = BindSpec::from_words(words)?;
        Ok(if transport.datagram {
            BindEndpoint::Udp(spec)
        } else {
            BindEndpoint::Tcp(spec)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|word| word.to_string()).collect()
    }

    fn peer(list: &[&str], datagram: bool, unix: bool) -> Result<Endpoint, String> {
        Endpoint::from_words(&words(list), Transport { datagram, unix })
    }

    #[test]
    fn unix_forms() {
        let path = |p: &str| UnixAddr::Path(PathBuf::from(p));
        assert_eq!(
            peer(&["unix:/run/docker.sock"], false, false),
            Ok(Endpoint::Unix(path("/run/docker.sock")))
        );
        assert_eq!(
            peer(&["./app.sock"], false, false),
            Ok(Endpoint::Unix(path("./app.sock")))
        );
        assert_eq!(
            peer(&["app.sock"], false, true),
            Ok(Endpoint::Unix(path("app.sock")))
        );
        assert_eq!(
            peer(&["unix:@name"], false, false),
            Ok(Endpoint::Unix(UnixAddr::Abstract(b"name".to_vec())))
        );
        assert_eq!(
            peer(&["/tmp/d.sock"], true, false),
            Ok(Endpoint::UnixDgram(path("/tmp/d.sock")))
        );
        assert_eq!(
            peer(&["unix:relative.sock"], false, false),
            Ok(Endpoint::Unix(path("relative.sock")))
        );
    }

    #[test]
    fn inet_forms_stay_inet() {
        let tcp = peer(&["127.0.0.1:80"], false, false).unwrap();
        assert!(matches!(tcp, Endpoint::Tcp(_)));
        assert_eq!(tcp.to_string(), "127.0.0.1:80");
        assert!(matches!(
            peer(&["::1", "53"], true, false),
            Ok(Endpoint::Udp(_))
        ));
    }

    #[test]
    fn malformed_unix_forms_are_refused() {
        for bad in [&["unix:"][..], &["unix:@"], &["/a", "80"], &["host", "/b"]] {
            assert!(peer(bad, false, false).is_err(), "{bad:?} was accepted");
        }
        assert!(peer(&["a", "b"], false, true).is_err());
        let long = format!("/{}", "x".repeat(SUN_PATH_ROOM));
        assert!(peer(&[&long], false, false).is_err());
    }

    #[test]
    fn display_is_the_contract_form() {
        assert_eq!(
            peer(&["/tmp/app.sock"], false, false).unwrap().to_string(),
            "unix:/tmp/app.sock"
        );
        assert_eq!(
            peer(&["unix:@x"], false, false).unwrap().to_string(),
            "unix:@x"
        );
    }

    #[test]
    fn bind_forms() {
        let bind = |list: &[&str], datagram| {
            BindEndpoint::from_words(
                &words(list),
                Transport {
                    datagram,
                    unix: false,
                },
            )
        };
        assert!(matches!(bind(&["0"], false), Ok(BindEndpoint::Tcp(_))));
        assert!(matches!(bind(&["9000"], true), Ok(BindEndpoint::Udp(_))));
        assert!(matches!(
            bind(&["unix:/tmp/x.sock"], false),
            Ok(BindEndpoint::Unix(_))
        ));
        assert!(matches!(
            bind(&["unix:@x"], true),
            Ok(BindEndpoint::UnixDgram(_))
        ));
    }
}
