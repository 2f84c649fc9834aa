//! The TLS flags: the client side's, shared by `connect` and `probe` (and, later, `listen
//! --forward-tls`), and the server side's of `listen --tls`. Flatten [`TlsArgs`] or
//! [`ServeTlsArgs`] into a subcommand's arguments.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use crate::net::tls::StartTls;

/// `--tls` and the flags that shape the handshake.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "TLS")]
// The other TLS flags need one of these two: `--starttls` implies `--tls`.
#[command(group = ArgGroup::new("tls_on").multiple(true).args(["tls", "starttls"]))]
pub struct TlsArgs {
    /// TLS over the connection (TLS 1.2 and 1.3)
    #[arg(long)]
    pub tls: bool,

    /// Speak PROTO's plaintext upgrade first, then TLS (implies --tls)
    #[arg(long, value_name = "PROTO")]
    pub starttls: Option<StartTls>,

    /// Server name sent and verified [default: the host name given; none for an IP address,
    /// which is verified against the certificate's IP SANs; localhost for a Unix socket]
    #[arg(long, value_name = "NAME", requires = "tls_on")]
    pub sni: Option<String>,

    /// Offer this ALPN protocol (repeatable, in order of preference: h2, http/1.1, ...)
    #[arg(long = "alpn", value_name = "PROTO", requires = "tls_on")]
    pub alpn: Vec<String>,

    /// Trust the PEM certificates in FILE instead of the system's store
    #[arg(long, value_name = "FILE", requires = "tls_on")]
    pub ca: Option<PathBuf>,

    /// Present this client certificate (PEM; with --key)
    #[arg(long, value_name = "FILE", requires_all = ["tls_on", "key"])]
    pub cert: Option<PathBuf>,

    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", requires_all = ["tls_on", "cert"])]
    pub key: Option<PathBuf>,

    /// Do not verify the server's certificate (what failed is still said with -v)
    #[arg(long, requires = "tls_on")]
    pub insecure: bool,

    /// Accept only the certificate with this SHA-256 fingerprint (hex, colons optional),
    /// verified or not: the safe way to reach a self-signed server
    #[arg(long, value_name = "FINGERPRINT", requires = "tls_on")]
    pub pin: Option<String>,
}

impl TlsArgs {
    /// TLS was asked for: `--tls`, or `--starttls`, which implies it.
    pub fn enabled(&self) -> bool {
        self.tls || self.starttls.is_some()
    }
}

/// `listen --tls` and the flags of the server side.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "TLS")]
pub struct ServeTlsArgs {
    /// Serve TLS (1.2 and 1.3); without --cert, with a fresh self-signed certificate whose
    /// fingerprint stderr gives before the ready line
    #[arg(long)]
    pub tls: bool,

    /// Serve this certificate chain (PEM, leaf first; with --key)
    #[arg(long, value_name = "FILE", requires_all = ["tls", "key"])]
    pub cert: Option<PathBuf>,

    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", requires_all = ["tls", "cert"])]
    pub key: Option<PathBuf>,

    /// Require a client certificate signed by a CA in FILE (PEM): mutual TLS
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub client_ca: Option<PathBuf>,

    /// Accept this ALPN protocol (repeatable, in our order of preference: the first of them
    /// that the client offers is chosen)
    #[arg(long = "alpn", value_name = "PROTO", requires = "tls")]
    pub alpn: Vec<String>,
}
