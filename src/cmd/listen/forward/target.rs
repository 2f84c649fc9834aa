//! The target of `--forward`: where each admitted connection goes, reached one connection
//! at a time (a TCP host and port tried Happy Eyeballs style, or a Unix socket).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::super::server::is_out_of_descriptors;
use crate::cmd::tls_failure::{handshake_failure, setup_as_handshake};
use crate::error::Error;
use crate::net::async_stream::AsyncStream;
use crate::net::cause::describe;
use crate::net::endpoint::UnixAddr;
use crate::net::forward::Side;
use crate::net::tls::{ConnectFailure, TlsClient, TlsFacts, TlsFailure};
use crate::net::{Endpoint, Family, resolve};

/// How long one connection attempt to the target may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where forwarded connections go.
#[derive(Debug, Clone)]
pub enum Target {
    /// A TCP host and port, resolved once when sockx starts.
    Tcp {
        /// As the user named it, for messages.
        shown: String,
        /// The host name, for TLS (SNI and verification).
        host: String,
        /// Its addresses, in the order they are tried.
        addrs: Vec<SocketAddr>,
    },
    /// A Unix stream socket.
    Unix(UnixAddr),
}

/// A connection to the target.
#[derive(Debug)]
pub struct Reached {
    /// The stream.
    pub side: Side,
    /// The address that answered, for `-v`.
    pub addr: String,
    /// With `--forward-tls`: what the handshake found, for `-v`.
    pub tls: Option<Box<TlsFacts>>,
}

/// Why the target could not be reached.
#[derive(Debug)]
pub struct Unreachable {
    /// What says why (exit 1), with a hint when one helps.
    pub error: Error,
    /// Out of descriptors (or memory): worth waiting for, not the target's fault.
    pub shortage: bool,
}

impl Target {
    /// The target named on the command line (`HOST:PORT` or a Unix address).
    pub fn from_endpoint(endpoint: &Endpoint, family: Family) -> Result<Target, Error> {
        match endpoint {
            Endpoint::Tcp(peer) | Endpoint::Udp(peer) => Ok(Target::Tcp {
                shown: peer.to_string(),
                host: peer.host.to_string(),
                addrs: resolve(&peer.host, peer.port, family)?,
            }),
            Endpoint::Unix(addr) | Endpoint::UnixDgram(addr) => Ok(Target::Unix(addr.clone())),
        }
    }

    /// Connects once (and with `tls`, runs the handshake); `have_socket` is called as soon
    /// as the connection's socket exists.
    pub async fn connect(
        &self,
        tls: Option<&TlsClient>,
        have_socket: impl FnMut(),
    ) -> Result<Reached, Unreachable> {
        let (side, addr) = match self {
            Target::Tcp { shown, addrs, .. } => {
                match crate::net::dial::dial_async(addrs, CONNECT_TIMEOUT, have_socket).await {
                    Ok((stream, addr)) => {
                        crate::net::relay::tune::tune(&stream);
                        (AsyncStream::Tcp(stream), addr.to_string())
                    }
                    Err(failure) => {
                        return Err(Unreachable {
                            shortage: failure
                                .attempts
                                .iter()
                                .any(|(_, err)| is_out_of_descriptors(err)),
                            error: Error::failure(failure.message(shown)),
                        });
                    }
                }
            }
            Target::Unix(addr) => {
                let connected = match addr.to_socket_addr() {
                    Ok(sockaddr) => connect_unix(&sockaddr).await,
                    Err(err) => Err(err),
                };
                match connected {
                    Ok(stream) => (AsyncStream::Unix(stream), addr.to_string()),
                    Err(err) => {
                        return Err(Unreachable {
                            shortage: is_out_of_descriptors(&err),
                            error: Error::failure(format!(
                                "cannot connect to {addr}: {}",
                                describe(&err)
                            )),
                        });
                    }
                }
            }
        };
        let Some(tls) = tls else {
            return Ok(Reached {
                side: Side::Stream(side),
                addr,
                tls: None,
            });
        };
        let handshake = tls.connect_async(self.tls_name(), side);
        let failure = match tokio::time::timeout(CONNECT_TIMEOUT, handshake).await {
            Ok(Ok((session, facts))) => {
                return Ok(Reached {
                    side: Side::Io(Box::new(session)),
                    addr,
                    tls: Some(Box::new(facts)),
                });
            }
            Ok(Err(ConnectFailure::Handshake(failure))) => failure,
            Ok(Err(ConnectFailure::Setup(err))) => setup_as_handshake(err),
            Err(_) => TlsFailure {
                reason: "timed out waiting for the server's TLS answer".to_string(),
                hint: None,
                cert: None,
            },
        };
        let mut error = handshake_failure(failure, &self.to_string());
        error.hint = error.hint.map(|hint| forward_flags(&hint));
        Err(Unreachable {
            error,
            shortage: false,
        })
    }

    /// The name sent and verified over TLS (unless `--forward-sni` says otherwise): the host
    /// name given, or `localhost` for a Unix socket.
    pub fn tls_name(&self) -> &str {
        match self {
            Target::Tcp { host, .. } => host,
            Target::Unix(_) => "localhost",
        }
    }
}

/// A hint written for `connect --tls` in the names of `--forward-tls`'s own flags.
fn forward_flags(hint: &str) -> String {
    ["--pin", "--insecure", "--ca", "--sni"]
        .iter()
        .fold(hint.to_string(), |hint, flag| {
            hint.replace(flag, &format!("--forward-{}", &flag[2..]))
        })
}

/// A Unix stream connection, abstract names included (mio connects without blocking: a
/// full backlog is an error at once, never a stalled worker).
async fn connect_unix(addr: &std::os::unix::net::SocketAddr) -> io::Result<tokio::net::UnixStream> {
    tokio::net::UnixStream::connect_addr(&addr.clone().into()).await
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { shown, .. } => f.write_str(shown),
            Target::Unix(addr) => addr.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_forward_flags() {
        assert_eq!(
            forward_flags("pass --pin AB:CD (or --insecure)"),
            "pass --forward-pin AB:CD (or --forward-insecure)"
        );
    }
}
