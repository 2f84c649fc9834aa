//! A scan's plan as an index space, never materialised: position `i` of `0..len` is computed
//! into its job (address and port) when the engine gets to it, so memory does not grow with
//! the plan (a /12 costs what a /24 does). Blocks stay blocks (the address is the network
//! plus an offset); names and single addresses are resolved once into a short list. Excluded
//! addresses are skipped on the fly; excluded ports never enter the plan. With `--random`
//! the positions go through a keyed permutation of the index space (a Feistel network with
//! cycle-walking), so the order is shuffled without a list of what is left.

use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::config::TargetPorts;
use super::engine::{Job, Source};
use super::plan::{HostEntry, resolve_hosts};
use crate::error::Error;
use crate::net::addr::{ip_to_u128, u128_to_ip};
use crate::net::{Cidr, Family, HostSpec};

/// The most host × port probes one scan may plan: a /8 on one port, or 256 hosts on every
/// port. Memory does not limit it (the plan is computed, not stored), the hours it would take
/// do.
pub const MAX_SCAN_PROBES: u64 = 1 << 24;

/// Addresses taken out of a scan (`--exclude`), as sorted, merged ranges per family.
#[derive(Debug, Clone, Default)]
pub struct Excludes {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl Excludes {
    /// Resolves every `--exclude` (an address, a block, or a name: all its addresses).
    pub fn resolve(specs: &[HostSpec]) -> Result<Excludes, Error> {
        let mut excludes = Excludes::default();
        for spec in specs {
            match spec {
                HostSpec::Block(block) => excludes.add_block(block),
                HostSpec::Host(_) => {
                    // Every address of a name, whatever -4/-6 says: a name that does not
                    // resolve fails the run rather than probing what was meant to be left out.
                    for host in resolve_hosts(spec, Family::Any)? {
                        for ip in host.ips {
                            let n = ip_to_u128(ip.to_canonical());
                            excludes.push(ip.to_canonical().is_ipv4(), (n, n));
                        }
                    }
                }
            }
        }
        excludes.merge();
        Ok(excludes)
    }

    fn add_block(&mut self, block: &Cidr) {
        let first = ip_to_u128(block.network());
        let last = first.saturating_add(block.size().saturating_sub(1));
        self.push(block.network().is_ipv4(), (first, last));
    }

    fn push(&mut self, v4: bool, range: (u128, u128)) {
        if v4 {
            self.v4.push(range);
        } else {
            self.v6.push(range);
        }
    }

    fn merge(&mut self) {
        for ranges in [&mut self.v4, &mut self.v6] {
            ranges.sort_unstable();
            let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
            for &(first, last) in ranges.iter() {
                match merged.last_mut() {
                    Some(top) if first <= top.1.saturating_add(1) => top.1 = top.1.max(last),
                    _ => merged.push((first, last)),
                }
            }
            *ranges = merged;
        }
    }

    fn ranges(&self, v4: bool) -> &[(u128, u128)] {
        if v4 { &self.v4 } else { &self.v6 }
    }

    /// Whether `ip` is excluded.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let n = ip_to_u128(ip);
        let ranges = self.ranges(ip.is_ipv4());
        let at = ranges.partition_point(|&(first, _)| first <= n);
        at > 0 && ranges[at - 1].1 >= n
    }

    /// How many addresses of `first..=last` (family `v4`) are excluded.
    fn count_in(&self, v4: bool, first: u128, last: u128) -> u128 {
        self.ranges(v4)
            .iter()
            .filter(|&&(a, b)| a <= last && b >= first)
            .map(|&(a, b)| b.min(last) - a.max(first) + 1)
            .sum()
    }
}

/// The addresses of one target.
#[derive(Debug)]
enum Addrs {
    /// Every address of a block, by offset from its network address.
    Block { first: u128, v4: bool, count: u64 },
    /// Resolved hosts: each address with its host and the host's index in the target.
    List(Vec<(Arc<HostEntry>, IpAddr, u64)>),
}

/// One target: its addresses × its ports, from position `start` on.
#[derive(Debug)]
struct Segment {
    start: u64,
    addrs: Addrs,
    ports: Vec<u16>,
    /// The first record id of this target (records are numbered host-major, then port).
    record_base: u64,
}

/// A scan's plan: positions `0..len()`, each an address and port (or nothing, when excluded).
#[derive(Debug)]
pub struct Space {
    segments: Vec<Segment>,
    len: u64,
    probes: u64,
    records: u64,
    pairs: u64,
    hosts: u64,
    excludes: Excludes,
    shuffle: Option<Shuffle>,
}

impl Space {
    /// Plans `targets` without `excludes` and `exclude_ports`; refuses a plan of more than
    /// [`MAX_SCAN_PROBES`] (exit 2) before resolving anything.
    pub fn build(
        targets: &[TargetPorts],
        family: Family,
        excludes: Excludes,
        exclude_ports: &[u16],
        random: bool,
    ) -> Result<Space, Error> {
        let planned = super::plan::planned_probes(targets);
        if planned > u128::from(MAX_SCAN_PROBES) {
            return Err(Error::usage(format!(
                "too many probes: {planned} host and port pairs (at most {MAX_SCAN_PROBES})"
            ))
            .with_hint("narrow the CIDR block or the port list, or split the scan"));
        }
        let mut space = Space {
            segments: Vec::new(),
            len: 0,
            probes: 0,
            records: 0,
            pairs: 0,
            hosts: 0,
            excludes,
            shuffle: None,
        };
        for target in targets {
            let ports: Vec<u16> = target
                .ports
                .iter()
                .copied()
                .filter(|port| !exclude_ports.contains(port))
                .collect();
            if ports.is_empty() {
                continue;
            }
            let addrs = match &target.hosts {
                HostSpec::Block(block) if family.allows(block.network()) => {
                    let first = ip_to_u128(block.network());
                    let v4 = block.network().is_ipv4();
                    let count = block.size() as u64;
                    let last = first + u128::from(count) - 1;
                    let excluded = space.excludes.count_in(v4, first, last) as u64;
                    space.hosts += count - excluded;
                    space.probes += (count - excluded) * ports.len() as u64;
                    space.pairs += (count - excluded) * ports.len() as u64;
                    Addrs::Block { first, v4, count }
                }
                HostSpec::Block(block) => {
                    return Err(Error::usage(format!(
                        "{block} has no address of the requested family"
                    )));
                }
                HostSpec::Host(_) => {
                    let mut list = Vec::new();
                    let mut kept = 0;
                    for (index, mut host) in resolve_hosts(&target.hosts, family)?
                        .into_iter()
                        .enumerate()
                    {
                        host.ips.retain(|ip| !space.excludes.contains(*ip));
                        if host.ips.is_empty() {
                            continue;
                        }
                        let host = Arc::new(host);
                        for &ip in &host.ips {
                            list.push((host.clone(), ip, index as u64));
                        }
                        kept += 1;
                    }
                    space.hosts += kept;
                    space.pairs += kept * ports.len() as u64;
                    if list.is_empty() {
                        continue;
                    }
                    space.probes += list.len() as u64 * ports.len() as u64;
                    Addrs::List(list)
                }
            };
            let (addr_count, host_count) = match &addrs {
                Addrs::Block { count, .. } => (*count, *count),
                Addrs::List(list) => (
                    list.len() as u64,
                    list.last().map_or(0, |(_, _, index)| index + 1),
                ),
            };
            let segment = Segment {
                start: space.len,
                addrs,
                record_base: space.records,
                ports,
            };
            space.len += addr_count * segment.ports.len() as u64;
            space.records += host_count * segment.ports.len() as u64;
            space.segments.push(segment);
        }
        if random {
            space.shuffle = Some(Shuffle::new(space.len));
        }
        Ok(space)
    }

    /// Probes to make (excluded addresses left out).
    pub fn probes(&self) -> u64 {
        self.probes
    }

    /// Distinct hosts probed.
    pub fn hosts(&self) -> u64 {
        self.hosts
    }

    /// Host and port pairs probed (the `32 ports` rule counts these).
    pub fn pairs(&self) -> u64 {
        self.pairs
    }

    /// The host of a job, for its report, and how many addresses its record has.
    pub fn host_of(&self, job: &Job) -> (Arc<HostEntry>, usize) {
        let segment = self.segment_of_record(job.id as u64);
        match &segment.addrs {
            Addrs::Block { .. } => (Arc::new(HostEntry::from_ip(job.addr.ip())), 1),
            Addrs::List(list) => {
                let host_index = (job.id as u64 - segment.record_base) / segment.ports.len() as u64;
                let at = list.partition_point(|(_, _, index)| *index < host_index);
                let host = list[at].0.clone();
                let count = host.ips.len();
                (host, count)
            }
        }
    }

    /// The hosts planned by name or address (not those of blocks), for the HTTP check's
    /// `Host` header.
    pub fn listed_hosts(&self) -> impl Iterator<Item = &HostEntry> {
        self.segments
            .iter()
            .flat_map(|segment| match &segment.addrs {
                Addrs::List(list) => list.iter().map(|(host, _, _)| &**host).collect::<Vec<_>>(),
                Addrs::Block { .. } => Vec::new(),
            })
    }

    /// Whether the job's record has this one address only (a block's, a literal's, a name's
    /// with one address): its outcome is final as it comes.
    pub fn is_single_address(&self, job: &Job) -> bool {
        match &self.segment_of_record(job.id as u64).addrs {
            Addrs::Block { .. } => true,
            Addrs::List(_) => self.host_of(job).1 == 1,
        }
    }

    fn segment_of_record(&self, record: u64) -> &Segment {
        let at = self
            .segments
            .partition_point(|segment| segment.record_base <= record);
        &self.segments[at.saturating_sub(1)]
    }

    /// The job at `index` of the (unshuffled) plan, or `None` when its address is excluded.
    fn job_at(&self, index: u64) -> Option<Job> {
        let at = self
            .segments
            .partition_point(|segment| segment.start <= index);
        let segment = self.segments.get(at.checked_sub(1)?)?;
        let local = index - segment.start;
        let nports = segment.ports.len() as u64;
        let (addr_index, port_index) = (local / nports, local % nports);
        let port = segment.ports[port_index as usize];
        let (ip, host_index) = match &segment.addrs {
            Addrs::Block { first, v4, .. } => {
                let ip = u128_to_ip(first + u128::from(addr_index), *v4);
                if self.excludes.contains(ip) {
                    return None;
                }
                (ip, addr_index)
            }
            Addrs::List(list) => {
                let (_, ip, host_index) = list.get(addr_index as usize)?;
                (*ip, *host_index)
            }
        };
        let id = segment.record_base + host_index * nports + port_index;
        Some(Job {
            id: id as usize,
            addr: SocketAddr::new(ip, port),
        })
    }
}

impl Source for Space {
    fn len(&self) -> u64 {
        self.len
    }

    fn job(&self, position: u64) -> Option<Job> {
        let index = match &self.shuffle {
            Some(shuffle) => shuffle.permute(position),
            None => position,
        };
        self.job_at(index)
    }
}

/// A keyed permutation of `0..len`: a four-round Feistel network over the smallest even
/// number of bits that holds `len`, walked until it lands inside (at most four steps on
/// average). Each position maps on its own, so threads share the order without a list.
#[derive(Debug)]
struct Shuffle {
    len: u64,
    half_bits: u32,
    keys: std::collections::hash_map::RandomState,
}

impl Shuffle {
    const ROUNDS: u64 = 4;

    fn new(len: u64) -> Shuffle {
        let bits = (64 - len.saturating_sub(1).leading_zeros()).max(2);
        Shuffle {
            len,
            half_bits: bits.div_ceil(2),
            keys: std::collections::hash_map::RandomState::new(),
        }
    }

    fn permute(&self, position: u64) -> u64 {
        let mut value = position;
        loop {
            value = self.encrypt(value);
            if value < self.len {
                return value;
            }
        }
    }

    fn encrypt(&self, value: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let (mut left, mut right) = (value >> self.half_bits, value & mask);
        for round in 0..Self::ROUNDS {
            let mixed = self.keys.hash_one((round, right)) & mask;
            (left, right) = (right, left ^ mixed);
        }
        (left << self.half_bits) | right
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn target(hosts: &str, ports: &[u16]) -> TargetPorts {
        TargetPorts {
            hosts: hosts.parse().unwrap(),
            ports: ports.to_vec(),
        }
    }

    fn jobs(space: &Space) -> Vec<Job> {
        (0..space.len()).filter_map(|p| space.job(p)).collect()
    }

    #[test]
    fn blocks_and_hosts_in_order_with_excludes_applied() {
        let excludes = Excludes::resolve(&["127.0.0.2".parse().unwrap()]).unwrap();
        let space = Space::build(
            &[target("127.0.0.0/30", &[80, 443, 22]), target("::1", &[80])],
            Family::Any,
            excludes,
            &[443],
            false,
        )
        .unwrap();
        assert_eq!(space.probes(), 3 * 2 + 1);
        assert_eq!(space.hosts(), 4);
        let found: Vec<String> = jobs(&space).iter().map(|j| j.addr.to_string()).collect();
        assert_eq!(
            found,
            [
                "127.0.0.0:80",
                "127.0.0.0:22",
                "127.0.0.1:80",
                "127.0.0.1:22",
                "127.0.0.3:80",
                "127.0.0.3:22",
                "[::1]:80"
            ]
        );
        let ids: Vec<usize> = jobs(&space).iter().map(|j| j.id).collect();
        assert_eq!(ids, [0, 1, 2, 3, 6, 7, 8]);
        assert_eq!(space.host_of(&jobs(&space)[6]).0.shown, "[::1]");
    }

    #[test]
    fn random_order_visits_every_job_once() {
        let ordered = Space::build(
            &[target("127.0.0.0/22", &[1, 2, 3])],
            Family::Any,
            Excludes::default(),
            &[],
            false,
        )
        .unwrap();
        let shuffled = Space::build(
            &[target("127.0.0.0/22", &[1, 2, 3])],
            Family::Any,
            Excludes::default(),
            &[],
            true,
        )
        .unwrap();
        let a: Vec<Job> = jobs(&ordered);
        let b: Vec<Job> = jobs(&shuffled);
        assert_eq!(a.len(), 3072);
        assert_ne!(a, b, "the order is shuffled");
        let set: HashSet<(usize, SocketAddr)> = b.iter().map(|j| (j.id, j.addr)).collect();
        assert_eq!(set.len(), 3072);
        assert!(a.iter().all(|j| set.contains(&(j.id, j.addr))));
        for len in [1, 2, 3, 5, 1000] {
            let shuffle = Shuffle::new(len);
            let seen: HashSet<u64> = (0..len).map(|p| shuffle.permute(p)).collect();
            assert_eq!(seen.len() as u64, len);
        }
    }

    #[test]
    fn plans_over_the_maximum_are_refused_and_excludes_merge() {
        let err = Space::build(
            &[target("10.0.0.0/7", &[80])],
            Family::Any,
            Excludes::default(),
            &[],
            false,
        )
        .unwrap_err();
        assert_eq!(err.status, crate::error::Status::Usage);
        let excludes = Excludes::resolve(&[
            "10.0.0.0/24".parse().unwrap(),
            "10.0.0.128/25".parse().unwrap(),
            "10.0.1.0/24".parse().unwrap(),
        ])
        .unwrap();
        assert_eq!(excludes.v4.len(), 1);
        assert!(excludes.contains("10.0.1.255".parse().unwrap()));
        assert!(!excludes.contains("10.0.2.0".parse().unwrap()));
        let first = ip_to_u128("10.0.0.0".parse().unwrap());
        assert_eq!(excludes.count_in(true, first, first + 1023), 512);
    }
}
