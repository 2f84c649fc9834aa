//! TLS for the client side (`probe --tls`, later `connect --tls`): rustls with the ring
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
mod verify;

pub use client::{TlsClient, TrustSource};
pub use facts::{TlsFacts, TlsJson, date};
pub use failure::TlsFailure;
pub use handshake::{Handshake, Progress};
pub use session_io::TlsIo;
pub use verify::Policy;
