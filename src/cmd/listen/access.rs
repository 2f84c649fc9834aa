//! `--allow` / `--deny`: which peers a listener serves. Pure, so every mode (the one-shot
//! mode included) applies the same rule.

use std::fmt;
use std::net::IpAddr;

use crate::net::Cidr;

/// The access rule built from `--allow CIDR` and `--deny CIDR` (both repeatable).
///
/// A peer is refused when it lies in any `--deny` block (deny wins), or when at least one
/// `--allow` block is given and the peer lies in none of them. IPv4-mapped IPv6 peers (as
/// seen on a dual-stack `[::]` listener) match IPv4 blocks.
#[derive(Debug, Clone, Default)]
pub struct AccessList {
    allow: Vec<Cidr>,
    deny: Vec<Cidr>,
}

/// Why a peer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The peer lies in this `--deny` block.
    Denied(Cidr),
    /// `--allow` blocks were given and the peer lies in none of them.
    NotAllowed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Denied(block) => write!(f, "denied by --deny {block}"),
            Refusal::NotAllowed => f.write_str("not in any --allow block"),
        }
    }
}

impl AccessList {
    /// The rule from the two lists.
    pub fn new(allow: &[Cidr], deny: &[Cidr]) -> AccessList {
        AccessList {
            allow: allow.to_vec(),
            deny: deny.to_vec(),
        }
    }

    /// Whether `peer` may connect.
    pub fn permits(&self, peer: IpAddr) -> bool {
        self.check(peer).is_ok()
    }

    /// `Ok` when `peer` may connect, otherwise the reason it may not.
    pub fn check(&self, peer: IpAddr) -> Result<(), Refusal> {
        if let Some(block) = self.deny.iter().find(|block| contains(block, peer)) {
            return Err(Refusal::Denied(*block));
        }
        if self.allow.is_empty() || self.allow.iter().any(|block| contains(block, peer)) {
            Ok(())
        } else {
            Err(Refusal::NotAllowed)
        }
    }
}

/// `Cidr::contains`, made symmetric: an IPv6 block written for IPv4-mapped addresses
/// (`::ffff:10.0.0.0/104`) also matches a peer that arrives as plain IPv4.
fn contains(block: &Cidr, peer: IpAddr) -> bool {
    if block.contains(peer) {
        return true;
    }
    match peer {
        IpAddr::V4(v4) => block.contains(IpAddr::V6(v4.to_ipv6_mapped())),
        IpAddr::V6(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|text| text.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn no_rules_let_everyone_in() {
        let list = AccessList::default();
        assert_eq!(list.check(ip("203.0.113.9")), Ok(()));
        assert_eq!(list.check(ip("::1")), Ok(()));
    }

    #[test]
    fn deny_refuses_its_block_only() {
        let list = AccessList::new(&[], &cidrs(&["127.0.0.0/8"]));
        assert_eq!(
            list.check(ip("127.0.0.1")),
            Err(Refusal::Denied("127.0.0.0/8".parse().unwrap()))
        );
        assert_eq!(list.check(ip("10.1.2.3")), Ok(()));
        assert_eq!(list.check(ip("::1")), Ok(()));
    }

    #[test]
    fn allow_list_refuses_everyone_else() {
        let list = AccessList::new(&cidrs(&["127.0.0.1/32", "2001:db8::/32"]), &[]);
        assert_eq!(list.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(list.check(ip("2001:db8::7")), Ok(()));
        assert_eq!(list.check(ip("127.0.0.2")), Err(Refusal::NotAllowed));
        assert_eq!(list.check(ip("::1")), Err(Refusal::NotAllowed));
    }

    #[test]
    fn deny_wins_over_allow() {
        let list = AccessList::new(&cidrs(&["10.0.0.0/8"]), &cidrs(&["10.9.0.0/16"]));
        assert_eq!(list.check(ip("10.1.0.1")), Ok(()));
        assert!(matches!(
            list.check(ip("10.9.0.1")),
            Err(Refusal::Denied(_))
        ));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_blocks() {
        // What a dual-stack [::] listener reports for an IPv4 client.
        let mapped = ip("::ffff:127.0.0.1");
        let deny = AccessList::new(&[], &cidrs(&["127.0.0.0/8"]));
        assert!(deny.check(mapped).is_err());
        assert!(!deny.permits(mapped));
        let allow = AccessList::new(&cidrs(&["127.0.0.1/32"]), &[]);
        assert_eq!(allow.check(mapped), Ok(()));
        // And a mapped block matches a plain IPv4 peer.
        let mapped_block = AccessList::new(&[], &cidrs(&["::ffff:127.0.0.0/104"]));
        assert!(mapped_block.check(ip("127.0.0.1")).is_err());
    }

    #[test]
    fn refusals_explain_themselves() {
        let denied = Refusal::Denied("127.0.0.0/8".parse().unwrap());
        assert_eq!(denied.to_string(), "denied by --deny 127.0.0.0/8");
        assert_eq!(Refusal::NotAllowed.to_string(), "not in any --allow block");
    }
}
