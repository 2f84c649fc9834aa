//! The state of a socket as `ss` and `netstat` name it: the TCP states, and `UNCONN` for a UDP
//! socket that is bound but not connected.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A socket's state. TCP sockets go through the TCP state machine; UDP sockets are either
/// [`SocketState::Unconn`] (bound, not connected) or [`SocketState::Established`] (connected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SocketState {
    /// Waiting for connections (TCP).
    Listen,
    /// Connected.
    Established,
    /// Connect sent, waiting for the SYN-ACK.
    SynSent,
    /// SYN received, handshake not complete.
    SynRecv,
    /// Closed locally, waiting for the peer's ACK.
    FinWait1,
    /// Closed locally and acknowledged, waiting for the peer's FIN.
    FinWait2,
    /// Both sides closed; waiting for stray segments to expire.
    TimeWait,
    /// Closed.
    Close,
    /// The peer closed; the local side has not yet.
    CloseWait,
    /// Closed after the peer; waiting for the last ACK.
    LastAck,
    /// Both sides closed at once.
    Closing,
    /// A bound UDP socket that is not connected.
    Unconn,
    /// A state this platform reports that has no name here.
    Unknown,
}

impl SocketState {
    /// Every state with a name, for parsing and help.
    pub const NAMED: [SocketState; 12] = [
        SocketState::Listen,
        SocketState::Established,
        SocketState::SynSent,
        SocketState::SynRecv,
        SocketState::FinWait1,
        SocketState::FinWait2,
        SocketState::TimeWait,
        SocketState::Close,
        SocketState::CloseWait,
        SocketState::LastAck,
        SocketState::Closing,
        SocketState::Unconn,
    ];

    /// The name shown in tables and JSON: `LISTEN`, `ESTABLISHED`, `TIME_WAIT`, `UNCONN`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SocketState::Listen => "LISTEN",
            SocketState::Established => "ESTABLISHED",
            SocketState::SynSent => "SYN_SENT",
            SocketState::SynRecv => "SYN_RECV",
            SocketState::FinWait1 => "FIN_WAIT1",
            SocketState::FinWait2 => "FIN_WAIT2",
            SocketState::TimeWait => "TIME_WAIT",
            SocketState::Close => "CLOSE",
            SocketState::CloseWait => "CLOSE_WAIT",
            SocketState::LastAck => "LAST_ACK",
            SocketState::Closing => "CLOSING",
            SocketState::Unconn => "UNCONN",
            SocketState::Unknown => "UNKNOWN",
        }
    }

    /// The name a user types for `--state`: `listen`, `established`, `time-wait`, ...
    pub fn flag_name(self) -> String {
        self.as_str().to_ascii_lowercase().replace('_', "-")
    }

    /// Whether the socket waits for peers: a TCP listener or an unconnected UDP socket.
    pub fn is_listening(self) -> bool {
        matches!(self, SocketState::Listen | SocketState::Unconn)
    }
}

impl fmt::Display for SocketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SocketState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl FromStr for SocketState {
    type Err = String;

    /// Accepts the table names and the forms `ss` takes, in any case, with `-` or `_`:
    /// `established`, `estab`, `time-wait`, `fin-wait-1`, `listening`, `syn-recv`, `unconn`.
    fn from_str(text: &str) -> Result<SocketState, String> {
        let key: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let alias = match key.as_str() {
            "estab" | "connected" => Some(SocketState::Established),
            "listening" => Some(SocketState::Listen),
            "synrcvd" | "synreceived" => Some(SocketState::SynRecv),
            "closed" => Some(SocketState::Close),
            "unconnected" => Some(SocketState::Unconn),
            _ => None,
        };
        alias
            .or_else(|| {
                SocketState::NAMED
                    .into_iter()
                    .find(|state| state.as_str().replace('_', "").eq_ignore_ascii_case(&key))
            })
            .ok_or_else(|| {
                let names: Vec<String> = SocketState::NAMED.iter().map(|s| s.flag_name()).collect();
                format!(
                    "unknown socket state '{}' (one of {})",
                    crate::output::escape::quote_arg(text),
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for state in SocketState::NAMED {
            assert_eq!(state.as_str().parse(), Ok(state));
            assert_eq!(state.flag_name().parse(), Ok(state));
        }
    }

    #[test]
    fn ss_style_names_parse() {
        assert_eq!("estab".parse(), Ok(SocketState::Established));
        assert_eq!("time-wait".parse(), Ok(SocketState::TimeWait));
        assert_eq!("fin-wait-1".parse(), Ok(SocketState::FinWait1));
        assert_eq!("Listening".parse(), Ok(SocketState::Listen));
        assert_eq!("syn-rcvd".parse(), Ok(SocketState::SynRecv));
        let err = "bogus".parse::<SocketState>().unwrap_err();
        assert!(err.contains("time-wait"), "{err}");
    }

    #[test]
    fn serializes_as_the_table_name() {
        assert_eq!(
            serde_json::to_string(&SocketState::TimeWait).unwrap(),
            "\"TIME_WAIT\""
        );
        assert!(SocketState::Unconn.is_listening());
        assert!(!SocketState::Established.is_listening());
    }
}
