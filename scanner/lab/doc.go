// Package lab is danescan's simulated internet: a deterministic, generated
// population of mail domains (Generate) served from loopback by an
// in-process DNS server (Start) that answers like a recursive resolver.
//
// The world is built as real DNS zones (a root, TLD zones, one zone per
// provider and per second-level domain) written in RFC 1035 master file
// syntax; the server loads its records by parsing exactly that text, so the
// files written by World.WriteFiles are what is served. Records exercise
// RFC 974/5321 MX resolution, RFC 7505 null MX, RFC 6698/7671/7672 TLSA
// records at _25._tcp.<mx host> (valid and malformed), RFC 8461 MTA-STS and
// RFC 8460 SMTP TLS reporting TXT records, RFC 1034 CNAME chains and loops,
// RFC 2308 negative answers (NXDOMAIN, NODATA with the zone SOA), RFC 8020
// empty non-terminals and RFC 6891 EDNS(0) with truncation over UDP.
// Internationalised names follow RFC 5891 (A-labels, RFC 3492 Punycode).
//
// Four kinds of domains are faults of the server rather than zone data:
// servfail, timeout and refused domains are delegated in their TLD zone
// with no zone of their own (lame delegations, which any resolver turns
// into SERVFAIL), and the server answers every query at or below them with
// SERVFAIL, nothing, or REFUSED; mismatch domains have an ordinary zone but
// their answers carry another question name.
//
// Every simulated address is a documentation address (RFC 5737
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and RFC 3849
// 2001:db8::/32); the server itself listens on 127.0.0.1 only.
//
// With Config.DNSSEC the world is signed (RFC 4033, RFC 4034, RFC 4035):
// every zone has keys derived from the seed (Ed25519, RFC 8080; ECDSA
// P-256 and P-384, RFC 6605), published as DNSKEY records in its zone text
// with a DS record in the parent, and the root's DS is the trust anchor
// (World.TrustAnchor). The server signs each RRset the first time it
// serves it with DO set and keeps the RRSIG; negative answers carry the
// SOA, NSEC (RFC 4035 section 3.1.3) or NSEC3 (RFC 5155 section 7.2, .com
// with opt-out) records and their RRSIGs, and DS queries are answered from
// the parent side of the zone cut (RFC 4035 section 3.1.4.1). The zone
// texts carry DNSKEY, DS and NSEC3PARAM records but no RRSIG, NSEC or
// NSEC3 records: those exist only in answers. Most domain zones are
// secure; some are unsigned (no DS), and one each is broken so that a
// validator finds every failure of scanner/dnssec that a zone can show;
// Domain.DNSSEC and Domain.DNSSECReason say what it should find.
package lab
