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
// Config.Population selects the world. The zero value, Stress, is the
// world described here: most zones signed, every special case once.
// Realistic (realistic.go) draws the same kinds of domains from a table
// calibrated on published measurements, each row with its source: few
// signed zones outside some ccTLDs, RSA/SHA-256 first (RFC 5702; a KSK
// and a ZSK per DNS operator, shared by its zones), a few large mail
// providers, TLSA records mostly at DANE-enabled hosters, and the
// failure cases at measured rates instead of once each.
//
// Four kinds of domains are faults of the server rather than zone data:
// servfail, timeout and refused domains are delegated in their TLD zone
// with no zone of their own (lame delegations, which any resolver turns
// into SERVFAIL), and the server answers every query at or below them with
// SERVFAIL, nothing, or REFUSED; mismatch domains have an ordinary zone but
// their answers carry another question name. One TLSA name (the
// tlsa-indeterminate case below) is answered with SERVFAIL the same way,
// while the rest of its zone answers normally.
//
// Every simulated address is a documentation address (RFC 5737
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and RFC 3849
// 2001:db8::/32); the DNS server itself listens on 127.0.0.1 only, and
// the SMTP servers listen nowhere (see below).
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
// Domain.DNSSEC and Domain.DNSSECReason say what it should find. In one
// otherwise secure zone (the tlsa-bogus case) only the RRSIG of the TLSA
// RRset has expired.
//
// # Mail servers, certificates and DANE cases
//
// StartSMTP gives every MX address of the world an SMTP server (RFC 5321,
// RFC 3207 STARTTLS) reached through SMTP.Dial, which hands out one end
// of a net.Pipe: no socket is opened and nothing is dialled, and any
// address that is not an MX address of the world (loopback included) is
// refused with ECONNREFUSED. Servers greet with 220 (two lines at the
// providers), offer STARTTLS in their EHLO reply, answer QUIT and refuse
// MAIL, RCPT and DATA. After STARTTLS they present the certificates of
// the host named by the SNI; many self-hosted hosts share an IPv4
// address, as virtual hosts do, so the SNI (the TLSA base domain, RFC
// 7672 section 8.1) selects the host.
//
// The certificates come from a private CA (certs.go): a root and an
// intermediate, ECDSA P-256 keys derived from the seed; leaves are issued
// by the intermediate to the host name with a key from a pool of 64 ECDSA
// keys (chosen by a hash of the name) or, for the RSA cases, from two fixed
// RSA-2048 keys. Leaves are made with a nil random source, so the ECDSA
// signature is deterministic (RFC 6979) and the same host always presents
// the same DER: TLSA records with selector 0 are rendered from it. Validity
// is fixed (1990 to 2999; expired leaves ended in 1999). A server sends its
// leaf and the intermediate unless a case says otherwise. The leaf of the
// tlsa-300-large case carries SAN names beyond its host's until its DER is
// 4,092 bytes (the filler varied deterministically until the ECDSA
// signature's length makes it so).
//
// Config.Rolled builds the same world in a later epoch: the host of the
// tlsa-rolled-over case (CaseRolledOver) then presents a leaf with the
// next key of the pool, while DNS serves byte for byte the same zones, so
// its "3 1 1" of the old key passes in epoch 0 and fails with no_match
// once rolled. Scanning a world in both epochs shows a record left stale
// by a rollover across scans.
//
// TLSA records are tied to these certificates. The ordinary self-hosted
// variants (every usage x selector x matching type) name the leaf for
// usages 1 and 3 and the intermediate for usages 0 and 2, so that usages 2
// and 3 pass and usages 0 and 1 give no_usable_records; the second record
// of a two-record set is the next key of a rollover, random data that no
// server presents yet; the malformed variants (usage 4 and 255, selector 2,
// matching type 3, digests of 31, 33 or 63 bytes) keep random data and are
// unusable. Providers publish "3 1 1" of the leaf, "3 1 1" of the leaf and
// of a next key, or "2 1 1" of the intermediate and "3 1 1" of the leaf;
// all pass. The domain with a TLSA RRset beyond 1232 bytes has 19 random
// "3 1 2" records and one matching: it passes.
//
// In worlds of 200 domains or more, each case below is given to one
// self-hosted domain with one MX host, mx.<domain> (World.DANECases), as
// long as such domains last (a world of 1,000 domains has every case);
// its zone is secure in a DNSSEC world except for tlsa-unsigned-zone. The
// verdict is that of an ordinary handshake ("any"); the rsa-ecdsa cases
// differ by SigAlgs mode; "validated" is the verdict of a scan that
// validates a DNSSEC world where it differs.
//
//	case                   TLSA                      the server presents                      verdict
//	dane-ee-spki-sha256    3 1 1 leaf                leaf, intermediate                       pass
//	dane-ee-cert-sha256    3 0 1 leaf                leaf, intermediate                       pass
//	dane-ee-spki-sha512    3 1 2 leaf                leaf, intermediate                       pass
//	dane-ee-cert-full      3 0 0 leaf                leaf, intermediate                       pass
//	dane-ta-intermediate   2 1 1 intermediate        leaf, intermediate                       pass
//	pkix-usages-only       1 1 1 leaf, 0 1 1 inter.  leaf, intermediate                       no_usable_records
//	dane-ta-root           2 1 1 root                leaf, intermediate, root                 pass
//	dane-ta-leaf-only      2 1 1 intermediate        leaf only                                fail ta_not_in_chain
//	stale-after-rollover   3 1 1 old key             leaf (new key), intermediate             fail no_match
//	rollover-one-matches   3 1 1 old, 3 1 1 new      leaf (new key), intermediate             pass
//	expired-leaf-dane-ee   3 1 1 leaf                expired leaf, intermediate               pass
//	expired-leaf-dane-ta   2 1 1 intermediate        expired leaf, intermediate               fail expired
//	name-mismatch-dane-ta  2 1 1 intermediate        leaf for mail.lab-hosting.net, inter.    fail name_mismatch
//	rsa-only               3 1 1 RSA leaf            RSA leaf, intermediate                   pass (ecdsa: transport_failed tls_handshake_failed)
//	rsa-ecdsa-split        3 1 1 RSA leaf            ECDSA or RSA leaf by client support      fail no_match (ecdsa: fail no_match, rsa: pass)
//	rsa-ecdsa-both         3 1 1 of each leaf        ECDSA or RSA leaf by client support      pass in every mode
//	starttls-not-offered   3 1 1 leaf                no STARTTLS in EHLO (192.0.2.3)          transport_failed starttls_not_offered
//	starttls-rejected      3 1 1 leaf                454 to STARTTLS (192.0.2.4)              transport_failed starttls_rejected
//	tls-handshake-failure  3 1 1 leaf                handshake_failure alert (192.0.2.6)      transport_failed tls_handshake_failed
//	banner-stall           3 1 1 leaf                "220-" line, then nothing (192.0.2.2)    transport_failed banner_timeout
//	connect-refused        3 1 1 leaf                connection refused (192.0.2.5)           transport_failed connect_refused
//	ipv6-unreachable       3 1 1 leaf                IPv4 works; 2001:db8:dead::1 ENETUNREACH pass on IPv4, transport_failed unreachable on IPv6
//	tlsa-300-large         3 0 0 leaf (4,092 bytes)  leaf with many SAN names, intermediate   pass (the TLSA answer needs TCP)
//	tlsa-bogus             3 1 1 leaf, RRSIG expired leaf, intermediate                       pass; validated: tlsa_lookup_failed signature_expired
//	tlsa-indeterminate     3 1 1 leaf, SERVFAIL      leaf, intermediate                       not_applicable; validated: tlsa_lookup_failed lookup_failed
//	tlsa-unsigned-zone     3 1 1 leaf, no DS         leaf, intermediate                       pass; validated: not_applicable (TLSA insecure, skipped)
//	tlsa-rolled-over       3 1 1 leaf of epoch 0     leaf; with Config.Rolled a new key       pass; rolled: fail no_match
//
// World.Endpoints gives the truth per host and address in every SigAlgs
// mode, computed from these case descriptions (not with scanner/dane or
// scanner/starttls, which the tests check against it): validated,
// tlsa_lookup_failed with the TLSA RRset's DNSSEC reason when its lookup
// is bogus or indeterminate; not_applicable without TLSA records (or,
// validated, when the host's zone is not secure), else transport_failed
// with the probe's failure class, else the DANE verdict. Domain.DANE
// rolls it up per domain. World.Host gives the truth about a host's TLSA
// lookup (records, DNSSEC status, tlsa_state): a validating scanner looks
// TLSA up also when the address records are insecure, and records what
// it gets, with tlsa_state skipped.
package lab
