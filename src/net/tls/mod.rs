//! TLS for the client side (`probe --tls`, `connect --tls`, `--starttls`): rustls with the ring
//! provider. [`TlsClient`] is built once from the flags; [`TlsClient::session`] gives a
//! [`Handshake`] for one connection, stepped on a non-blocking socket or completed on a
//! blocking one; the result is [`TlsFacts`] (version, cipher, ALPN, the certificate's facts and
//! the verification verdict) or a [`TlsFailure`] that names its cause.

mod client;
mod connector;
mod facts;
mod failure;
mod handshake;
mod pin;
mod session_io;
mod starttls;
mod verify;

pub use client::{TlsClient, TrustSource};
pub use facts::{TlsFacts, TlsJson, date};
pub use failure::TlsFailure;
pub use handshake::{Established, Handshake, Progress, late_failure};
pub use session_io::TlsIo;
pub use starttls::StartTls;
pub use verify::Policy;
