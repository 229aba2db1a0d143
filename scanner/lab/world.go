package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Kinds of domains: what a correct scanner finds for a domain of the list.
// They are the values of Domain.Kind.
const (
	KindMX          = "mx"            // one or more ordinary MX records
	KindNullMX      = "null_mx"       // only "MX 0 ." (RFC 7505)
	KindMixedNullMX = "mixed_null_mx" // "MX 0 ." beside other MX records
	KindImplicit    = "implicit"      // no MX, an address at the domain (RFC 5321 section 5.1)
	KindNone        = "none"          // no MX and no address (NODATA)
	KindNXDomain    = "nxdomain"      // the name does not exist
	KindServfail    = "servfail"      // the resolver answers SERVFAIL
	KindTimeout     = "timeout"       // the resolver never answers
	KindRefused     = "refused"       // the resolver answers REFUSED
	KindMismatch    = "mismatch"      // the answer names another question
	KindInvalid     = "invalid"       // the input line is not a valid domain name
)

// Config selects a generated world. The zero Seed is a valid seed.
type Config struct {
	Domains int    // number of domains (input lines) in the population, at least 1
	Seed    uint64 // the same Config always yields the same world, byte for byte
	// DNSSEC signs the world: keys derived from Seed, DNSKEY and DS records
	// in the zone texts, RRSIGs and NSEC/NSEC3 denials served to queries
	// with DO set, and a trust anchor (World.TrustAnchor). Off, the world is
	// unsigned and its zone texts are those of earlier versions, byte for
	// byte. The domains and input lines are the same either way.
	DNSSEC bool
	// Loopback renders every IPv4 address of an MX host in 127.0.0.0/8
	// instead of the documentation networks, so that SMTP.Listen can serve
	// it on a real socket: the first octet becomes 127 (192.0.2.N is
	// 127.0.2.N, 198.51.100.N is 127.51.100.N, 203.0.113.N is
	// 127.0.113.N; LoopbackAddr and DocumentationAddr). 127.0.0.1 and
	// 127.0.0.53 are never used. IPv6 addresses, the name servers' glue
	// and the web addresses of null MX domains stay documentation
	// addresses; WriteFiles writes an exclusion list of them. Off, the
	// world is that of earlier versions, byte for byte.
	Loopback bool
	// Rolled selects the later epoch of the same world: the host of the
	// tlsa-rolled-over case (CaseRolledOver) presents a leaf with a new
	// key while its TLSA records, "3 1 1" of the old key, stay as they
	// were. Everything served over DNS (every zone text, the trust
	// anchor) is byte for byte that of the world without Rolled; only
	// that host's certificate and the truth about it (World.Endpoints,
	// Domain.DANE) change: pass without Rolled, fail no_match with it.
	Rolled bool
	// Population selects the kind of world: the zero value, Stress, is
	// the world of earlier versions, byte for byte; Realistic is a world
	// calibrated on published measurements (see realistic.go and the
	// README's lab section). Realistic worlds have no special cases
	// (DANECases is empty, Rolled changes nothing); their failures come
	// at measured rates.
	Population Population
}

// Domain is the truth about one input line of a generated world: what a
// correct scanner finds for it.
type Domain struct {
	Name     string   // the line as written in the input list (may be invalid, mixed case, with a trailing dot or in Unicode)
	Kind     string   // one of the Kind constants
	MXHosts  []string // MX host names in preference order, lowercase, no trailing dot; the domain itself for implicit MX; the null MX target "." is left out
	TLSAAll  bool     // every MX host has TLSA records at _25._tcp.<host> (following CNAMEs at that name only) that its lookup returns (not tlsa-indeterminate's, answered with SERVFAIL)
	CNAME    string   // the target when the domain itself is a CNAME, else ""
	MTASTS   bool     // exactly one valid "v=STSv1" TXT record at _mta-sts.<domain> (RFC 8461 section 3.1)
	TLSRPT   bool     // exactly one valid "v=TLSRPTv1" TXT record at _smtp._tls.<domain> (RFC 8460 section 3)
	Provider string   // the shared provider's domain, or "" when self-hosted
	// DNSSEC and DNSSECReason are what a validator from World.TrustAnchor
	// finds for the response to the domain's MX query with DO and CD set
	// (dnssec.Status and dnssec.Reason values: "secure", "insecure",
	// "bogus", "indeterminate"; a reason or ""): "indeterminate" and
	// "lookup_failed" for servfail, refused, timeout and mismatch domains
	// (a client must not take an answer to another question) and CNAME
	// loops; for an alias, the status of its target. Both are "" when the
	// world is unsigned and for invalid lines.
	DNSSEC       string
	DNSSECReason string
	// DANE rolls up the endpoint truth (World.Endpoints, validated in a
	// DNSSEC world, not in an unsigned one) over every address of every
	// MX host: "all" when every endpoint passes, "some" when some do,
	// "none" when none does; "" when the domain has no MX host with an
	// address. DANEReason is, for "some" and "none", the DANEReason of the
	// first endpoint that does not pass (hosts in MXHosts order, IPv4
	// first), or its DANEStatus when that has no reason
	// ("no_usable_records", "not_applicable").
	DANE       string
	DANEReason string
}

// Files names what World.WriteFiles wrote.
type Files struct {
	DomainList string // the input list, one domain per line
	ZoneDir    string // one <origin>.zone file per zone; the root zone is root.zone
	// TrustAnchor is the trust anchor file (the root's DS record in zone
	// file syntax, dnssec.ParseAnchors reads it); "" when the world is
	// unsigned.
	TrustAnchor string
	// Exclude is the exclusion list (scanner.ParseExclude reads it) of the
	// documentation networks, that a scan of a Loopback world passes as
	// --exclude so that it never dials them; "" for other worlds.
	Exclude string
}

// fault is a server behaviour that overrides the zone data for every name
// at or below a domain.
type fault uint8

const (
	faultNone fault = iota
	faultServfail
	faultRefused
	faultTimeout
	faultMismatch
)

// zoneKind tells how a zone's text is rendered.
type zoneKind uint8

const (
	zoneRoot zoneKind = iota
	zoneTLD
	zoneInfra
	zoneProvider
	zoneDomain
)

// zoneRef locates the data a zone is rendered from.
type zoneRef struct {
	kind  zoneKind
	index int32 // into tlds, providers or entries
}

// World is a generated population of mail domains and the DNS zones that
// publish it. It is immutable after Generate and safe for concurrent use.
type World struct {
	cfg       Config
	lines     []string
	truth     []Domain
	tlds      []tld
	providers []provider
	entries   []entry // second-level names: zones, lame delegations and aliases
	origins   []string
	zones     map[string]zoneRef  // origin (FQDN) → zone
	faults    map[string]fault    // domain (FQDN) → behaviour
	sec       map[string]*zoneSec // origin (FQDN) → signing state; nil when unsigned
	pki       *pki                // the lab CA and leaf key pools
	cases     []caseHost          // the special DANE cases, in specialCases order
	wildcards []string            // domains whose MX host addresses come from a wildcard (assignWildcards)
	rsaOps    []rsaOperator       // realistic DNSSEC worlds: the RSA keys of the DNS operators

	hostOnce sync.Once
	hostIdx  map[string]hostRef // MX host name → host; built by hostIndex
}

// Domains returns the truth for each input line, parallel to InputLines:
// index i describes line i, and a duplicated line repeats the same truth.
// The caller must not modify the returned slice.
func (w *World) Domains() []Domain { return w.truth }

// InputLines returns the domain list, one entry per line, as it is written
// to domains.txt. The caller must not modify the returned slice.
func (w *World) InputLines() []string { return w.lines }

// Origins returns the origins of all zones of the world as fully qualified
// lowercase names ("." first), sorted.
func (w *World) Origins() []string { return slices.Clone(w.origins) }

// ZoneText returns the master file (RFC 1035 section 5) of the zone with the
// given origin, regenerated deterministically on each call; the origin is
// matched without regard to case or a trailing dot. It reports false when
// the world has no such zone.
func (w *World) ZoneText(origin string) (string, bool) {
	ref, ok := w.zones[fqdn(origin)]
	if !ok {
		return "", false
	}
	var b bytes.Buffer
	w.renderZone(&b, ref)
	return b.String(), true
}

// WriteFiles writes the input list to dir/domains.txt, every zone to
// dir/zones/<origin>.zone (root.zone for the root), in a DNSSEC world the
// trust anchor to dir/trust-anchor.txt and in a Loopback world the
// exclusion list to dir/exclude.txt, creating the directories. On error
// it returns the first failure; files already written stay in place.
func (w *World) WriteFiles(dir string) (Files, error) {
	f := Files{
		DomainList: filepath.Join(dir, "domains.txt"),
		ZoneDir:    filepath.Join(dir, "zones"),
	}
	if err := os.MkdirAll(f.ZoneDir, 0o755); err != nil {
		return f, fmt.Errorf("lab: write files: %w", err)
	}
	var b bytes.Buffer
	for _, l := range w.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(f.DomainList, b.Bytes(), 0o644); err != nil {
		return f, fmt.Errorf("lab: write files: %w", err)
	}
	for _, o := range w.origins {
		b.Reset()
		w.renderZone(&b, w.zones[o])
		if err := os.WriteFile(filepath.Join(f.ZoneDir, ZoneFileName(o)), b.Bytes(), 0o644); err != nil {
			return f, fmt.Errorf("lab: write files: %w", err)
		}
	}
	if w.sec != nil {
		f.TrustAnchor = filepath.Join(dir, "trust-anchor.txt")
		if err := os.WriteFile(f.TrustAnchor, []byte(w.TrustAnchor()), 0o644); err != nil {
			return f, fmt.Errorf("lab: write files: %w", err)
		}
	}
	if w.cfg.Loopback {
		f.Exclude = filepath.Join(dir, "exclude.txt")
		if err := os.WriteFile(f.Exclude, []byte(ExcludeList), 0o644); err != nil {
			return f, fmt.Errorf("lab: write files: %w", err)
		}
	}
	return f, nil
}

// ZoneFileName returns the file name WriteFiles uses for the zone with the
// given origin: "root.zone" for the root, else the origin without its
// trailing dot followed by ".zone".
func ZoneFileName(origin string) string {
	o := strings.TrimSuffix(fqdn(origin), ".")
	if o == "" {
		return "root.zone"
	}
	return o + ".zone"
}

// Generate builds the world selected by cfg. It returns an error when
// cfg.Domains is less than 1.
func Generate(cfg Config) (*World, error) {
	if cfg.Domains < 1 {
		return nil, errors.New("lab: generate: Config.Domains must be at least 1")
	}
	g := newGenerator(cfg)
	if err := g.run(); err != nil {
		return nil, fmt.Errorf("lab: generate: %w", err)
	}
	return g.w, nil
}

// fqdn returns name in lowercase with exactly one trailing dot.
func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	return name + "."
}
