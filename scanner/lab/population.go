package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// category is what the generator makes of one input line.
type category uint8

const (
	catProvider    category = iota // MX at a shared provider
	catSelf                        // self-hosted MX hosts, maybe TLSA
	catMXCNAME                     // mx.<d> is a CNAME to a provider host or another in-zone host
	catNullMX                      // MX 0 .
	catMixedNullMX                 // MX 0 . and MX 10 mx.<d>
	catImplicit                    // no MX, A/AAAA at the domain
	catNone                        // no MX, no address
	catNXDomain                    // not delegated at all
	catServfail                    // lame delegation answered with SERVFAIL
	catTimeout                     // lame delegation never answered
	catRefused                     // lame delegation answered with REFUSED
	catMismatch                    // a zone, answered for another question name
	catAlias                       // the domain is a CNAME (in the TLD zone) to a provider domain of the list
	catAliasLoop                   // the domain is a CNAME loop of two names
	catMXLoop                      // the MX host is a CNAME loop
	catManyMX                      // 60 MX records
	catBigTLSA                     // a TLSA RRset larger than 1232 bytes
	catBigTXT                      // a TXT RRset larger than 1232 bytes at _smtp._tls
	catBigSTS                      // a TXT RRset larger than 1232 bytes at _mta-sts
	catInvalid                     // not a valid domain name
	catDuplicate                   // an exact copy of another line
	numCategories
)

// share is the planned fraction of input lines of a category; fixed is a
// fixed count instead. Special categories get at least one line in worlds of
// minSpecial domains or more. catProvider takes the rest.
type share struct {
	cat   category
	frac  float64
	fixed int
}

const minSpecial = 200

func shares() []share {
	return []share{
		{cat: catSelf, frac: 0.15},
		{cat: catMXCNAME, frac: 0.02},
		{cat: catNullMX, frac: 0.02},
		{cat: catMixedNullMX, frac: 0.002},
		{cat: catImplicit, frac: 0.02},
		{cat: catNone, frac: 0.01},
		{cat: catNXDomain, frac: 0.02},
		{cat: catServfail, frac: 0.005},
		{cat: catTimeout, frac: 0.001},
		{cat: catRefused, frac: 0.001},
		{cat: catMismatch, frac: 0.0005},
		{cat: catAlias, frac: 0.01},
		{cat: catAliasLoop, fixed: 1},
		{cat: catMXLoop, fixed: 1},
		{cat: catManyMX, fixed: 1},
		{cat: catBigTLSA, fixed: 2},
		{cat: catBigTXT, fixed: 1},
		{cat: catBigSTS, fixed: 1},
		{cat: catInvalid, frac: 0.001},
		{cat: catDuplicate, fixed: 2},
	}
}

// tld is a top-level domain of the world.
type tld struct {
	name     string  // without dots
	weight   float64 // share of second-level names
	children []int32 // entries below it, in generation order
}

func tldTable() []tld {
	return []tld{
		{name: "com", weight: 0.45},
		{name: "net", weight: 0.10},
		{name: "de", weight: 0.10},
		{name: "org", weight: 0.08},
		{name: "nl", weight: 0.06},
		{name: "uk", weight: 0.05},
		{name: "se", weight: 0.04},
		{name: "cz", weight: 0.04},
		{name: "fr", weight: 0.04},
		{name: "ch", weight: 0.02},
		{name: "dk", weight: 0.02},
	}
}

// provider is a shared mail provider: a zone with 1-3 MX hosts.
type provider struct {
	domain string // without trailing dot
	tld    int
	seed   uint64
	hosts  []providerHost
	tlsa   uint8   // tlsaNone ... provider TLSA style
	weight float64 // share of provider domains
	// unsigned: the provider's zone is not signed in a DNSSEC world
	// (realistic population only).
	unsigned bool
}

// providerHost is one MX host of a provider.
type providerHost struct {
	name string // mxN.<domain>
	v4   []string
	v6   []string
}

// Provider TLSA styles.
const (
	ptlsaNone     = iota // no TLSA
	ptlsa311             // one "3 1 1"
	ptlsaRollover        // two "3 1 1" (current and next key)
	ptlsaTA              // "2 1 1" for the issuing CA and "3 1 1"
	numPTLSA
)

// entry is a second-level name of the world: a domain zone, a lame
// delegation or an alias held in its TLD zone.
type entry struct {
	name    string // A-label form, lowercase, no trailing dot
	target  string // CNAME target (alias, alias loop), no trailing dot
	seed    uint64 // source of the random bytes rendered into the zone
	cat     category
	tld     uint8
	prov    int8    // provider index, -1 for none
	hosts   uint8   // self-hosted naming: hostMX, hostMail, hostTwo
	tlsa    int8    // TLSA variant of self-hosted hosts, -1 for none
	tlsaN   uint8   // number of TLSA records (rollover)
	partial bool    // TLSA on the first of two hosts only
	v6      bool    // self-hosted hosts have AAAA records
	sts     uint8   // MTA-STS record: txtNone, txtValid, txtDup, txtTypo
	rpt     uint8   // TLS-RPT record: txtNone, txtValid, txtDup, txtTypo
	v4      int32   // index into the IPv4 pool of the first host
	v6i     int32   // index of the entry for its IPv6 addresses
	cnHost  int8    // catMXCNAME: provider host index, -1 for an in-zone target
	sec     secMode // how the zone is signed in a DNSSEC world
	dcase   dcase   // special DANE case of a self-hosted entry
	special bool    // the entry shows one of specialCases: secure in a DNSSEC world
	wild    bool    // the MX host's addresses come from a wildcard (assignWildcards)
	signed  bool    // realistic population: the zone is signed in a DNSSEC world
}

// Self-hosted host naming.
const (
	hostMX   = iota // mx.<d>
	hostMail        // mail.<d>
	hostTwo         // mx1.<d> and mx2.<d>
)

// TXT record states for MTA-STS and TLS-RPT.
const (
	txtNone  = iota
	txtValid // one valid record
	txtDup   // two records with the version tag (invalid)
	txtTypo  // a typo'd version tag (invalid)
)

// TLSA variants for self-hosted hosts: 0-23 are every usage (0-3) x
// selector (0-1) x matching type (0-2); the rest are malformed.
const (
	numTLSACombos   = 24
	tlsaUsage4      = numTLSACombos + iota - 1 // usage 4 (unassigned)
	tlsaUsage255                               // usage 255 (private use)
	tlsaSelector2                              // selector 2 (unassigned)
	tlsaMatching3                              // matching type 3 (unassigned)
	tlsaSHA256Len31                            // "x x 1" with 31 bytes
	tlsaSHA256Len33                            // "x x 1" with 33 bytes
	tlsaSHA512Len63                            // "x x 2" with 63 bytes
	numTLSAVariants
)

// wordList holds the stems of generated names.
const wordList = "acorn amber anchor apex arbor aster atlas aurora bakery basil beacon birch bistro blossom bramble breeze brook cactus canyon cedar chalk cider citrus clover cobalt comet copper coral cosmos cotton crane crystal dahlia delta dune echo ember fable falcon fern fjord flint forge fox galaxy garnet glacier granite grove harbor hazel heron hollow indigo iris ivory jade juniper kelp kestrel lagoon lantern larch lemon lilac linden lotus lumen maple marble meadow mesa mint mistral monarch moss nectar nimbus oak ocean olive onyx orchid otter pebble pepper pine plume prairie quartz quill raven reed ridge river saffron sage sierra spruce summit tidal timber topaz tulip umber valley velvet willow wren zephyr"

// idnWordList holds lowercase NFC stems with non-ASCII letters.
const idnWordList = "bücher münchen café señor smörgås kärnten niño zürich čeština bäckerei"

// providerStemList holds the first labels of the providers' domains.
const providerStemList = "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar"

// generator holds the state of one Generate call.
type generator struct {
	cfg      Config
	rng      *rand.Rand
	words    []string
	idnWords []string
	lineEnt  []int32 // entry of each input line, -1 for none
	tlsaSeen int     // self-hosted TLSA variants drawn so far
	w        *World
	used     map[string]struct{}
	tldCW    []float64 // cumulative TLD weights
	prvCW    []float64 // cumulative provider weights (realistic: for unsigned entries)
	// prvCWSigned are the cumulative provider weights of signed entries
	// and signedP the share of signed zones of each TLD (realistic
	// population only).
	prvCWSigned []float64
	signedP     []float64
	v4          int32       // next self-hosted IPv4 pool index
	copyOf      map[int]int // alias and duplicate lines → the line whose DANE truth they share
}

func newGenerator(cfg Config) *generator {
	return &generator{
		cfg:      cfg,
		words:    strings.Fields(wordList),
		idnWords: strings.Fields(idnWordList),
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x6c61622d776f726c)), // "lab-worl"
		used:     make(map[string]struct{}, cfg.Domains+64),
		w: &World{
			cfg:    cfg,
			zones:  make(map[string]zoneRef),
			faults: make(map[string]fault),
		},
	}
}

func cumulative(ws []float64) []float64 {
	c := make([]float64, len(ws))
	s := 0.0
	for i, x := range ws {
		s += x
		c[i] = s
	}
	return c
}

// pick returns an index drawn with the cumulative weights c.
func (g *generator) pick(c []float64) int {
	x := g.rng.Float64() * c[len(c)-1]
	i, _ := slices.BinarySearch(c, x)
	return min(i, len(c)-1)
}

// plan returns the category of every input line, shuffled.
func (g *generator) plan() []category {
	n := g.cfg.Domains
	cats := make([]category, 0, n)
	for _, s := range shares() {
		c := s.fixed
		if s.fixed == 0 {
			c = int(math.Round(s.frac * float64(n)))
		}
		if n < minSpecial {
			if s.fixed > 0 {
				c = 0
			}
		} else if c == 0 {
			c = 1
		}
		c = min(c, n-len(cats))
		for range c {
			cats = append(cats, s.cat)
		}
	}
	for len(cats) < n {
		cats = append(cats, catProvider)
	}
	g.rng.Shuffle(len(cats), func(i, j int) { cats[i], cats[j] = cats[j], cats[i] })
	return cats
}

// newName returns an unused "<word><number>.<tld>" name and its TLD index.
func (g *generator) newName(stems []string) (string, int) {
	t := g.pick(g.tldCW)
	for {
		stem := stems[g.rng.IntN(len(stems))]
		name := stem + strconv.Itoa(1+g.rng.IntN(99999)) + "." + g.w.tlds[t].name
		if _, dup := g.used[name]; !dup {
			g.used[name] = struct{}{}
			return name, t
		}
	}
}

func (g *generator) run() error {
	w := g.w
	w.tlds = tldTable()
	if g.cfg.Population == Realistic {
		w.tlds = realisticTLDs()
	}
	ws := make([]float64, len(w.tlds))
	for i, t := range w.tlds {
		ws[i] = t.weight
	}
	g.tldCW = cumulative(ws)
	if g.cfg.Population == Realistic {
		g.realisticProviders()
	} else {
		g.providersGen()
	}

	cats := g.plan()
	n := len(cats)
	w.lines = make([]string, n)
	w.truth = make([]Domain, n)

	// Which provider lines get a special spelling in the input list.
	var provLines []int
	for i, c := range cats {
		if c == catProvider {
			provLines = append(provLines, i)
		}
	}
	spelling := make(map[int]uint8) // line → 1 IDN, 2 mixed case, 3 trailing dot
	if n >= minSpecial {
		perm := g.rng.Perm(len(provLines))
		k := 0
		for sp, cnt := range []int{max(3, n/2000), max(2, n/1000), max(2, n/1000)} {
			for range cnt {
				if k < len(perm) {
					spelling[provLines[perm[k]]] = uint8(sp + 1)
					k++
				}
			}
		}
	}

	g.lineEnt = make([]int32, n)
	var stsSeen, rptSeen, invalidSeen int
	var lateAlias, lateDup []int
	for i, c := range cats {
		g.lineEnt[i] = -1
		switch c {
		case catAlias:
			lateAlias = append(lateAlias, i)
			continue
		case catDuplicate:
			lateDup = append(lateDup, i)
			continue
		case catInvalid:
			w.lines[i] = g.invalidName(invalidSeen)
			w.truth[i] = Domain{Name: w.lines[i], Kind: KindInvalid}
			invalidSeen++
			continue
		}
		var name, written string
		var t int
		switch spelling[i] {
		case 1:
			uname, ut := g.newName(g.idnWords)
			a, err := toALabel(uname)
			if err != nil {
				return err
			}
			g.used[a] = struct{}{}
			name, t, written = a, ut, uname
		default:
			name, t = g.newName(g.words)
			written = name
			switch spelling[i] {
			case 2:
				written = g.mixedCase(name)
			case 3:
				written = name + "."
			}
		}
		e := entry{name: name, seed: g.rng.Uint64(), cat: c, tld: uint8(t), prov: -1, tlsa: -1, cnHost: -1}
		g.fill(&e, &stsSeen, &rptSeen)
		idx := g.addEntry(e)
		g.lineEnt[i] = int32(idx)
		w.lines[i] = written
		w.truth[i] = g.truthOf(idx)
		w.truth[i].Name = written
	}
	g.assignCases()
	g.copyOf = make(map[int]int)

	// Aliases point at a provider domain of the list; duplicates copy one.
	var targets []int
	for i, c := range cats {
		if c == catProvider {
			targets = append(targets, i)
		}
	}
	for _, i := range lateAlias {
		name, t := g.newName(g.words)
		e := entry{name: name, seed: g.rng.Uint64(), cat: catAlias, tld: uint8(t), prov: -1, tlsa: -1, cnHost: -1}
		d := Domain{Kind: KindNXDomain}
		if len(targets) > 0 {
			j := targets[g.rng.IntN(len(targets))]
			e.target = w.entries[g.lineEnt[j]].name
			g.copyOf[i] = j
			d = w.truth[j]
			d.MXHosts = slices.Clone(d.MXHosts)
			d.MTASTS, d.TLSRPT = false, false
			d.CNAME = e.target
		} else {
			e.cat = catNXDomain
		}
		g.lineEnt[i] = int32(g.addEntry(e))
		d.Name = name
		w.lines[i], w.truth[i] = name, d
	}
	if g.cfg.DNSSEC {
		g.secModes()
		g.assignWildcards()
	}
	for _, i := range lateDup {
		if len(targets) == 0 {
			w.lines[i] = g.invalidName(invalidSeen)
			w.truth[i] = Domain{Name: w.lines[i], Kind: KindInvalid}
			invalidSeen++
			continue
		}
		j := targets[g.rng.IntN(len(targets))]
		g.copyOf[i] = j
		w.lines[i] = w.lines[j]
		w.truth[i] = w.truth[j]
		w.truth[i].MXHosts = slices.Clone(w.truth[j].MXHosts)
	}
	g.zonesIndex()
	if g.cfg.DNSSEC {
		g.secKeys()
	}
	p, err := newPKI(g.cfg.Seed)
	if err != nil {
		return err
	}
	w.pki = p
	g.daneTruth()
	return nil
}

// daneTruth sets Domain.DANE and Domain.DANEReason of every line.
func (g *generator) daneTruth() {
	w := g.w
	for i, idx := range g.lineEnt {
		if _, ok := g.copyOf[i]; ok || idx < 0 {
			continue
		}
		w.truth[i].DANE, w.truth[i].DANEReason = w.rollup(w.entryRefs(int(idx)), g.cfg.DNSSEC)
	}
	for i, j := range g.copyOf {
		w.truth[i].DANE, w.truth[i].DANEReason = w.truth[j].DANE, w.truth[j].DANEReason
	}
}

func (g *generator) addEntry(e entry) int {
	idx := len(g.w.entries)
	e.v6i = int32(idx)
	g.w.entries = append(g.w.entries, e)
	g.w.tlds[e.tld].children = append(g.w.tlds[e.tld].children, int32(idx))
	return idx
}

// fill makes the random decisions of an entry.
func (g *generator) fill(e *entry, stsSeen, rptSeen *int) {
	r := g.rng
	if g.cfg.Population == Realistic && hasZone(e.cat) {
		e.signed = r.Float64() < g.signedP[e.tld]
	}
	switch e.cat {
	case catProvider:
		e.prov = g.pickProvider(e)
	case catSelf:
		x := r.Float64()
		switch {
		case x < 0.5:
			e.hosts = hostMX
		case x < 0.7:
			e.hosts = hostMail
		default:
			e.hosts = hostTwo
		}
		if g.cfg.Population == Realistic {
			g.fillSelfRealistic(e)
		} else if r.Float64() < 0.30 {
			e.tlsa = g.tlsaVariant()
			e.tlsaN = 1
			if r.Float64() < 0.25 {
				e.tlsaN = 2
			}
			e.partial = e.hosts == hostTwo && r.Float64() < 0.25
		}
	case catMXCNAME:
		if r.Float64() < 0.75 {
			e.prov = g.pickProvider(e)
			e.cnHost = int8(r.IntN(len(g.w.providers[e.prov].hosts)))
		}
	case catBigTLSA:
		e.hosts = hostMX
	case catServfail:
		g.w.faults[e.name+"."] = faultServfail
	case catTimeout:
		g.w.faults[e.name+"."] = faultTimeout
	case catRefused:
		g.w.faults[e.name+"."] = faultRefused
	case catMismatch:
		e.prov = g.pickProvider(e)
		g.w.faults[e.name+"."] = faultMismatch
	case catAliasLoop:
		partner, _ := g.newName(g.words)
		// The partner lives in the same TLD so one zone holds the loop.
		partner = partner[:strings.LastIndexByte(partner, '.')+1] + g.w.tlds[e.tld].name
		g.used[partner] = struct{}{}
		e.target = partner
		g.addEntry(entry{name: partner, target: e.name, seed: r.Uint64(), cat: catAliasLoop, tld: e.tld, prov: -1, tlsa: -1, cnHost: -1})
	}
	e.v6 = r.Float64() < 0.4
	switch e.cat {
	case catSelf, catMXCNAME, catMixedNullMX, catImplicit, catMXLoop, catManyMX, catBigTLSA, catBigTXT, catBigSTS:
		e.v4 = g.v4
		g.v4 += 2
	}
	switch e.cat {
	case catProvider, catSelf, catMXCNAME, catBigTLSA:
		e.sts = g.txtState(0.056, stsSeen)
		e.rpt = g.txtState(0.045, rptSeen)
	case catBigSTS:
		e.sts = txtValid
	case catBigTXT:
		e.rpt = txtValid
	}
}

// txtState draws an MTA-STS or TLS-RPT state; the first two records
// drawn are the invalid ones (duplicate, typo) so every world of some size
// has both.
func (g *generator) txtState(p float64, seen *int) uint8 {
	if g.rng.Float64() >= p {
		return txtNone
	}
	*seen++
	switch {
	case *seen == 1:
		return txtDup
	case *seen == 2:
		return txtTypo
	case g.rng.Float64() < 0.05:
		return uint8(txtDup + g.rng.IntN(2))
	}
	return txtValid
}

// tlsaVariant walks once through every variant, then draws from a
// realistic mix: mostly "3 1 1", some other combinations, a few malformed.
func (g *generator) tlsaVariant() int8 {
	r := g.rng
	g.tlsaSeen++
	if g.tlsaSeen <= numTLSAVariants {
		return int8(g.tlsaSeen - 1)
	}
	x := r.Float64()
	switch {
	case x < 0.05:
		return int8(numTLSACombos + r.IntN(numTLSAVariants-numTLSACombos))
	case x < 0.20:
		return int8(r.IntN(numTLSACombos))
	case x < 0.70:
		return comboIndex(3, 1, 1)
	case x < 0.80:
		return comboIndex(2, 1, 1)
	case x < 0.90:
		return comboIndex(3, 0, 1)
	default:
		return comboIndex(3, 1, 2)
	}
}

func comboIndex(u, s, m int) int8 { return int8(u*6 + s*3 + m) }

func (g *generator) mixedCase(name string) string {
	b := []byte(name)
	for i := range b {
		if b[i] >= 'a' && b[i] <= 'z' && (i == 0 || g.rng.IntN(3) == 0) {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// invalidName returns the k-th invalid input line.
func (g *generator) invalidName(k int) string {
	w := g.words[g.rng.IntN(len(g.words))]
	v := g.words[g.rng.IntN(len(g.words))]
	switch k % 5 {
	case 0:
		return w + ".." + v + ".com"
	case 1:
		return "-" + w + ".com"
	case 2:
		return w[:2] + " " + w[2:] + ".com"
	case 3:
		return strings.Repeat(w, 70/len(w)+1)[:70] + ".com"
	default:
		return w + "_" + v + "!.net"
	}
}

// providersGen makes the shared providers: Zipf-like shares (exponent
// 1.4, so the biggest serves about 30% of all domains), 1-3 hosts each,
// half of them with TLSA records (never the biggest, always at least one).
func (g *generator) providersGen() {
	r := g.rng
	ws := make([]float64, len(strings.Fields(providerStemList)))
	next4 := 10
	hasTLSA := false
	for i, stem := range strings.Fields(providerStemList) {
		t := 0
		if i%3 == 1 {
			t = 1
		}
		p := provider{
			domain: stem + "-mail." + g.w.tlds[t].name,
			tld:    t,
			seed:   r.Uint64(),
			weight: 1 / math.Pow(float64(i+1), 1.4),
		}
		g.used[p.domain] = struct{}{}
		nh := 1 + r.IntN(3)
		for h := range nh {
			ph := providerHost{name: fmt.Sprintf("mx%d.%s", h+1, p.domain)}
			for range 1 + r.IntN(2) {
				ph.v4 = append(ph.v4, g.w.hostV4(fmt.Sprintf("192.0.2.%d", next4)))
				next4++
			}
			if r.Float64() < 0.5 {
				ph.v6 = append(ph.v6, fmt.Sprintf("2001:db8:10:%x::%x", i+1, h+1))
			}
			p.hosts = append(p.hosts, ph)
		}
		x := r.Float64()
		switch {
		case x < 0.5 || i == 0: // the biggest provider has no DANE, as in real data
			p.tlsa = ptlsaNone
		case x < 0.7:
			p.tlsa = ptlsa311
		case x < 0.85:
			p.tlsa = ptlsaRollover
		default:
			p.tlsa = ptlsaTA
		}
		hasTLSA = hasTLSA || p.tlsa != ptlsaNone
		ws[i] = p.weight
		g.w.providers = append(g.w.providers, p)
	}
	if !hasTLSA {
		g.w.providers[1].tlsa = ptlsa311
	}
	g.prvCW = cumulative(ws)
}

// selfHosts returns the MX host names of a self-hosted entry.
func selfHosts(e *entry) []string {
	switch e.cat {
	case catManyMX:
		hs := make([]string, 60)
		for i := range hs {
			hs[i] = fmt.Sprintf("mx%02d.%s", i+1, e.name)
		}
		return hs
	case catMXCNAME, catMixedNullMX, catMXLoop:
		return []string{"mx." + e.name}
	}
	switch e.hosts {
	case hostMail:
		return []string{"mail." + e.name}
	case hostTwo:
		return []string{"mx1." + e.name, "mx2." + e.name}
	}
	return []string{"mx." + e.name}
}

// truthOf returns what a scanner finds for entry idx (Name left empty).
func (g *generator) truthOf(idx int) Domain {
	e := &g.w.entries[idx]
	d := Domain{
		MTASTS: e.sts == txtValid,
		TLSRPT: e.rpt == txtValid,
	}
	switch e.cat {
	case catProvider:
		p := &g.w.providers[e.prov]
		d.Kind, d.Provider, d.TLSAAll = KindMX, p.domain, p.tlsa != ptlsaNone
		for _, h := range p.hosts {
			d.MXHosts = append(d.MXHosts, h.name)
		}
	case catSelf, catBigTLSA, catBigTXT, catBigSTS, catManyMX, catMXLoop, catMXCNAME:
		d.Kind, d.MXHosts = KindMX, selfHosts(e)
		d.TLSAAll = ((e.tlsa >= 0 || e.dcase != caseNone) && !e.partial) || e.cat == catBigTLSA
		if e.cat == catMXCNAME && e.prov >= 0 {
			d.Provider = g.w.providers[e.prov].domain
		}
	case catNullMX:
		d.Kind = KindNullMX
	case catMixedNullMX:
		d.Kind, d.MXHosts = KindMixedNullMX, selfHosts(e)
	case catImplicit:
		d.Kind, d.MXHosts = KindImplicit, []string{e.name}
	case catNone:
		d.Kind = KindNone
	case catNXDomain:
		d.Kind = KindNXDomain
	case catServfail:
		d.Kind = KindServfail
	case catTimeout:
		d.Kind = KindTimeout
	case catRefused:
		d.Kind = KindRefused
	case catMismatch:
		d.Kind = KindMismatch
		d.MTASTS, d.TLSRPT = false, false
	case catAliasLoop:
		d.Kind, d.CNAME = KindServfail, e.target
	}
	return d
}

// hasZone reports whether an entry has a zone of its own.
func hasZone(c category) bool {
	switch c {
	case catNXDomain, catServfail, catTimeout, catRefused, catAlias, catAliasLoop, catInvalid, catDuplicate:
		return false
	}
	return true
}

// isLame reports whether an entry is delegated without a zone.
func isLame(c category) bool {
	return c == catServfail || c == catTimeout || c == catRefused
}

// zonesIndex lists every zone of the world.
func (g *generator) zonesIndex() {
	w := g.w
	add := func(origin string, ref zoneRef) {
		w.zones[origin] = ref
		w.origins = append(w.origins, origin)
	}
	add(".", zoneRef{kind: zoneRoot})
	for i, t := range w.tlds {
		add(t.name+".", zoneRef{kind: zoneTLD, index: int32(i)})
	}
	add(infraZone, zoneRef{kind: zoneInfra})
	for i, p := range w.providers {
		add(p.domain+".", zoneRef{kind: zoneProvider, index: int32(i)})
	}
	for i := range w.entries {
		if hasZone(w.entries[i].cat) {
			add(w.entries[i].name+".", zoneRef{kind: zoneDomain, index: int32(i)})
		}
	}
	slices.Sort(w.origins)
}

// lowerASCII reports whether s has no upper-case ASCII letter.
func lowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return false
		}
	}
	return true
}
