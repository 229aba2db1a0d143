// Package scanner is danescan's only orchestrator: it reads the input lists,
// scans every distinct domain once (MX per RFC 5321 §5.1 and RFC 7505, the
// MX hosts' addresses and TLSA records per RFC 7672 §2.2, MTA-STS per
// RFC 8461 and TLS-RPT per RFC 8460), probes each MX host once per scan
// however many domains share it, and hands the rows to the dataset writer.
// With Config.DNSSEC it validates every recorded RRset in-process (package
// dnssec, RFC 4035) and applies the rules of RFC 7672 §2.2 that depend on
// the status: TLSA only behind secure address records, the CNAME-expanded
// TLSA base domain only behind a secure chain, and bogus TLSA as unusable.
//
// Run is the only function in danescan that starts goroutines. Measurement
// failures are data in rows, never errors that stop the scan.
package scanner

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lookup"
	"github.com/danescan/danescan/scanner/starttls"
)

// Config holds the scan's settings. Zero values take the documented
// defaults.
type Config struct {
	// Resolvers are the recursive resolvers, "host:port". Required.
	Resolvers []string
	// Workers bounds the domains scanned concurrently. Default 500.
	Workers int
	// DNSQPS is the global budget of DNS queries per second; 0 means no
	// limit.
	DNSQPS float64
	// Timeout bounds one DNS query attempt. Default 2s.
	Timeout time.Duration
	// Retries is the number of extra attempts for a failed query. Default 2;
	// a negative value means none.
	Retries int
	// PartRows is the number of rows per Parquet part. Default 100,000.
	PartRows int
	// FlushInterval writes buffered rows as a part at least this often, so
	// a crash loses little. Default 1 minute.
	FlushInterval time.Duration
	// HostCacheSize bounds the MX host summaries kept in memory. Default
	// 200,000.
	HostCacheSize int
	// MaxMXHosts bounds the MX hosts probed per domain; a domain with more
	// gets a note in its error column. Default 16.
	MaxMXHosts int
	// Grace is how long domains in flight may go on after ctx ends before
	// their lookups are canceled and their rows marked interrupted.
	// Default 5s.
	Grace time.Duration
	// ScanID names the scan; default a time stamp with a random suffix.
	ScanID string
	// ToolVersion goes into the manifest.
	ToolVersion string
	// Command is the command line, for the manifest.
	Command []string
	// DNSSEC turns on in-process DNSSEC validation (package dnssec): every
	// query carries CD so that a validating resolver hands over bogus data,
	// every recorded RRset gets its status and reason, and the RFC 7672
	// rules that depend on it apply (mx_secure, addresses_secure,
	// tlsa_state; TLSA only behind secure address records). Off, every
	// RRset says not_validated.
	DNSSEC bool
	// TrustAnchors are the DS or DNSKEY records validation starts from; nil
	// means dnssec.RootAnchors(), the IANA root anchors.
	TrustAnchors []dns.RR
	// TrustAnchorSource names the anchors in the manifest (e.g. the file
	// they were read from); default AnchorsIANARoot when TrustAnchors is
	// empty, "custom" otherwise.
	TrustAnchorSource string
	// SMTP turns on the STARTTLS probe of every address of every MX host
	// (package starttls) and the DANE verdict on what each presents
	// (package dane), written to the endpoints table. Off, the scan is
	// DNS-only.
	SMTP bool
	// SMTPWorkers bounds the SMTP probes running at once. Default 50.
	SMTPWorkers int
	// SMTPRate is the global budget of new SMTP connections per second;
	// 0 means no limit.
	SMTPRate float64
	// AddressInterval is the least time between the end of one connection
	// to an address and the start of the next (there is never more than
	// one at a time per address). Default 1s.
	AddressInterval time.Duration
	// STARTTLS configures the probe: EHLO name, per-stage timeouts, limits.
	// Its Dial and SigAlgs fields are ignored (SMTPDial and SigAlgs are
	// used).
	STARTTLS starttls.Config
	// SMTPDial opens SMTP connections; nil means a net.Dialer. The lab
	// maps its world's addresses to in-process servers here.
	SMTPDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// SigAlgs selects the handshakes per address: "any" (default, one
	// ordinary handshake), "both" (one offering only ECDSA, one only RSA),
	// "ecdsa", "rsa" or "all" (see starttls.SigAlgsModes).
	SigAlgs string
	// Exclude lists addresses and names never touched; nil excludes
	// nothing.
	Exclude *Exclude
	// Roots are the roots of the PKIX information beside the DANE
	// verdict; nil means the system roots.
	Roots *x509.CertPool
	// Extra is added to the manifest's config object (e.g. the lab's seed).
	Extra map[string]any
	// Dial opens connections to resolvers; default a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Logger receives warnings about unreadable input; default discards.
	Logger *slog.Logger
}

// Input is one domain list to read.
type Input struct {
	Path   string
	Format datasets.Format
	// Origin is the zone origin for zone files without $ORIGIN.
	Origin string
}

// Stats are live counters, safe to read while Run works.
type Stats struct {
	// Entries counts input entries read (valid, invalid and duplicate).
	Entries atomic.Int64
	// Done counts entries finished: rows written plus duplicates.
	Done atomic.Int64
	// Queries counts DNS queries sent.
	Queries atomic.Int64
	// Hosts counts MX hosts probed.
	Hosts atomic.Int64
	// Endpoints counts SMTP endpoints probed.
	Endpoints atomic.Int64
	// DNSSEC counts the validator's signature checks and cache use.
	DNSSEC dnssec.Counters
}

// ErrInterrupted is returned by Run when ctx ended before the inputs were
// read to the end. The dataset is still complete and readable; the manifest
// says "complete": false.
var ErrInterrupted = errors.New("scan interrupted")

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 500
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.Retries == 0 {
		c.Retries = 2
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.PartRows <= 0 {
		c.PartRows = 100_000
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Minute
	}
	if c.HostCacheSize <= 0 {
		c.HostCacheSize = 200_000
	}
	if c.MaxMXHosts <= 0 {
		c.MaxMXHosts = 16
	}
	if c.SMTPWorkers <= 0 {
		c.SMTPWorkers = 50
	}
	if c.AddressInterval <= 0 {
		c.AddressInterval = time.Second
	}
	if c.SigAlgs == "" {
		c.SigAlgs = starttls.SigAlgsAny
	}
	if c.Grace <= 0 {
		c.Grace = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.TrustAnchorSource == "" {
		c.TrustAnchorSource = AnchorsIANARoot
		if len(c.TrustAnchors) > 0 {
			c.TrustAnchorSource = "custom"
		}
	}
	if c.ScanID == "" {
		var b [3]byte
		rand.Read(b[:])
		c.ScanID = c.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	}
}

// rowMsg carries one finished row to the writer goroutine: exactly one of
// the fields is set.
type rowMsg struct {
	domain   *datasets.Domain
	host     *datasets.MXHost
	endpoint *datasets.Endpoint
}

// Run scans the inputs and writes the dataset to outDir. It fails before
// scanning, with nothing written, when an input cannot be opened, no
// resolver is given, or outDir is not writable or already holds a dataset. Once the
// scan runs, every input entry read becomes a row or a duplicate count.
// When ctx ends, Run stops reading, lets the domains in flight finish for
// cfg.Grace, flushes all tables, writes the manifest with complete=false and
// returns it with ErrInterrupted. stats may be nil.
func Run(ctx context.Context, cfg Config, inputs []Input, outDir string, stats *Stats) (*datasets.Manifest, error) {
	cfg.defaults()
	if stats == nil {
		stats = new(Stats)
	}
	if len(cfg.Resolvers) == 0 {
		return nil, errors.New("no resolver: give --resolver host:port")
	}
	if len(inputs) == 0 {
		return nil, errors.New("no input: give a file or - for stdin")
	}
	readers := make([]*datasets.InputReader, 0, len(inputs))
	closeAll := func() {
		for _, r := range readers {
			r.Close()
		}
	}
	for _, in := range inputs {
		r, err := datasets.OpenInputWith(in.Path, datasets.InputOptions{Format: in.Format, Origin: in.Origin})
		if err != nil {
			closeAll()
			return nil, err
		}
		readers = append(readers, r)
	}
	defer closeAll()
	if _, err := os.Stat(filepath.Join(outDir, datasets.ManifestName)); err == nil {
		return nil, fmt.Errorf("output directory %s already holds a dataset (%s); choose a new one, or give --replace", outDir, datasets.ManifestName)
	}
	if err := datasets.CheckWritable(outDir); err != nil {
		return nil, err
	}

	meta := map[string]string{"danescan.scan_id": cfg.ScanID}
	domains, err := datasets.NewTableWriter[datasets.Domain](outDir, datasets.TableDomains, datasets.WriterOptions{PartRows: cfg.PartRows, Metadata: meta})
	if err != nil {
		return nil, err
	}
	hosts, err := datasets.NewTableWriter[datasets.MXHost](outDir, datasets.TableMXHosts, datasets.WriterOptions{PartRows: cfg.PartRows, Metadata: meta})
	if err != nil {
		domains.Close()
		return nil, err
	}
	endpoints, err := datasets.NewTableWriter[datasets.Endpoint](outDir, datasets.TableEndpoints, datasets.WriterOptions{PartRows: cfg.PartRows, Metadata: meta})
	if err != nil {
		domains.Close()
		hosts.Close()
		return nil, err
	}
	tables := &tableSet{domains: domains, hosts: hosts, endpoints: endpoints}

	hostname, _ := os.Hostname()
	man := &datasets.Manifest{
		SchemaVersion: datasets.SchemaVersion,
		ToolVersion:   cfg.ToolVersion,
		ScanID:        cfg.ScanID,
		Started:       cfg.Now().UTC(),
		Vantage:       hostname,
		Command:       cfg.Command,
		Resolvers:     cfg.Resolvers,
		Config: map[string]any{
			"workers":        cfg.Workers,
			"dns_qps":        cfg.DNSQPS,
			"timeout":        cfg.Timeout.String(),
			"retries":        cfg.Retries,
			"part_rows":      cfg.PartRows,
			"max_mx_hosts":   cfg.MaxMXHosts,
			"host_cache":     cfg.HostCacheSize,
			"edns_udp_size":  lookup.UDPSize,
			"dnssec_enabled": cfg.DNSSEC,
			"smtp_enabled":   cfg.SMTP,
		},
		Counts: map[string]int64{},
	}
	if cfg.DNSSEC {
		man.Config["trust_anchors"] = cfg.TrustAnchorSource
	}
	if cfg.SMTP {
		man.Config["smtp_workers"] = cfg.SMTPWorkers
		man.Config["smtp_rate"] = cfg.SMTPRate
		man.Config["address_interval"] = cfg.AddressInterval.String()
		man.Config["sigalgs"] = cfg.SigAlgs
		man.Config["ehlo"] = cfg.STARTTLS.WithDefaults().EHLO
		man.Config["exclude_entries"] = cfg.Exclude.Len()
	}
	for k, v := range cfg.Extra {
		man.Config[k] = v
	}

	client := &lookup.Client{
		Servers: cfg.Resolvers,
		Timeout: cfg.Timeout,
		Retries: cfg.Retries,
		Dial:    cfg.Dial,
		MaxIdle: cfg.Workers,
		// With validation in-process the resolver must not withhold bogus
		// data: its reason is what the dataset records.
		CheckingDisabled: cfg.DNSSEC,
	}
	if cfg.DNSQPS > 0 {
		burst := int(cfg.DNSQPS / 10)
		if burst < 1 {
			burst = 1
		}
		client.Limiter = rate.NewLimiter(rate.Limit(cfg.DNSQPS), burst)
	}
	defer client.Close()

	// Domains in flight go on for cfg.Grace after ctx ends, then their
	// lookups are canceled.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(cfg.Grace, cancelWork) })
	defer stopGrace()

	// rows: written by the reader loop (invalid names) and the domain
	// workers, read by the writer goroutine, closed by Run after every
	// writer of it has returned.
	rows := make(chan rowMsg, 4*cfg.Workers)
	s := &scan{cfg: &cfg, client: client, rows: rows, stats: stats, hosts: newHostCache(cfg.HostCacheSize)}
	if cfg.DNSSEC {
		s.validator = newValidator(&cfg, client, stats)
	}
	if cfg.SMTP {
		if s.smtp, err = newSMTPPool(&cfg); err != nil {
			tables.close()
			return nil, err
		}
	}

	// The manifest is written now and again whenever a part is finished,
	// with "complete": false, so that a dataset whose scan was killed or
	// crashed still says what it holds; the final one replaces it.
	for _, r := range readers {
		man.Inputs = append(man.Inputs, datasets.Input{Path: r.Summary().Path, Format: r.Format()})
	}
	if err := datasets.WriteManifest(outDir, man); err != nil {
		tables.close()
		return nil, err
	}
	counts := make(map[string]int64)
	checkpoint := func(parts []datasets.Part) error {
		m := *man
		m.Parts = parts
		m.Counts = maps.Clone(counts)
		return datasets.WriteManifest(outDir, &m)
	}
	writerErr := make(chan error, 1) // written once by the writer goroutine, read by Run
	go func() {
		writerErr <- writeRows(rows, tables, counts, cfg.FlushInterval, stats, checkpoint)
	}()

	seed := maphash.MakeSeed()
	seen := make(map[uint64]struct{})
	var g errgroup.Group
	g.SetLimit(cfg.Workers)
	var duplicates, invalid, distinct, inputErrors, excluded int64
	interrupted := false
read:
	for _, r := range readers {
		for {
			if ctx.Err() != nil {
				interrupted = true
				break read
			}
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				inputErrors++
				cfg.Logger.Warn("input: stopped reading file", "path", r.Summary().Path, "err", err)
				break
			}
			stats.Entries.Add(1)
			if e.Err != nil {
				invalid++
				rows <- rowMsg{domain: invalidRow(cfg.ScanID, e, cfg.Now().UTC())}
				continue
			}
			if cfg.Exclude.Name(e.Domain) {
				d := invalidRow(cfg.ScanID, e, cfg.Now().UTC())
				d.Domain, d.Failure, d.Error = e.Domain, FailExcluded, "excluded by the exclusion list: not looked up"
				d.MXKind = KindUnknown
				excluded++
				rows <- rowMsg{domain: d}
				continue
			}
			h := maphash.String(seed, e.Domain)
			if _, dup := seen[h]; dup {
				duplicates++
				stats.Done.Add(1)
				continue
			}
			seen[h] = struct{}{}
			distinct++
			g.Go(func() error {
				rows <- rowMsg{domain: s.domain(workCtx, e)}
				return nil
			})
		}
	}
	g.Wait()
	close(rows)
	werr := <-writerErr

	man.Ended = cfg.Now().UTC()
	man.Complete = !interrupted && inputErrors == 0
	if interrupted {
		man.InterruptedBy = context.Cause(ctx).Error()
	}
	man.Inputs = man.Inputs[:0]
	for _, r := range readers {
		sum := r.Summary()
		man.Inputs = append(man.Inputs, sum)
		man.Counts["input_lines"] += sum.Lines
	}
	man.Counts["entries"] = stats.Entries.Load()
	man.Counts["domains"] = distinct
	man.Counts["duplicates"] = duplicates
	man.Counts["invalid"] = invalid
	man.Counts["excluded"] = excluded
	if cfg.SMTP {
		man.Counts["endpoints_probed"] = stats.Endpoints.Load()
	}
	man.Counts["input_errors"] = inputErrors
	man.Counts["dns_queries"] = client.Sent()
	if cfg.DNSSEC {
		man.Counts["dnssec_verifications"] = stats.DNSSEC.Verifications.Load()
		man.Counts["dnssec_signature_hits"] = stats.DNSSEC.SignatureHits.Load()
		man.Counts["dnssec_cache_hits"] = stats.DNSSEC.CacheHits.Load()
		man.Counts["dnssec_cache_misses"] = stats.DNSSEC.CacheMisses.Load()
	}
	for k, v := range counts {
		man.Counts[k] = v
	}
	man.Parts = tables.parts()
	if err := datasets.WriteManifest(outDir, man); err != nil {
		return man, err
	}
	if werr != nil {
		return man, fmt.Errorf("write dataset: %w", werr)
	}
	if interrupted {
		return man, ErrInterrupted
	}
	if inputErrors > 0 {
		return man, fmt.Errorf("%d input file(s) could not be read to the end (see the log)", inputErrors)
	}
	return man, nil
}

// tableSet is the writers of a dataset's tables.
type tableSet struct {
	domains   *datasets.TableWriter[datasets.Domain]
	hosts     *datasets.TableWriter[datasets.MXHost]
	endpoints *datasets.TableWriter[datasets.Endpoint]
}

func (t *tableSet) partCount() int {
	return t.domains.PartCount() + t.hosts.PartCount() + t.endpoints.PartCount()
}

func (t *tableSet) parts() []datasets.Part {
	return append(append(t.domains.Parts(), t.hosts.Parts()...), t.endpoints.Parts()...)
}

func (t *tableSet) flush() error {
	return errors.Join(t.domains.Flush(), t.hosts.Flush(), t.endpoints.Flush())
}

func (t *tableSet) close() error {
	return errors.Join(t.domains.Close(), t.hosts.Close(), t.endpoints.Close())
}

// writeRows owns the table writers: it is the only goroutine that touches
// them. It counts what the summary reports, calls checkpoint with all parts
// whenever a part has been finished, and closes the writers.
func writeRows(rows <-chan rowMsg, t *tableSet, counts map[string]int64, every time.Duration, stats *Stats, checkpoint func([]datasets.Part) error) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var err error
	keep := func(e error) {
		if e != nil && err == nil {
			err = e
		}
	}
	nparts := 0
	for {
		if n := t.partCount(); n != nparts {
			nparts = n
			keep(checkpoint(t.parts()))
		}
		select {
		case <-tick.C:
			keep(t.flush())
		case m, ok := <-rows:
			if !ok {
				keep(t.close())
				return err
			}
			switch {
			case m.domain != nil:
				countDomain(counts, m.domain)
				keep(t.domains.Write(m.domain))
				stats.Done.Add(1)
			case m.host != nil:
				countHost(counts, m.host)
				keep(t.hosts.Write(m.host))
			default:
				countEndpoint(counts, m.endpoint)
				keep(t.endpoints.Write(m.endpoint))
			}
		}
	}
}

func countDomain(c map[string]int64, d *datasets.Domain) {
	c["rows_domains"]++
	if d.Failure != "" {
		c["failure_"+d.Failure]++
	}
	switch d.MXKind {
	case KindMX, KindMixedNullMX:
		c["with_mx"]++
	case KindNullMX:
		c["null_mx"]++
	case KindImplicit:
		c["implicit_mx"]++
	}
	if d.MXSecure {
		c["mx_secure"]++
	}
	if d.TLSAAllMX {
		c["tlsa_all_mx"]++
	} else if d.MXHostsWithTLSA > 0 {
		c["tlsa_some_mx"]++
	}
	if d.MTASTSPublished {
		c["mta_sts"]++
	}
	if d.DANE != "" {
		c["dane_"+string(d.DANE)]++
	}
	if d.TLSRPTPublished {
		c["tlsrpt"]++
	}
}

func countHost(c map[string]int64, h *datasets.MXHost) {
	c["rows_mx_hosts"]++
	if h.Failure != "" {
		c["host_failure_"+h.Failure]++
	}
	if len(h.TLSA.Records) > 0 {
		c["mx_hosts_with_tlsa"]++
	}
	if h.AddressesSecure {
		c["hosts_addresses_secure"]++
	}
	if h.TLSAState != "" {
		c["hosts_tlsa_"+string(h.TLSAState)]++
	}
	if h.DANEStatus != "" {
		c["hosts_dane_"+string(h.DANEStatus)]++
	}
}

func countEndpoint(c map[string]int64, e *datasets.Endpoint) {
	c["rows_endpoints"]++
	if e.Failure != "" {
		c["endpoint_failure_"+e.Failure]++
	}
	c["endpoint_dane_"+string(e.DANEStatus)]++
}
