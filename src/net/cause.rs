//! Short, lowercase descriptions of I/O errors for one-line messages
//! (`connection refused`, `timed out`, `host unreachable`).

use std::io;

/// `connection refused` rather than `Connection refused (os error 111)`.
pub fn describe(err: &io::Error) -> String {
    let text = match err.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => return "timed out".to_string(),
        io::ErrorKind::ConnectionRefused => return "connection refused".to_string(),
        io::ErrorKind::ConnectionReset => return "connection reset by peer".to_string(),
        io::ErrorKind::BrokenPipe => return "broken pipe".to_string(),
        io::ErrorKind::HostUnreachable => return "host unreachable".to_string(),
        io::ErrorKind::NetworkUnreachable => return "network unreachable".to_string(),
        io::ErrorKind::AddrInUse => return "address already in use".to_string(),
        io::ErrorKind::AddrNotAvailable => return "address not available".to_string(),
        io::ErrorKind::PermissionDenied => return "permission denied".to_string(),
        _ => err.to_string(),
    };
    let text = match text.find(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "unknown error".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_lowercase() {
        let refused = io::Error::from_raw_os_error(nix::libc::ECONNREFUSED);
        assert_eq!(describe(&refused), "connection refused");
        let unreachable = io::Error::from_raw_os_error(nix::libc::EHOSTUNREACH);
        assert_eq!(describe(&unreachable), "host unreachable");
        let other = io::Error::from_raw_os_error(nix::libc::EPROTO);
        assert_eq!(describe(&other), "protocol error");
        assert_eq!(describe(&io::ErrorKind::TimedOut.into()), "timed out");
    }
}
