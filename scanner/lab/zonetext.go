package lab

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// infraZone holds the name servers every delegation of the world names.
const infraZone = "lab-dns.net."

// TTLs of the rendered records.
const (
	ttlDelegation = 172800
	ttlDefault    = 3600
)

// zw writes master file lines into a buffer.
type zw struct {
	b *bytes.Buffer
}

// rr writes one record line: owner (absolute), TTL, class IN, type, rdata.
func (z zw) rr(owner string, ttl int, typ, rdata string) {
	z.b.WriteString(owner)
	z.b.WriteByte('\t')
	z.b.WriteString(strconv.Itoa(ttl))
	z.b.WriteString("\tIN\t")
	z.b.WriteString(typ)
	z.b.WriteByte('\t')
	z.b.WriteString(rdata)
	z.b.WriteByte('\n')
}

// head writes $ORIGIN, $TTL, the SOA and the apex NS records.
func (z zw) head(origin string) {
	fmt.Fprintf(z.b, "$ORIGIN %s\n$TTL %d\n", origin, ttlDefault)
	z.rr(origin, ttlDefault, "SOA", "ns1.lab-dns.net. hostmaster.lab-dns.net. 2024010101 7200 3600 1209600 3600")
	z.delegation(origin)
}

// delegation writes the NS records naming the lab's name servers.
func (z zw) delegation(name string) {
	z.rr(name, ttlDelegation, "NS", "ns1.lab-dns.net.")
	z.rr(name, ttlDelegation, "NS", "ns2.lab-dns.net.")
}

// poolV4Size is the number of documentation IPv4 addresses shared by the
// self-hosted MX hosts.
const poolV4Size = 155 + 253 + 254

// poolV4 returns the i-th address of the self-hosted IPv4 pool: the
// documentation networks (RFC 5737) minus the addresses of the lab's name
// servers (x.x.x.1 of the first two networks) and of the providers
// (192.0.2.10-99).
func poolV4(i int32) string {
	i %= poolV4Size
	switch {
	case i < 155:
		return "192.0.2." + strconv.Itoa(int(100+i))
	case i < 155+253:
		return "198.51.100." + strconv.Itoa(int(2+i-155))
	}
	return "203.0.113." + strconv.Itoa(int(1+i-408))
}

// selfV6 returns the IPv6 address of host h of entry idx (RFC 3849).
func selfV6(idx int32, h int) string {
	return fmt.Sprintf("2001:db8:100:%x:%x::%x", idx>>16, idx&0xffff, h+1)
}

func (w *World) renderZone(b *bytes.Buffer, ref zoneRef) {
	z := zw{b: b}
	switch ref.kind {
	case zoneRoot:
		z.head(".")
		w.apexSec(z, ".")
		for _, t := range w.tlds {
			z.delegation(t.name + ".")
			w.dsLines(z, t.name+".")
		}
	case zoneTLD:
		w.renderTLD(z, int(ref.index))
	case zoneInfra:
		z.head(infraZone)
		w.apexSec(z, infraZone)
		z.rr("ns1."+infraZone, ttlDefault, "A", "192.0.2.1")
		z.rr("ns1."+infraZone, ttlDefault, "AAAA", "2001:db8::1")
		z.rr("ns2."+infraZone, ttlDefault, "A", "198.51.100.1")
		z.rr("ns2."+infraZone, ttlDefault, "AAAA", "2001:db8::2")
	case zoneProvider:
		w.renderProvider(z, int(ref.index))
	case zoneDomain:
		w.renderDomain(z, int(ref.index))
	}
}

func (w *World) renderTLD(z zw, i int) {
	t := &w.tlds[i]
	z.head(t.name + ".")
	w.apexSec(z, t.name+".")
	if t.name+"." == infraZone[len("lab-dns."):] {
		z.delegation(infraZone)
		w.dsLines(z, infraZone)
	}
	for _, p := range w.providers {
		if p.tld == i {
			z.delegation(p.domain + ".")
			w.dsLines(z, p.domain+".")
		}
	}
	for _, ci := range t.children {
		e := &w.entries[ci]
		switch {
		case e.cat == catAlias || e.cat == catAliasLoop:
			if e.target != "" {
				z.rr(e.name+".", ttlDefault, "CNAME", e.target+".")
			}
		case hasZone(e.cat) || isLame(e.cat):
			z.delegation(e.name + ".")
			if hasZone(e.cat) {
				w.dsLines(z, e.name+".")
			}
		}
	}
}

func (w *World) renderProvider(z zw, i int) {
	p := &w.providers[i]
	r := rand.New(rand.NewPCG(p.seed, 1))
	origin := p.domain + "."
	z.head(origin)
	w.apexSec(z, origin)
	z.rr(origin, ttlDefault, "MX", "10 "+p.hosts[0].name+".")
	for hi, h := range p.hosts {
		for _, a := range h.v4 {
			z.rr(h.name+".", ttlDefault, "A", a)
		}
		for _, a := range h.v6 {
			z.rr(h.name+".", ttlDefault, "AAAA", a)
		}
		owner := "_25._tcp." + h.name + "."
		// The random stream is drawn as before the records were tied to
		// the certificates; only the rollover's next key keeps its draw.
		var old []string
		switch p.tlsa {
		case ptlsa311:
			old = []string{"3 1 1 " + randHex(r, 32)}
		case ptlsaRollover, ptlsaTA:
			old = []string{"3 1 1 " + randHex(r, 32), "3 1 1 " + randHex(r, 32)}
		}
		ref := hostRef{prov: int32(i), entry: -1, h: int32(hi)}
		prof := w.profile(ref)
		for _, rec := range w.records(ref, old) {
			z.rr(owner, ttlDefault, "TLSA", w.rdata(prof, rec))
		}
	}
}

func randHex(r *rand.Rand, n int) string {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(buf)
}

// derHex returns random bytes that start like a DER SEQUENCE: a
// certificate (selector 0) or a P-256 SubjectPublicKeyInfo (selector 1).
func derHex(r *rand.Rand, selector int) string {
	if selector == 1 {
		return "3059" + randHex(r, 89)
	}
	n := 120 + r.IntN(120)
	return fmt.Sprintf("3082%04x", n) + randHex(r, n)
}

// tlsaRdata returns the rdata of a self-hosted TLSA variant.
func tlsaRdata(r *rand.Rand, v int8) string {
	switch v {
	case tlsaUsage4:
		return "4 1 1 " + randHex(r, 32)
	case tlsaUsage255:
		return "255 1 1 " + randHex(r, 32)
	case tlsaSelector2:
		return "3 2 1 " + randHex(r, 32)
	case tlsaMatching3:
		return "3 1 3 " + randHex(r, 32)
	case tlsaSHA256Len31:
		return "3 1 1 " + randHex(r, 31)
	case tlsaSHA256Len33:
		return "3 1 1 " + randHex(r, 33)
	case tlsaSHA512Len63:
		return "3 1 2 " + randHex(r, 63)
	}
	u, s, m := int(v)/6, int(v)/3%2, int(v)%3
	head := fmt.Sprintf("%d %d %d ", u, s, m)
	switch m {
	case 1:
		return head + randHex(r, 32)
	case 2:
		return head + randHex(r, 64)
	}
	return head + derHex(r, s)
}

func (w *World) renderDomain(z zw, idx int) {
	e := &w.entries[idx]
	r := rand.New(rand.NewPCG(e.seed, 1))
	origin := e.name + "."
	z.head(origin)
	w.apexSec(z, origin)

	hostAddrs := func(host string, slot int) {
		v4, v6 := w.selfAddrs(e, slot)
		z.rr(host+".", ttlDefault, "A", v4)
		if v6 != "" {
			z.rr(host+".", ttlDefault, "AAAA", v6)
		}
	}
	switch e.cat {
	case catProvider, catMismatch:
		for i, h := range w.providers[e.prov].hosts {
			z.rr(origin, ttlDefault, "MX", strconv.Itoa(10*(i+1))+" "+h.name+".")
		}
	case catSelf, catManyMX, catBigTLSA, catBigTXT, catBigSTS:
		hosts := selfHosts(e)
		for i, h := range hosts {
			pref := 10 * (i + 1)
			if e.cat == catManyMX {
				pref = i + 1
			}
			z.rr(origin, ttlDefault, "MX", strconv.Itoa(pref)+" "+h+".")
		}
		for i, h := range hosts {
			if e.wild {
				h = "*." + e.name
			}
			hostAddrs(h, i%2)
		}
		w.renderSelfTLSA(z, r, idx, e, hosts)
	case catMXCNAME:
		z.rr(origin, ttlDefault, "MX", "10 mx."+origin)
		if e.prov >= 0 {
			z.rr("mx."+origin, ttlDefault, "CNAME", w.providers[e.prov].hosts[e.cnHost].name+".")
		} else {
			z.rr("mx."+origin, ttlDefault, "CNAME", "mail."+origin)
			hostAddrs("mail."+e.name, 0)
		}
	case catNullMX:
		z.rr(origin, ttlDefault, "MX", "0 .")
		if e.v6 { // some null MX domains still have a web site
			z.rr(origin, ttlDefault, "A", poolV4(int32(e.seed%poolV4Size)))
		}
	case catMixedNullMX:
		z.rr(origin, ttlDefault, "MX", "0 .")
		z.rr(origin, ttlDefault, "MX", "10 mx."+origin)
		hostAddrs("mx."+e.name, 0)
	case catImplicit:
		hostAddrs(e.name, 0)
	case catNone:
		z.rr(origin, ttlDefault, "TXT", `"v=spf1 -all"`)
	case catMXLoop:
		z.rr(origin, ttlDefault, "MX", "10 mx."+origin)
		z.rr("mx."+origin, ttlDefault, "CNAME", "mx-b."+origin)
		z.rr("mx-b."+origin, ttlDefault, "CNAME", "mx."+origin)
	}
	w.renderPolicyTXT(z, r, e)
}

// renderSelfTLSA writes the TLSA records of a self-hosted entry's hosts.
// The random stream is drawn as before the records were tied to the
// certificates, so that the rest of the zone is unchanged; random data is
// kept where a record is meant to match nothing (see records).
func (w *World) renderSelfTLSA(z zw, r *rand.Rand, idx int, e *entry, hosts []string) {
	if e.cat == catBigTLSA {
		old := make([]string, 20)
		for i := range old {
			old[i] = "3 1 2 " + randHex(r, 64)
		}
		ref := hostRef{prov: -1, entry: int32(idx)}
		prof := w.profile(ref)
		for _, rec := range w.records(ref, old) {
			z.rr("_25._tcp."+hosts[0]+".", ttlDefault, "TLSA", w.rdata(prof, rec))
		}
		return
	}
	if e.tlsa < 0 && e.dcase == caseNone {
		return
	}
	ttl := ttlDefault
	var old []string
	if e.dcase == caseNone {
		switch x := r.IntN(10); x {
		case 0:
			ttl = 300
		case 1:
			ttl = 86400
		}
		old = make([]string, e.tlsaN)
		for i := range old {
			old[i] = tlsaRdata(r, e.tlsa)
		}
	}
	for i, h := range hosts {
		ref := hostRef{prov: -1, entry: int32(idx), h: int32(i)}
		prof := w.profile(ref)
		for _, rec := range w.records(ref, old) {
			z.rr("_25._tcp."+h+".", ttl, "TLSA", w.rdata(prof, rec))
		}
	}
}

func (w *World) renderPolicyTXT(z zw, r *rand.Rand, e *entry) {
	origin := e.name + "."
	if e.sts != txtNone {
		owner := "_mta-sts." + origin
		id := strconv.FormatUint(20240000000000+r.Uint64N(10000000000), 10)
		switch e.sts {
		case txtValid:
			z.rr(owner, ttlDefault, "TXT", `"v=STSv1; id=`+id+`;"`)
		case txtDup:
			z.rr(owner, ttlDefault, "TXT", `"v=STSv1; id=`+id+`;"`)
			z.rr(owner, ttlDefault, "TXT", `"v=STSv1; id=`+id+`1;"`)
		case txtTypo:
			z.rr(owner, ttlDefault, "TXT", `"v=STS1; id=`+id+`;"`)
		}
		if e.cat == catBigSTS {
			junkTXT(z, r, owner)
		}
	}
	if e.rpt != txtNone {
		owner := "_smtp._tls." + origin
		rua := `rua=mailto:tlsrpt@` + e.name
		switch e.rpt {
		case txtValid:
			z.rr(owner, ttlDefault, "TXT", `"v=TLSRPTv1; `+rua+`"`)
		case txtDup:
			z.rr(owner, ttlDefault, "TXT", `"v=TLSRPTv1; `+rua+`"`)
			z.rr(owner, ttlDefault, "TXT", `"v=TLSRPTv1; rua=mailto:reports@`+e.name+`"`)
		case txtTypo:
			z.rr(owner, ttlDefault, "TXT", `"v=TLSRPT1; `+rua+`"`)
		}
		if e.cat == catBigTXT {
			junkTXT(z, r, owner)
		}
	}
}

// junkTXT adds TXT records that do not start with a version tag, enough to
// push the RRset beyond 1232 bytes; RFC 8460 and RFC 8461 tell clients to
// discard them.
func junkTXT(z zw, r *rand.Rand, owner string) {
	for range 7 {
		z.rr(owner, ttlDefault, "TXT", `"lab-verification=`+randHex(r, 100)+`"`)
	}
}
