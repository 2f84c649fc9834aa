//! From targets to probes: hosts resolved once, one record per host and port, one engine job
//! per address (a name with several addresses is open when any of them is).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::config::{MAX_PROBES, TargetPorts};
use super::engine::Job;
use super::outcome::{Outcome, PortState};
use crate::error::Error;
use crate::net::{Family, Host, HostSpec, resolve};

/// A host as it appears in the output, with the addresses to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// As the user named it (a name or an address, without brackets): JSON `host`.
    pub name: String,
    /// For `HOST:PORT` display: IPv6 addresses bracketed.
    pub shown: String,
    /// Whether `name` is a DNS name rather than an address.
    pub is_name: bool,
    /// The addresses to probe.
    pub ips: Vec<IpAddr>,
}

impl HostEntry {
    /// An address as its own host.
    pub fn from_ip(ip: IpAddr) -> HostEntry {
        HostEntry {
            name: ip.to_string(),
            shown: Host::Ip(ip).to_string(),
            is_name: false,
            ips: vec![ip],
        }
    }
}

/// Resolves a target's hosts for `family`: an address as is, a name through the resolver
/// (exit 1 when it fails), a block to each of its addresses.
pub fn resolve_hosts(hosts: &HostSpec, family: Family) -> Result<Vec<HostEntry>, Error> {
    match hosts {
        HostSpec::Host(host @ Host::Ip(ip)) => {
            // resolve() refuses a literal that contradicts -4/-6 (exit 2).
            resolve(host, 0, family)?;
            Ok(vec![HostEntry::from_ip(*ip)])
        }
        HostSpec::Host(host @ Host::Name(name)) => {
            let addrs = resolve(host, 0, family)?;
            Ok(vec![HostEntry {
                name: name.clone(),
                shown: name.clone(),
                is_name: true,
                ips: addrs.iter().map(SocketAddr::ip).collect(),
            }])
        }
        HostSpec::Block(block) => {
            let entries: Vec<HostEntry> = block
                .addrs()
                .take(MAX_PROBES as usize + 1)
                .filter(|ip| family.allows(*ip))
                .map(HostEntry::from_ip)
                .collect();
            if entries.is_empty() {
                return Err(Error::usage(format!(
                    "{block} has no address of the requested family"
                )));
            }
            Ok(entries)
        }
    }
}

/// How many host and port pairs `targets` name (a name counts as one host), saturating.
pub fn planned_probes(targets: &[TargetPorts]) -> u128 {
    targets
        .iter()
        .map(|target| {
            let hosts = match &target.hosts {
                HostSpec::Host(_) => 1,
                HostSpec::Block(block) => block.size(),
            };
            hosts.saturating_mul(target.ports.len() as u128)
        })
        .fold(0u128, u128::saturating_add)
}

/// Refuses a run that would make more than [`MAX_PROBES`] probes, before resolving anything.
pub fn check_size(targets: &[TargetPorts]) -> Result<(), Error> {
    let total = planned_probes(targets);
    if total > u128::from(MAX_PROBES) {
        return Err(Error::usage(format!(
            "too many probes: {total} host and port pairs (at most {MAX_PROBES})"
        ))
        .with_hint("narrow the CIDR block or the port list"));
    }
    Ok(())
}

/// One host and port, and the best outcome among its addresses so far.
#[derive(Debug, Clone)]
pub struct Record {
    /// The host.
    pub host: Arc<HostEntry>,
    /// The port.
    pub port: u16,
    /// The address that gave the outcome, and the outcome.
    pub result: Option<(SocketAddr, Outcome)>,
}

impl Record {
    /// Keeps `outcome` when it says more than what is there: open over closed over silence.
    pub fn merge(&mut self, addr: SocketAddr, outcome: Outcome) {
        // Among open addresses, one whose check holds wins.
        let better = self.result.as_ref().is_none_or(|(_, old)| {
            rank(outcome.state) > rank(old.state) || (outcome.passes() && !old.passes())
        });
        if better {
            self.result = Some((addr, outcome));
        }
    }

    /// `HOST:PORT` for people.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host.shown, self.port)
    }
}

fn rank(state: PortState) -> u8 {
    match state {
        PortState::Open => 3,
        PortState::Closed => 2,
        PortState::OpenFiltered => 1,
        PortState::Filtered => 0,
    }
}

/// Records in target, host and port order, and the jobs that fill them.
#[derive(Debug, Default)]
pub struct Plan {
    /// One per host and port.
    pub records: Vec<Record>,
    /// One per address and port; `Job::id` indexes `records`.
    pub jobs: Vec<Job>,
    /// Distinct hosts.
    pub hosts: usize,
}

impl Plan {
    /// Adds every port of `ports` on `host`.
    pub fn add(&mut self, host: Arc<HostEntry>, ports: &[u16]) {
        self.hosts += 1;
        for &port in ports {
            let id = self.records.len();
            for &ip in &host.ips {
                self.jobs.push(Job {
                    id,
                    addr: SocketAddr::new(ip, port),
                });
            }
            self.records.push(Record {
                host: host.clone(),
                port,
                result: None,
            });
        }
    }

    /// Resolves every target and plans its probes.
    pub fn build(targets: &[TargetPorts], family: Family) -> Result<Plan, Error> {
        check_size(targets)?;
        let mut plan = Plan::default();
        for target in targets {
            for host in resolve_hosts(&target.hosts, family)? {
                plan.add(Arc::new(host), &target.ports);
            }
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::probe::outcome::Reason;

    #[test]
    fn open_wins_over_closed_and_silence() {
        let host = Arc::new(HostEntry::from_ip("127.0.0.1".parse().unwrap()));
        let mut record = Record {
            host,
            port: 80,
            result: None,
        };
        let a: SocketAddr = "[::1]:80".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:80".parse().unwrap();
        record.merge(a, Outcome::timed_out(false));
        record.merge(
            b,
            Outcome::new(PortState::Closed, Reason::ConnRefused, None),
        );
        assert_eq!(record.result.as_ref().unwrap().0, b);
        record.merge(a, Outcome::new(PortState::Open, Reason::SynAck, None));
        record.merge(
            b,
            Outcome::new(PortState::Closed, Reason::ConnRefused, None),
        );
        assert_eq!(record.result.as_ref().unwrap().1.state, PortState::Open);
        assert_eq!(record.endpoint(), "127.0.0.1:80");
    }

    #[test]
    fn huge_scans_are_refused_before_any_io() {
        let targets = vec![TargetPorts {
            hosts: HostSpec::Block("10.0.0.0/8".parse().unwrap()),
            ports: vec![22, 80],
        }];
        let err = check_size(&targets).unwrap_err();
        assert_eq!(err.status, crate::error::Status::Usage);
        let small = vec![TargetPorts {
            hosts: HostSpec::Block("10.0.0.0/24".parse().unwrap()),
            ports: (1..=100).collect(),
        }];
        assert!(check_size(&small).is_ok());
    }

    #[test]
    fn blocks_expand_and_families_filter() {
        let block = HostSpec::Block("127.0.0.0/30".parse().unwrap());
        let hosts = resolve_hosts(&block, Family::Any).unwrap();
        assert_eq!(hosts.len(), 4);
        assert_eq!(hosts[3].name, "127.0.0.3");
        assert!(resolve_hosts(&block, Family::V6).is_err());
        let v6 = HostSpec::Host(Host::Ip("::1".parse().unwrap()));
        assert_eq!(resolve_hosts(&v6, Family::Any).unwrap()[0].shown, "[::1]");
    }
}
