//! Reaching a peer through a proxy (`connect --proxy URL`): SOCKS5 (RFC 1928, with RFC 1929
//! username/password), SOCKS4 and 4a, and HTTP CONNECT with Basic auth.
//!
//! The SOCKS dialogues are tokio-socks's, run on a small current-thread runtime over the TCP
//! connection to the proxy that [`super::dial`] made; HTTP CONNECT is a dozen lines and no
//! well-kept crate does it over an existing stream, so it is written here. Neither reads a
//! byte past the proxy's reply: whatever the peer sends right after it stays in the socket
//! for the relay, so no data that arrives together with the reply is lost.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use base64::Engine as _;

use super::addr::Host;
use crate::output::escape::quote_arg;

/// The kind of proxy, from the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// `socks5://`: names resolved by sockx.
    Socks5,
    /// `socks5h://`: names resolved by the proxy.
    Socks5h,
    /// `socks4://`: IPv4 only, names resolved by sockx.
    Socks4,
    /// `socks4a://`: names resolved by the proxy.
    Socks4a,
    /// `http://`: HTTP CONNECT.
    Http,
}

impl ProxyKind {
    /// Whether the proxy is handed the peer's name rather than an address.
    pub fn resolves_names(self) -> bool {
        matches!(
            self,
            ProxyKind::Socks5h | ProxyKind::Socks4a | ProxyKind::Http
        )
    }

    fn default_port(self) -> u16 {
        match self {
            ProxyKind::Http => 3128,
            _ => 1080,
        }
    }
}

/// A parsed `--proxy URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySpec {
    /// SOCKS or HTTP.
    pub kind: ProxyKind,
    /// The proxy's host.
    pub host: Host,
    /// The proxy's port (1080 for SOCKS, 3128 for HTTP when the URL has none).
    pub port: u16,
    /// `USER:PASS@` from the URL, percent-decoded.
    pub credentials: Option<(String, String)>,
}

impl std::str::FromStr for ProxySpec {
    type Err = String;

    fn from_str(text: &str) -> Result<ProxySpec, String> {
        let url = url::Url::parse(text).map_err(|err| {
            format!(
                "invalid proxy URL '{}': {err} (expected e.g. socks5://127.0.0.1:1080)",
                quote_arg(text)
            )
        })?;
        let kind = match url.scheme() {
            "socks5" => ProxyKind::Socks5,
            "socks5h" => ProxyKind::Socks5h,
            "socks4" => ProxyKind::Socks4,
            "socks4a" => ProxyKind::Socks4a,
            "http" => ProxyKind::Http,
            other => {
                return Err(format!(
                    "unknown proxy scheme '{other}' (known: socks5, socks5h, socks4, socks4a, http)"
                ));
            }
        };
        let host_text = match url.host() {
            Some(url::Host::Domain(name)) => name.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(format!("the proxy URL '{}' names no host", quote_arg(text))),
        };
        let host: Host = host_text.parse()?;
        if url.path() != "/" && !url.path().is_empty() {
            return Err(format!(
                "the proxy URL '{text}' has a path; give only scheme://host:port"
            ));
        }
        let decode = |part: &str| {
            url::form_urlencoded::parse(format!("x={part}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default()
        };
        let credentials = (!url.username().is_empty()).then(|| {
            (
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            )
        });
        // SOCKS4 has a user id but no password: the user name is the id.
        if matches!(kind, ProxyKind::Socks4 | ProxyKind::Socks4a)
            && credentials
                .as_ref()
                .is_some_and(|(_, pass)| !pass.is_empty())
        {
            return Err(
                "SOCKS4 has no passwords: give only a user id (socks4://USER@HOST:PORT)".into(),
            );
        }
        Ok(ProxySpec {
            kind,
            host,
            port: url.port().unwrap_or(kind.default_port()),
            credentials,
        })
    }
}

impl std::fmt::Display for ProxySpec {
    /// The proxy as `HOST:PORT`, never with its credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            host => write!(f, "{host}:{}", self.port),
        }
    }
}

/// Where the proxy is asked to connect.
#[derive(Debug, Clone)]
pub enum TunnelTarget {
    /// An address sockx resolved.
    Addr(SocketAddr),
    /// A name for the proxy to resolve.
    Name(String, u16),
}

impl std::fmt::Display for TunnelTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TunnelTarget::Addr(addr) => write!(f, "{addr}"),
            TunnelTarget::Name(name, port) => write!(f, "{name}:{port}"),
        }
    }
}

/// Why the tunnel was not opened.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The proxy answered with a refusal; the text is its reason.
    #[error("proxy refused: {0}")]
    Refused(String),
    /// The HTTP proxy answered with a status other than 2xx.
    #[error("proxy answered HTTP {0}")]
    HttpStatus(String),
    /// The proxy spoke something we cannot read.
    #[error("proxy answered something that is not {0}")]
    Protocol(&'static str),
    /// The connection to the proxy failed during the dialogue.
    #[error("connection to the proxy failed: {}", super::cause::describe(.0))]
    Io(#[source] io::Error),
    /// The proxy did not answer in time.
    #[error("the proxy did not answer within {0}")]
    Timeout(String),
    /// SOCKS4 cannot carry this address.
    #[error("{0}")]
    Unsupported(String),
}

impl ProxyError {
    /// Whether trying again later could help (the proxy may not be up yet, or the peer
    /// behind it may be starting).
    pub fn is_retryable(&self) -> bool {
        matches!(self, ProxyError::Io(_) | ProxyError::Timeout(_))
            || matches!(self, ProxyError::Refused(reason) if reason.contains("refused"))
    }
}

/// Asks the proxy behind `stream` to connect to `target` and returns the stream, now a
/// tunnel to the target, in blocking mode. Nothing past the proxy's reply is read.
pub fn open_tunnel(
    stream: TcpStream,
    spec: &ProxySpec,
    target: &TunnelTarget,
    timeout: Duration,
) -> Result<TcpStream, ProxyError> {
    match spec.kind {
        ProxyKind::Http => http_connect(stream, spec, target, timeout),
        _ => socks(stream, spec, target, timeout),
    }
}

fn socks(
    stream: TcpStream,
    spec: &ProxySpec,
    target: &TunnelTarget,
    timeout: Duration,
) -> Result<TcpStream, ProxyError> {
    use tokio_socks::TargetAddr;
    use tokio_socks::tcp::{Socks4Stream, Socks5Stream};

    let target_addr: TargetAddr<'_> = match target {
        TunnelTarget::Addr(addr) => TargetAddr::Ip(*addr),
        TunnelTarget::Name(name, port) => TargetAddr::Domain(name.as_str().into(), *port),
    };
    if spec.kind == ProxyKind::Socks4 && matches!(target, TunnelTarget::Addr(a) if a.is_ipv6()) {
        return Err(ProxyError::Unsupported(format!(
            "SOCKS4 cannot reach the IPv6 address {target}: use socks5:// or -4"
        )));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(ProxyError::Io)?;
    stream.set_nonblocking(true).map_err(ProxyError::Io)?;
    let tunnel = runtime.block_on(async {
        let socket = tokio::net::TcpStream::from_std(stream).map_err(ProxyError::Io)?;
        let dialogue = async {
            match (spec.kind, &spec.credentials) {
                (ProxyKind::Socks5 | ProxyKind::Socks5h, None) => {
                    Socks5Stream::connect_with_socket(socket, target_addr)
                        .await
                        .map(Socks5Stream::into_inner)
                }
                (ProxyKind::Socks5 | ProxyKind::Socks5h, Some((user, pass))) => {
                    Socks5Stream::connect_with_password_and_socket(socket, target_addr, user, pass)
                        .await
                        .map(Socks5Stream::into_inner)
                }
                (_, None) => Socks4Stream::connect_with_socket(socket, target_addr)
                    .await
                    .map(Socks4Stream::into_inner),
                (_, Some((user, _))) => {
                    Socks4Stream::connect_with_userid_and_socket(socket, target_addr, user)
                        .await
                        .map(Socks4Stream::into_inner)
                }
            }
        };
        match tokio::time::timeout(timeout, dialogue).await {
            Err(_) => Err(ProxyError::Timeout(super::format_duration(timeout))),
            Ok(Err(err)) => Err(socks_error(err, spec.kind)),
            Ok(Ok(socket)) => socket.into_std().map_err(ProxyError::Io),
        }
    })?;
    tunnel.set_nonblocking(false).map_err(ProxyError::Io)?;
    Ok(tunnel)
}

/// The proxy's reason in words a user reads: `connection not allowed by ruleset`.
fn socks_error(err: tokio_socks::Error, kind: ProxyKind) -> ProxyError {
    use tokio_socks::Error as E;
    match err {
        // SOCKS4 has one refusal code (91) for every reason, rules included.
        E::GeneralSocksServerFailure if matches!(kind, ProxyKind::Socks4 | ProxyKind::Socks4a) => {
            ProxyError::Refused("request rejected or failed (SOCKS4 reply 91)".into())
        }
        E::Io(err) if err.kind() == io::ErrorKind::UnexpectedEof => ProxyError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the proxy closed the connection",
        )),
        E::Io(err) => ProxyError::Io(err),
        E::InvalidResponseVersion | E::UnknownAddressType | E::InvalidReservedByte => {
            ProxyError::Protocol("SOCKS")
        }
        E::PasswordAuthFailure(_) => {
            ProxyError::Refused("user name or password not accepted".into())
        }
        E::NoAcceptableAuthMethods => ProxyError::Refused(
            "no acceptable authentication method (does it need USER:PASS@ in the URL?)".into(),
        ),
        other => ProxyError::Refused(lowercase_first(&other.to_string())),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The longest proxy reply head accepted.
const HTTP_HEAD_LIMIT: usize = 16 * 1024;

fn http_connect(
    mut stream: TcpStream,
    spec: &ProxySpec,
    target: &TunnelTarget,
    timeout: Duration,
) -> Result<TcpStream, ProxyError> {
    let authority = match target {
        TunnelTarget::Addr(SocketAddr::V6(addr)) => format!("[{}]:{}", addr.ip(), addr.port()),
        other => other.to_string(),
    };
    let mut request = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: sockx/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some((user, pass)) = &spec.credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    let timed_out = |err: io::Error| match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            ProxyError::Timeout(super::format_duration(timeout))
        }
        _ => ProxyError::Io(err),
    };
    stream
        .set_read_timeout(Some(timeout))
        .map_err(ProxyError::Io)?;
    stream
        .write_all(request.as_bytes())
        .map_err(ProxyError::Io)?;
    // Byte by byte up to the blank line: the tunnel's first bytes stay in the socket.
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if head.len() >= HTTP_HEAD_LIMIT {
            return Err(ProxyError::Protocol("an HTTP reply"));
        }
        match stream.read(&mut byte) {
            Ok(0) => {
                return Err(ProxyError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the proxy closed the connection before answering",
                )));
            }
            Ok(_) => head.push(byte[0]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(timed_out(err)),
        }
    }
    stream.set_read_timeout(None).map_err(ProxyError::Io)?;
    let status_line = head
        .split(|&b| b == b'\n')
        .next()
        .map(|line| String::from_utf8_lossy(line).trim_end().to_string())
        .unwrap_or_default();
    let mut words = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (words.next(), words.next()) else {
        return Err(ProxyError::Protocol("an HTTP reply"));
    };
    if !version.starts_with("HTTP/") || code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ProxyError::Protocol("an HTTP reply"));
    }
    if code.starts_with('2') {
        return Ok(stream);
    }
    let reason = words.next().unwrap_or("").trim();
    let status = if reason.is_empty() {
        code.to_string()
    } else {
        format!("{code} {}", crate::output::escape::escape_text(reason))
    };
    Err(ProxyError::HttpStatus(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_every_kind() {
        let spec: ProxySpec = "socks5h://bob:s%40cret@127.0.0.1:1081".parse().unwrap();
        assert_eq!(spec.kind, ProxyKind::Socks5h);
        assert_eq!(spec.port, 1081);
        assert_eq!(
            spec.credentials,
            Some(("bob".to_string(), "s@cret".to_string()))
        );
        assert_eq!(spec.to_string(), "127.0.0.1:1081");
        let http: ProxySpec = "http://[::1]".parse().unwrap();
        assert_eq!((http.kind, http.port), (ProxyKind::Http, 3128));
        assert_eq!(http.to_string(), "[::1]:3128");
        assert_eq!("socks4://h".parse::<ProxySpec>().unwrap().port, 1080);
        assert!(ProxyKind::Socks4a.resolves_names() && !ProxyKind::Socks5.resolves_names());
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            ("ftp://h:1", "unknown proxy scheme"),
            ("127.0.0.1:1080", "invalid proxy URL"),
            ("socks5://", "names no host"),
            ("http://h:1/path", "has a path"),
            ("socks4://u:p@h:1", "no passwords"),
        ] {
            let err = url.parse::<ProxySpec>().unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
    }
}
