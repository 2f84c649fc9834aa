//! The one crypto provider of every TLS config, client and server: ring, installed once as
//! the process default (rustls refuses to guess when more than one is compiled in, and
//! rcgen signs with ring too).

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

/// The process-wide provider.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let _ = CryptoProvider::install_default(provider.as_ref().clone());
            provider
        })
        .clone()
}
