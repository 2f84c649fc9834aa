//! The `--http` check: the GET request sockx sends, the status list that passes, and the
//! reading of the response head (status, reason, `Server`). The body is never needed.

use serde::Serialize;

/// What the HTTP check reports (`http` in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpInfo {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The reason phrase as sent (escaped), e.g. `OK`.
    pub reason: String,
    /// The `Server` header (escaped), null when there is none.
    pub server: Option<String>,
}

/// The HTTP/1.1 GET for `path` on `host`; `Host` carries the port unless it is the scheme's
/// `default_port` (80, or 443 over TLS).
pub fn request(path: &str, host: &str, port: u16, default_port: u16) -> Vec<u8> {
    let authority = if port == default_port {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: sockx/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// How far the response head is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// Not all of it has arrived yet.
    Partial,
    /// The whole head: status line and headers.
    Complete(HttpInfo),
    /// Not an HTTP/1.x response.
    Invalid,
}

/// Reads the response head from what arrived so far.
pub fn parse_head(received: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(received) {
        Ok(httparse::Status::Partial) => Head::Partial,
        Ok(httparse::Status::Complete(_)) => {
            let Some(status) = response.code else {
                return Head::Invalid;
            };
            let server = response
                .headers
                .iter()
                .find(|header| header.name.eq_ignore_ascii_case("server"))
                .map(|header| crate::output::escape::escape_bytes(header.value));
            Head::Complete(HttpInfo {
                status,
                reason: crate::output::escape::escape_text(response.reason.unwrap_or("")),
                server,
            })
        }
        // More headers than we keep room for: the status line is all the check needs.
        Err(httparse::Error::TooManyHeaders) => status_line_only(received),
        Err(_) => Head::Invalid,
    }
}

fn status_line_only(received: &[u8]) -> Head {
    let mut none = [];
    let mut response = httparse::Response::new(&mut none);
    match (response.parse(received), response.code) {
        (Err(httparse::Error::TooManyHeaders), Some(status)) => Head::Complete(HttpInfo {
            status,
            reason: crate::output::escape::escape_text(response.reason.unwrap_or("")),
            server: None,
        }),
        _ => Head::Invalid,
    }
}

/// The statuses that pass `--http-status`: a comma list of codes, ranges (`200-299`) and
/// classes (`2xx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    ranges: Vec<(u16, u16)>,
    text: String,
}

impl Default for StatusList {
    fn default() -> StatusList {
        StatusList {
            ranges: vec![(200, 399)],
            text: "200-399".to_string(),
        }
    }
}

impl StatusList {
    /// Whether `status` passes.
    pub fn contains(&self, status: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(low, high)| (low..=high).contains(&status))
    }

    /// The list as the user wrote it, for messages.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for StatusList {
    type Err = String;

    fn from_str(text: &str) -> Result<StatusList, String> {
        let code = |word: &str| -> Result<u16, String> {
            word.trim()
                .parse::<u16>()
                .ok()
                .filter(|code| (100..=999).contains(code))
                .ok_or_else(|| format!("'{word}' is not an HTTP status (100-999)"))
        };
        let mut ranges = Vec::new();
        for word in text.split(',').map(str::trim) {
            let class = word.strip_suffix("xx").or_else(|| word.strip_suffix("XX"));
            let range = if let Some(digit) = class {
                let low = code(&format!("{digit}00"))?;
                (low, low + 99)
            } else if let Some((low, high)) = word.split_once('-') {
                let (low, high) = (code(low)?, code(high)?);
                if low > high {
                    return Err(format!("'{word}' is an empty range"));
                }
                (low, high)
            } else {
                let single = code(word)?;
                (single, single)
            };
            ranges.push(range);
        }
        Ok(StatusList {
            ranges,
            text: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_host_and_closes() {
        let text = String::from_utf8(request("/health", "web", 8080, 80)).unwrap();
        assert!(text.starts_with("GET /health HTTP/1.1\r\nHost: web:8080\r\n"));
        assert!(text.contains("\r\nConnection: close\r\n"));
        assert!(text.contains(&format!("User-Agent: sockx/{}", env!("CARGO_PKG_VERSION"))));
        assert!(text.ends_with("\r\n\r\n"));
        let https = String::from_utf8(request("/", "web", 443, 443)).unwrap();
        assert!(
            https.starts_with("GET / HTTP/1.1\r\nHost: web\r\n"),
            "{https}"
        );
        let plain = String::from_utf8(request("/", "[::1]", 80, 80)).unwrap();
        assert!(plain.contains("\r\nHost: [::1]\r\n"));
    }

    #[test]
    fn heads_are_read_whole_or_not_at_all() {
        assert_eq!(parse_head(b"HTTP/1.1 200 O"), Head::Partial);
        assert_eq!(
            parse_head(b"HTTP/1.1 503 Service Unavailable\r\nserver: nginx/1.2\r\n\r\nbody"),
            Head::Complete(HttpInfo {
                status: 503,
                reason: "Service Unavailable".into(),
                server: Some("nginx/1.2".into()),
            })
        );
        assert_eq!(parse_head(b"SSH-2.0-OpenSSH_9.2\r\n"), Head::Invalid);
        let mut many = b"HTTP/1.0 204 No Content\r\n".to_vec();
        for n in 0..100 {
            many.extend_from_slice(format!("x-{n}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(matches!(parse_head(&many), Head::Complete(info) if info.status == 204));
    }

    #[test]
    fn status_lists() {
        let default = StatusList::default();
        assert!(default.contains(200) && default.contains(302) && !default.contains(404));
        let list: StatusList = "200,204, 3xx,500-502".parse().unwrap();
        for ok in [200, 204, 301, 399, 500, 502] {
            assert!(list.contains(ok), "{ok}");
        }
        for no in [201, 400, 503] {
            assert!(!list.contains(no), "{no}");
        }
        for bad in ["", "abc", "20", "300-200", "1000", "7xxx"] {
            assert!(bad.parse::<StatusList>().is_err(), "{bad}");
        }
    }
}
