//! `net`'s typed failures in the user's words: `net` says what went wrong, this says which
//! exit status that is and what to print (`net` builds no user-facing errors).

use std::fmt;
use std::io;

use crate::error::Error;
use crate::net::ResolveError;
use crate::net::cause::describe;
use crate::net::relay::RelayError;

impl From<ResolveError> for Error {
    /// A literal that contradicts `-4`/`-6` is invalid input (exit 2); a name that does not
    /// resolve is a failure (exit 1).
    fn from(err: ResolveError) -> Error {
        match err {
            ResolveError::WrongFamily { .. } => Error::usage(err.to_string()),
            ResolveError::Lookup { .. } | ResolveError::NoAddress { .. } => {
                Error::failure(err.to_string())
            }
        }
    }
}

/// The failure of a relay session with `peer`. A broken stdout stays a plain broken pipe (a
/// quiet, successful end); everything else is one line with exit 1.
pub fn relay_failure(err: RelayError, peer: impl fmt::Display) -> anyhow::Error {
    match err {
        RelayError::Output(err) if err.kind() == io::ErrorKind::BrokenPipe => err.into(),
        RelayError::Peer(err) => {
            Error::failure(format!("connection with {peer} lost: {}", describe(&err))).into()
        }
        RelayError::Input(err) => {
            Error::failure(format!("cannot read stdin: {}", describe(&err))).into()
        }
        RelayError::Output(err) => {
            Error::failure(format!("cannot write to stdout: {}", describe(&err))).into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;
    use crate::net::{Family, Host, resolve};

    #[test]
    fn a_literal_of_the_wrong_family_is_a_usage_error() {
        let host = Host::Ip("127.0.0.1".parse().unwrap());
        let err = Error::from(resolve(&host, 80, Family::V6).unwrap_err());
        assert_eq!(err.status, Status::Usage);
        let missing = ResolveError::NoAddress {
            host: "example".into(),
            family: Family::V4,
        };
        assert_eq!(Error::from(missing).status, Status::Negative);
    }

    #[test]
    fn a_reset_names_the_peer_and_a_closed_stdout_stays_quiet() {
        let reset = RelayError::Peer(io::ErrorKind::ConnectionReset.into());
        let report = relay_failure(reset, "127.0.0.1:80");
        assert_eq!(
            report.to_string(),
            "connection with 127.0.0.1:80 lost: connection reset by peer"
        );
        let gone = RelayError::Output(io::ErrorKind::BrokenPipe.into());
        assert!(crate::error::is_broken_pipe(&relay_failure(gone, "x")));
    }
}
