//! The request a UDP probe sends to a port with a well-known service, so that a live server
//! answers (most ignore an empty datagram and would look `open|filtered`). Each one is
//! written from its protocol's RFC or specification, and each is small and harmless: a
//! status or version query, never a request that changes anything.

/// One well-known UDP service and the request sent to it.
#[derive(Debug)]
pub struct UdpPayload {
    /// The service's port.
    pub port: u16,
    /// What `-v` calls it, e.g. `DNS version.bind CH TXT query`.
    pub name: &'static str,
    /// Builds the datagram.
    pub build: fn() -> Vec<u8>,
}

/// Every service with a request of its own, by port.
pub static PAYLOADS: &[UdpPayload] = &[
    UdpPayload {
        port: 53,
        name: "DNS version.bind CH TXT query",
        build: dns_version_bind,
    },
    UdpPayload {
        port: 123,
        name: "NTPv4 client request",
        build: ntp_client,
    },
    UdpPayload {
        port: 137,
        name: "NetBIOS node status (NBSTAT *) query",
        build: netbios_node_status,
    },
    UdpPayload {
        port: 161,
        name: "SNMPv2c 'public' get of sysDescr.0",
        build: snmp_sysdescr,
    },
    UdpPayload {
        port: 1900,
        name: "SSDP M-SEARCH ssdp:all",
        build: ssdp_msearch,
    },
    UdpPayload {
        port: 5353,
        name: "mDNS _services._dns-sd._udp.local PTR query",
        build: mdns_services,
    },
    UdpPayload {
        port: 11211,
        name: "memcached stats",
        build: memcached_stats,
    },
];

/// The request for `port`'s service, if it has one.
pub fn for_port(port: u16) -> Option<&'static UdpPayload> {
    PAYLOADS.iter().find(|payload| payload.port == port)
}

/// A DNS message with one question (RFC 1035 4.1): header, QNAME as labels, QTYPE, QCLASS.
fn dns_query(id: u16, flags: u16, labels: &[&[u8]], qtype: u16, qclass: u16) -> Vec<u8> {
    let mut message = Vec::with_capacity(64);
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&flags.to_be_bytes());
    // QDCOUNT 1; ANCOUNT, NSCOUNT, ARCOUNT 0.
    message.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in labels {
        message.push(label.len() as u8);
        message.extend_from_slice(label);
    }
    message.push(0);
    message.extend_from_slice(&qtype.to_be_bytes());
    message.extend_from_slice(&qclass.to_be_bytes());
    message
}

/// RFC 1035 query, RD off, for `version.bind` TXT in class CHAOS (3): every common server
/// answers it, with its version or a refusal, and the answer is small.
fn dns_version_bind() -> Vec<u8> {
    dns_query(0x736b, 0x0000, &[b"version", b"bind"], 16, 3)
}

/// RFC 6762 query for the DNS-SD service list (RFC 6763 9), PTR (12) in class IN with the
/// unicast-response bit (top bit of QCLASS) set, since the probe is unicast.
fn mdns_services() -> Vec<u8> {
    dns_query(
        0,
        0,
        &[b"_services", b"_dns-sd", b"_udp", b"local"],
        12,
        0x8001,
    )
}

/// RFC 1001 14.1 first-level encoding: each byte of the 16-byte name as two letters,
/// `'A' + high nibble`, `'A' + low nibble`.
fn netbios_encode(name: &[u8; 16]) -> [u8; 32] {
    let mut encoded = [0u8; 32];
    for (index, byte) in name.iter().enumerate() {
        encoded[2 * index] = b'A' + (byte >> 4);
        encoded[2 * index + 1] = b'A' + (byte & 0x0f);
    }
    encoded
}

/// RFC 1002 4.2.17 NODE STATUS REQUEST for the wildcard name `*` (NUL padded): opcode
/// query, no flags, QTYPE NBSTAT (0x21), QCLASS IN.
fn netbios_node_status() -> Vec<u8> {
    let mut name = [0u8; 16];
    name[0] = b'*';
    dns_query(0x736b, 0x0000, &[&netbios_encode(&name)], 0x21, 1)
}

/// RFC 5905 7.3 packet from a client: LI 0, version 4, mode 3 (0x23), everything else zero
/// but the transmit timestamp, which the server copies into its reply's origin field.
fn ntp_client() -> Vec<u8> {
    let mut packet = vec![0u8; 48];
    packet[0] = (4 << 3) | 3;
    // A fixed, non-zero transmit timestamp (some servers drop a zero one).
    packet[40..48].copy_from_slice(b"sockx-ts");
    packet
}

/// An SNMPv2c GetRequest (RFC 3416) for sysDescr.0 (1.3.6.1.2.1.1.1.0) with community
/// `public`, in BER (X.690) written out by hand:
/// `Message ::= SEQUENCE { version INTEGER (1 = v2c), community OCTET STRING, data PDU }`.
fn snmp_sysdescr() -> Vec<u8> {
    vec![
        0x30, 0x29, // SEQUENCE, 41 bytes: the message
        0x02, 0x01, 0x01, // INTEGER 1: version 2c
        0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', // OCTET STRING "public"
        0xa0, 0x1c, // GetRequest-PDU [0], 28 bytes
        0x02, 0x04, 0x73, 0x6b, 0x78, 0x31, // request-id
        0x02, 0x01, 0x00, // error-status 0
        0x02, 0x01, 0x00, // error-index 0
        0x30, 0x0e, // variable-bindings: SEQUENCE, 14 bytes
        0x30, 0x0c, // one VarBind: SEQUENCE, 12 bytes
        0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, // OID 1.3.6.1.2.1.1.1.0
        0x05, 0x00, // NULL: no value in a request
    ]
}

/// UPnP Device Architecture 1.1 (1.3.2) search request for every device and service.
fn ssdp_msearch() -> Vec<u8> {
    b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n"
        .to_vec()
}

/// memcached's UDP protocol (protocol.txt, "UDP protocol"): an 8-byte frame header
/// (request id, sequence number 0, datagram count 1, reserved), then the text command.
fn memcached_stats() -> Vec<u8> {
    let mut datagram = vec![0x73, 0x6b, 0, 0, 0, 1, 0, 0];
    datagram.extend_from_slice(b"stats\r\n");
    datagram
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a one-question DNS message back: (id, flags, labels, qtype, qclass).
    fn parse_dns(message: &[u8]) -> (u16, u16, Vec<Vec<u8>>, u16, u16) {
        let word = |at: usize| u16::from_be_bytes([message[at], message[at + 1]]);
        assert_eq!(&message[4..12], &[0, 1, 0, 0, 0, 0, 0, 0], "one question");
        let mut at = 12;
        let mut labels = Vec::new();
        while message[at] != 0 {
            let len = usize::from(message[at]);
            assert!(len <= 63, "a label is at most 63 bytes");
            labels.push(message[at + 1..at + 1 + len].to_vec());
            at += 1 + len;
        }
        assert_eq!(message.len(), at + 5, "nothing after the question");
        (word(0), word(2), labels, word(at + 1), word(at + 3))
    }

    fn names(labels: &[Vec<u8>]) -> Vec<&str> {
        labels
            .iter()
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect()
    }

    #[test]
    fn every_port_has_one_entry() {
        for payload in PAYLOADS {
            assert!(std::ptr::eq(for_port(payload.port).unwrap(), payload));
            assert!(!(payload.build)().is_empty());
        }
        assert!(for_port(9).is_none());
    }

    #[test]
    fn dns_and_mdns_queries_read_back() {
        let (_, flags, labels, qtype, qclass) = parse_dns(&dns_version_bind());
        assert_eq!(flags, 0);
        assert_eq!(names(&labels), ["version", "bind"]);
        assert_eq!((qtype, qclass), (16, 3));

        let (id, flags, labels, qtype, qclass) = parse_dns(&mdns_services());
        assert_eq!(
            (id, flags),
            (0, 0),
            "RFC 6762 18.1: multicast queries use id 0"
        );
        assert_eq!(names(&labels), ["_services", "_dns-sd", "_udp", "local"]);
        assert_eq!((qtype, qclass), (12, 0x8001));
    }

    #[test]
    fn netbios_names_use_the_rfc_1001_encoding() {
        // RFC 1001 14.1's example: "FRED" padded with spaces.
        let mut fred = [b' '; 16];
        fred[..4].copy_from_slice(b"FRED");
        assert_eq!(&netbios_encode(&fred), b"EGFCEFEECACACACACACACACACACACACA");

        let (_, flags, labels, qtype, qclass) = parse_dns(&netbios_node_status());
        assert_eq!(flags, 0);
        assert_eq!(labels, [b"CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_vec()]);
        assert_eq!((qtype, qclass), (0x21, 1));
        assert_eq!(netbios_node_status().len(), 50);
    }

    #[test]
    fn the_ntp_request_is_a_version_4_client_packet() {
        let packet = ntp_client();
        assert_eq!(packet.len(), 48);
        assert_eq!(packet[0] >> 6, 0, "leap indicator");
        assert_eq!((packet[0] >> 3) & 7, 4, "version");
        assert_eq!(packet[0] & 7, 3, "mode: client");
        assert_ne!(&packet[40..48], &[0; 8]);
    }

    /// One BER TLV with a short-form length: (tag, contents, rest).
    fn tlv(bytes: &[u8]) -> (u8, &[u8], &[u8]) {
        let len = usize::from(bytes[1]);
        assert!(len < 0x80, "short-form length");
        (bytes[0], &bytes[2..2 + len], &bytes[2 + len..])
    }

    #[test]
    fn the_snmp_request_nests_correctly() {
        let message = snmp_sysdescr();
        let (tag, body, rest) = tlv(&message);
        assert_eq!((tag, rest.len()), (0x30, 0));
        let (tag, version, body) = tlv(body);
        assert_eq!((tag, version), (0x02, &[1u8][..]));
        let (tag, community, body) = tlv(body);
        assert_eq!((tag, community), (0x04, &b"public"[..]));
        let (tag, pdu, rest) = tlv(body);
        assert_eq!((tag, rest.len()), (0xa0, 0));
        let (_, _request_id, pdu) = tlv(pdu);
        let (_, status, pdu) = tlv(pdu);
        let (_, index, pdu) = tlv(pdu);
        assert_eq!((status, index), (&[0u8][..], &[0u8][..]));
        let (tag, bindings, rest) = tlv(pdu);
        assert_eq!((tag, rest.len()), (0x30, 0));
        let (tag, binding, rest) = tlv(bindings);
        assert_eq!((tag, rest.len()), (0x30, 0));
        let (tag, oid, value) = tlv(binding);
        // 1.3 is 43 (40 * 1 + 3); the rest one byte each.
        assert_eq!((tag, oid), (0x06, &[43u8, 6, 1, 2, 1, 1, 1, 0][..]));
        assert_eq!(value, [0x05, 0x00]);
    }

    #[test]
    fn text_requests_are_well_formed() {
        let ssdp = String::from_utf8(ssdp_msearch()).unwrap();
        assert!(ssdp.starts_with("M-SEARCH * HTTP/1.1\r\n"));
        assert!(ssdp.contains("\r\nMAN: \"ssdp:discover\"\r\n"));
        assert!(ssdp.ends_with("\r\n\r\n"));
        let memcached = memcached_stats();
        assert_eq!(&memcached[2..8], &[0, 0, 0, 1, 0, 0]);
        assert_eq!(&memcached[8..], b"stats\r\n");
    }
}
