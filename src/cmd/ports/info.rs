//! `sockx ports -i`: the TCP internals of each socket, as columns and as the `tcp_info` JSON
//! object. On Linux the TCP sockets and their internals come from one sock_diag dump, and are
//! matched by identity.

use std::collections::HashMap;

use anyhow::Context as _;

use super::Config;
use super::rows::PortRow;
use crate::net::SocketState;
use crate::net::socket::Proto;
use crate::os::socket_key::SocketKey;
use crate::os::sockets::{self, SocketEntry};
use crate::os::tcp_info::{self, TcpInfo};

/// The TCP internals by socket, read when `-i` asks for them.
pub type Infos = HashMap<SocketKey, TcpInfo>;

/// The columns `-i` adds, in the contract's order; they go before PID.
const INFO_HEADERS: &[&str] = &["RTT", "RTTVAR", "CWND", "RETRANS", "SEND-Q", "RECV-Q"];

/// Reads the internals of every TCP socket the query covers, if `-i` asks for them (for
/// `--watch`, which lists the sockets on its own).
pub fn load(config: &Config) -> anyhow::Result<Option<Infos>> {
    if !config.info {
        return Ok(None);
    }
    let query = config.query();
    if !query.tcp {
        return Ok(Some(Infos::new()));
    }
    tcp_info::tcp_info_by_socket(query.ipv4, query.ipv6, info_states(config))
        .context("cannot read TCP socket details")
        .map(Some)
}

/// The TCP states whose internals can be shown: listeners unless -a, the --state ones if
/// given.
fn info_states(config: &Config) -> &[SocketState] {
    if !config.states.is_empty() {
        &config.states
    } else if config.all {
        &[]
    } else {
        &[SocketState::Listen]
    }
}

/// Lists the sockets the query covers and, if `-i` asks for them, the internals of the TCP
/// ones, read in the same sock_diag dump. With `-i` the TCP sockets are only those in the
/// states that can match ([`info_states`]): the kernel filters, and `Config::keeps_socket`
/// would drop the others anyway.
pub fn list(config: &Config) -> anyhow::Result<(Vec<SocketEntry>, Option<Infos>)> {
    let query = config.query();
    if !config.info {
        let listed = sockets::list_sockets(query).context("cannot list sockets")?;
        return Ok((listed, None));
    }
    let (listed, infos) = tcp_info::list_with_tcp_info(query, info_states(config))
        .context("cannot list sockets with their TCP details")?;
    Ok((listed, Some(infos)))
}

/// `row` with its socket's internals when `-i` asked for them (`null` in JSON for a UDP
/// socket, or a TCP socket without them, e.g. in TIME_WAIT).
pub fn with_info<'a>(
    mut row: PortRow<'a>,
    socket: &SocketEntry,
    infos: Option<&Infos>,
) -> PortRow<'a> {
    if let Some(infos) = infos {
        let info = (socket.proto == Proto::Tcp)
            .then(|| infos.get(&SocketKey::of(socket)).copied())
            .flatten();
        row.tcp_info = Some(info);
    }
    row
}

/// `base` with the `-i` columns before PID when `info`.
pub fn headers(base: &[&'static str], info: bool) -> Vec<&'static str> {
    let mut headers = base.to_vec();
    if info {
        let at = headers
            .iter()
            .position(|&header| header == "PID")
            .unwrap_or(headers.len());
        headers.splice(at..at, INFO_HEADERS.iter().copied());
    }
    headers
}

/// The `-i` cells of a row: `-` for each when there are no internals.
pub fn cells(info: Option<&TcpInfo>) -> Vec<String> {
    match info {
        Some(info) => vec![
            milliseconds(info.rtt_ms),
            milliseconds(info.rttvar_ms),
            info.cwnd.to_string(),
            info.retrans.to_string(),
            info.send_q.to_string(),
            info.recv_q.to_string(),
        ],
        None => vec!["-".to_string(); INFO_HEADERS.len()],
    }
}

/// Milliseconds as `ss` prints them: to the microsecond the kernel counts in, no trailing
/// zeros (`0.046`, `12.5`, `200`).
fn milliseconds(ms: f64) -> String {
    let text = format!("{ms:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::ports::rows::{HEADERS, HEADERS_ALL};

    #[test]
    fn the_columns_go_before_pid() {
        assert_eq!(headers(HEADERS, false), HEADERS);
        let with = headers(HEADERS_ALL, true);
        assert_eq!(
            with,
            [
                "PROTO", "LOCAL", "PORT", "STATE", "REMOTE", "RTT", "RTTVAR", "CWND", "RETRANS",
                "SEND-Q", "RECV-Q", "PID", "PROCESS", "USER", "COMMAND"
            ]
        );
    }

    #[test]
    fn cells_read_as_ss_prints_them() {
        let info = TcpInfo {
            rtt_ms: 0.046,
            rttvar_ms: 200.0,
            cwnd: 10,
            retrans: 2,
            bytes_acked: 1,
            bytes_received: 0,
            send_q: 0,
            recv_q: 300,
        };
        assert_eq!(cells(Some(&info)), ["0.046", "200", "10", "2", "0", "300"]);
        assert_eq!(cells(None), ["-"; 6]);
        assert_eq!(milliseconds(12.5), "12.5");
    }
}
