package lab

// assignWildcards gives two self-hosted entries of a DNSSEC world, one in
// an NSEC zone and one in an NSEC3 zone, a wildcard instead of their MX
// host's address records: "*.<domain> A/AAAA" answers for mail.<domain>,
// which does not exist, so that the MX host's addresses are a wildcard
// expansion (RFC 4592; the validator needs the proof that mail.<domain>
// does not exist, RFC 4035 section 5.3.4), and its AAAA (when it has none),
// its TLSA and the domain's TXT lookups are wildcard NODATA answers.
// The hosts have no TLSA records: a TLSA name below mail.<domain> would
// make it an empty non-terminal, which a wildcard does not cover. Unsigned
// worlds are left as they are.
func (g *generator) assignWildcards() {
	w := g.w
	if g.cfg.Domains < minSpecial {
		return
	}
	want := []secMode{secNSEC, secNSEC3}
	for i := range w.entries {
		if len(want) == 0 {
			break
		}
		e := &w.entries[i]
		if e.cat != catSelf || e.hosts != hostMail || e.tlsa >= 0 || e.special || e.sec != want[0] {
			continue
		}
		e.wild = true
		w.wildcards = append(w.wildcards, e.name)
		want = want[1:]
	}
}

// Wildcards returns the domains whose MX host's addresses come from a
// wildcard (in a DNSSEC world of some size: one in an NSEC zone, one in an
// NSEC3 zone). Their MX host is mail.<domain>; its A and AAAA RRsets, its
// TLSA lookup (NODATA) and the domain's MX are secure.
func (w *World) Wildcards() []string { return w.wildcards }
