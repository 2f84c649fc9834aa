//! `listen --tls`: the server from the flags, with the self-signed certificate's names taken
//! from where the listener binds (an address given, a host name given) and the machine's
//! host name. Built before anything is bound, so that a bad file is exit 2 with no ready line.

use crate::cli::ServeTlsArgs;
use crate::error::Error;
use crate::net::tls::{ServerSettings, TlsServer, names_for};
use crate::net::{BindEndpoint, Host};

/// The TLS server `--tls` asks for, or `None` without it.
pub fn server(args: &ServeTlsArgs, endpoint: &BindEndpoint) -> Result<Option<TlsServer>, Error> {
    if !args.tls {
        return Ok(None);
    }
    let settings = ServerSettings {
        cert: args.cert.as_deref(),
        key: args.key.as_deref(),
        client_ca: args.client_ca.as_deref(),
        alpn: &args.alpn,
    };
    TlsServer::new(settings, || certificate_names(endpoint))
        .map(Some)
        .map_err(Error::from)
}

/// `localhost`, `127.0.0.1`, `::1`, the bind address or name (for TCP) and the host name.
fn certificate_names(endpoint: &BindEndpoint) -> Vec<String> {
    let host = match endpoint {
        BindEndpoint::Tcp(spec) => spec.host.as_ref(),
        _ => None,
    };
    let machine = sysinfo::System::host_name().unwrap_or_default();
    match host {
        Some(Host::Ip(ip)) => names_for(Some(*ip), &[&machine]),
        Some(Host::Name(name)) => names_for(None, &[name, &machine]),
        None => names_for(None, &[&machine]),
    }
}
