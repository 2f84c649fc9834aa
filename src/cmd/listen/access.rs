//! `--allow` / `--deny`: which peers may connect.

use std::net::IpAddr;

use crate::net::Cidr;

/// Access control on the peer address: a peer in any `deny` block is refused; when `allow`
/// blocks are given, only peers in one of them are accepted.
#[derive(Debug, Clone, Default)]
pub struct AccessList {
    allow: Vec<Cidr>,
    deny: Vec<Cidr>,
}

impl AccessList {
    /// The rules from `--allow` and `--deny`.
    pub fn new(allow: &[Cidr], deny: &[Cidr]) -> AccessList {
        AccessList {
            allow: allow.to_vec(),
            deny: deny.to_vec(),
        }
    }

    /// Whether `peer` may connect. IPv4-mapped IPv6 peers (from a dual-stack socket) are
    /// judged by their IPv4 address.
    pub fn permits(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        let matches = |cidr: &Cidr| cidr.contains(peer);
        !self.deny.iter().any(matches) && (self.allow.is_empty() || self.allow.iter().any(matches))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn deny_wins_and_allow_restricts() {
        let everyone = AccessList::default();
        assert!(everyone.permits("192.0.2.1".parse().unwrap()));
        let list = AccessList::new(&cidrs(&["127.0.0.0/8"]), &cidrs(&["127.0.0.2/32"]));
        assert!(list.permits("127.0.0.1".parse().unwrap()));
        assert!(list.permits("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!list.permits("127.0.0.2".parse().unwrap()));
        assert!(!list.permits("::1".parse().unwrap()));
    }
}
