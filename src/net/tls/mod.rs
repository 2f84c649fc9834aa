//! TLS with rustls and the ring provider. The client side (`probe --tls`, `connect --tls`,
//! `--starttls`): [`TlsClient`] is built once from the flags; [`TlsClient::session`] gives a
//! [`Handshake`] for one connection, stepped on a non-blocking socket or completed on a
//! blocking one; the result is [`TlsFacts`] (version, cipher, ALPN, the certificate's facts and
//! the verification verdict) or a [`TlsFailure`] that names its cause. The server side
//! (`listen --tls`): [`TlsServer`], with its certificate from files or made at start-up,
//! accepts each client's handshake ([`TlsServer::accept`]).

mod accept;
mod accept_blocking;
mod client;
mod client_failure;
mod client_verify;
mod connector;
mod facts;
mod failure;
mod handshake;
mod pem;
mod pin;
mod provider;
mod self_signed;
mod server;
mod session;
mod session_io;
mod setup_error;
mod starttls;
mod verify;

pub use accept::HANDSHAKE_TIMEOUT;
pub use client::{TlsClient, TrustSource};
pub use connector::ConnectFailure;
pub use facts::{TlsFacts, TlsJson, date};
pub use failure::TlsFailure;
pub use handshake::{Established, Handshake, Progress, late_failure};
pub use self_signed::names_for;
pub use server::{ServerSettings, TlsServer};
pub use session::ServerSession;
pub use session_io::TlsIo;
pub use setup_error::{PemFile, TlsSetupError};
pub use starttls::StartTls;
pub use verify::Policy;
