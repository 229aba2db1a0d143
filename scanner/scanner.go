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
// Run and Probe (the SMTP step of a scan split by address, handover.go)
// are the only functions in danescan that start goroutines. Measurement
// failures are data in rows, never errors that stop the scan.
package scanner

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
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
	// their lookups and probes are ended (at once, whatever Timeout) and
	// their rows marked interrupted. Default 5s.
	Grace time.Duration
	// ScanID names the scan; default a time stamp with a random suffix.
	ScanID string
	// Shard, when its Count is set, scans only the input entries that
	// belong to shard Index of Count (datasets.ShardOf); the others are
	// counted as other_shards.
	Shard datasets.Shard
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
	// SMTPHandover, with SMTP, makes no SMTP connection: the endpoints
	// that would be probed are written to the handover table instead, for
	// Probe and Merge (the DNS step of a scan split by address; see
	// handover.go).
	SMTPHandover bool
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
	// Allow names the special-purpose addresses (SpecialPurpose: private,
	// loopback, link-local, documentation ... of the RFC 6890 registries)
	// that may be probed: a test bed, the lab. Nil allows none; the
	// endpoints of other special-purpose addresses get the failure
	// special_purpose and are never connected to.
	Allow []netip.Prefix
	// Exclude lists addresses and names never touched; nil excludes
	// nothing.
	Exclude *Exclude
	// Roots are the roots of the PKIX information beside the DANE
	// verdict; nil means the system roots.
	Roots *x509.CertPool
	// Replace removes a dataset already in the output directory (its
	// manifest and table folders), once the inputs are open, instead of
	// refusing to write there.
	Replace bool
	// Extra is added to the manifest's config object (e.g. the lab's seed).
	Extra map[string]any
	// Dial opens connections to resolvers; default a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Logger receives warnings about unreadable input; default discards.
	Logger *slog.Logger

	// resume is set by Resume: what the scan it continues has kept.
	resume *resumeState
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
	// BytesRead counts the bytes of the inputs read so far as they are
	// stored (compressed, for gzip), updated every few hundred entries:
	// with the sizes of the input files it tells how far the scan has
	// come without reading them twice.
	BytesRead atomic.Int64
	// ReadDone is set when Run has stopped reading the inputs: Entries is
	// final then.
	ReadDone atomic.Bool
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
	// SetBytes is the memory held by the sets that grow with the input:
	// the duplicate filter and the set of hosts whose row is written
	// (about 6.2 bytes a name each). It is long-lived and holds no
	// pointers, so a garbage collector pacing itself on the live heap
	// may leave it out (cmd/danescan does).
	SetBytes atomic.Int64
}

// ErrInterrupted is returned by Run when ctx ended before the scan was
// done: before the inputs were read to the end, or while domains were in
// flight. The dataset is still readable; the manifest says "complete":
// false.
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
	handover *datasets.Handover
}

// Run scans the inputs and writes the dataset to outDir. It fails before
// scanning, with nothing written, when an input cannot be opened, no
// resolver is given, or outDir is not writable or already holds a dataset
// (unless cfg.Replace). Once the scan runs, every input entry read becomes
// a row or a duplicate count. When ctx ends before the last domain is
// done, Run stops reading (at once, even while a read of a stream waits
// for its producer), lets the domains in flight finish for cfg.Grace,
// ends what is left of them, flushes all tables, writes the manifest with
// complete=false and returns it with ErrInterrupted. When writing the
// dataset fails (a full disk), the scan stops the same way, and Run
// returns the manifest with that error. stats may be nil.
//
// A read of a stream (stdin, a pipe) that waits for its producer when the
// scan stops is left behind: it ends, and closes the input, when the
// producer sends or closes; Run does not wait for it.
func Run(ctx context.Context, cfg Config, inputs []Input, outDir string, stats *Stats) (*datasets.Manifest, error) {
	cfg.defaults()
	return scanInto(ctx, &cfg, inputs, stats, func(start *datasets.Manifest) (sink, error) {
		w, err := datasets.Create(outDir, start, datasets.CreateOptions{PartRows: cfg.PartRows, Replace: cfg.Replace, Handover: cfg.SMTPHandover})
		if err != nil {
			return nil, err
		}
		return w, nil
	})
}

// sink takes a scan's rows and manifests: a *datasets.Writer in Run, a
// memory one in tests. The writer goroutine owns it; Run takes it over to
// Close it once that goroutine has returned.
type sink interface {
	WriteDomain(*datasets.Domain) error
	WriteHost(*datasets.MXHost) error
	WriteEndpoint(*datasets.Endpoint) error
	// Flush finishes the open parts.
	Flush() error
	// Checkpoint saves the parts finished so far and counts c, when a
	// part has been finished since it last did.
	Checkpoint(c *datasets.Counts) error
	// Close finishes the tables and saves the final manifest, setting its
	// Parts.
	Close(final *datasets.Manifest) error
}

// scanInto is Run writing to the sink that create returns for the first
// manifest; create is called once everything else the scan needs is
// ready. cfg has its defaults.
func scanInto(ctx context.Context, cfg *Config, inputs []Input, stats *Stats, create func(start *datasets.Manifest) (sink, error)) (*datasets.Manifest, error) {
	if stats == nil {
		stats = new(Stats)
	}
	if len(cfg.Resolvers) == 0 {
		return nil, errors.New("no resolver: give --resolver host:port")
	}
	if len(inputs) == 0 {
		return nil, errors.New("no input: give a file or - for stdin")
	}
	if cfg.SMTPHandover && !cfg.SMTP {
		return nil, errors.New("an SMTP handover needs SMTP probes on")
	}
	readers, err := openInputs(inputs)
	if err != nil {
		return nil, err
	}
	// readInputs hands the readers over to its reader goroutine, which
	// closes them; until then they are closed here.
	handedOver := false
	defer func() {
		if !handedOver {
			closeInputs(readers)
		}
	}()
	s, err := newScan(cfg, stats)
	if err != nil {
		return nil, err
	}
	defer s.client.Close()
	start := startManifest(cfg, readers)
	out, err := create(start)
	if err != nil {
		return nil, err
	}

	// rows: written by readInputs (invalid and excluded names) and the
	// domain workers it starts, read by the writer goroutine, closed here
	// once readInputs has returned (after every worker).
	rows := make(chan rowMsg, 4*cfg.Workers)
	s.rows = rows
	// A failed write stops the scan as a signal does, with the error as
	// the cause: nothing more could be kept.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	counts := s.seedResume() // the writer goroutine's until it returns
	s.hosts.written.countIn(&s.stats.SetBytes)
	writerErr := make(chan error, 1) // written once by the writer goroutine, read below
	go func() {
		writerErr <- writeRows(rows, out, &counts, cfg.FlushInterval, stats, stop)
	}()
	handedOver = true
	totals, sums, interrupted := s.readInputs(ctx, readers)
	close(rows)
	werr := <-writerErr

	final := s.finalManifest(ctx, start, sums, totals, counts, interrupted)
	cerr := out.Close(final)
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		return final, fmt.Errorf("write dataset: %w", werr)
	}
	if interrupted {
		return final, ErrInterrupted
	}
	if totals.InputErrors > 0 {
		return final, fmt.Errorf("%d input file(s) could not be read to the end (see the log)", totals.InputErrors)
	}
	return final, nil
}

// finalManifest returns start completed when the scan has ended: the end
// time, whether it is complete, the inputs' summaries, and counts with
// the totals of what readInputs read and of the work done.
func (s *scan) finalManifest(ctx context.Context, start *datasets.Manifest, sums []datasets.Input, totals datasets.Totals, counts datasets.Counts, interrupted bool) *datasets.Manifest {
	final := *start
	final.Ended = s.cfg.Now().UTC()
	final.Complete = !interrupted && totals.InputErrors == 0
	if interrupted {
		final.InterruptedBy = context.Cause(ctx).Error()
	}
	final.Inputs = sums
	for _, sum := range sums {
		totals.InputLines += sum.Lines
	}
	totals.DNSQueries = s.client.Sent()
	counts.Totals = &totals
	if s.cfg.SMTP {
		counts.SMTPWork = &datasets.SMTPWork{EndpointsProbed: s.stats.Endpoints.Load()}
	}
	if s.cfg.DNSSEC {
		d := &s.stats.DNSSEC
		counts.DNSSECWork = &datasets.DNSSECWork{
			DNSSECVerifications: d.Verifications.Load(),
			DNSSECSignatureHits: d.SignatureHits.Load(),
			DNSSECCacheHits:     d.CacheHits.Load(),
			DNSSECCacheMisses:   d.CacheMisses.Load(),
		}
	}
	final.Counts = counts
	return &final
}

// openInputs opens every input; on error it closes those it opened.
func openInputs(inputs []Input) ([]*datasets.InputReader, error) {
	readers := make([]*datasets.InputReader, 0, len(inputs))
	for _, in := range inputs {
		r, err := datasets.OpenInputWith(in.Path, datasets.InputOptions{Format: in.Format, Origin: in.Origin})
		if err != nil {
			closeInputs(readers)
			return nil, err
		}
		readers = append(readers, r)
	}
	return readers, nil
}

func closeInputs(readers []*datasets.InputReader) {
	for _, r := range readers {
		r.Close()
	}
}

// newScan returns the scan's shared state: the DNS client, the validator
// and the SMTP pool as cfg asks. The caller closes s.client and sets
// s.rows.
func newScan(cfg *Config, stats *Stats) (*scan, error) {
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
	s := &scan{cfg: cfg, client: client, stats: stats, hosts: newHostCache(cfg.HostCacheSize)}
	if cfg.DNSSEC {
		s.validator = newValidator(cfg, client, stats)
	}
	if cfg.SMTP {
		var err error
		if s.smtp, err = newSMTPPool(cfg); err != nil {
			client.Close()
			return nil, err
		}
	}
	return s, nil
}

// startManifest returns the manifest written when the scan starts: the
// settings, the inputs' paths and formats, no counts.
func startManifest(cfg *Config, readers []*datasets.InputReader) *datasets.Manifest {
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
	}
	if cfg.Shard.Count > 0 {
		sh := cfg.Shard
		man.Shard = &sh
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
		allow := make([]string, len(cfg.Allow))
		for i, p := range cfg.Allow {
			allow[i] = p.String()
		}
		man.Config["allow"] = allow
		if cfg.SMTPHandover {
			man.Step = datasets.StepDNS
		}
	}
	for k, v := range cfg.Extra {
		man.Config[k] = v
	}
	for _, r := range readers {
		man.Inputs = append(man.Inputs, datasets.Input{Path: r.Summary().Path, Format: r.Format()})
	}
	return man
}

// bytesEvery is how many entries the reader goroutine reads between two
// updates of Stats.BytesRead.
const bytesEvery = 256

// readItem is what the reader goroutine hands to readInputs: an entry of
// input number input, or, with err set (io.EOF at the end), the end of
// that input; pos is the input's position after it (with the SHA-256 at
// the end).
type readItem struct {
	input int
	e     datasets.Entry
	err   error
	pos   datasets.Input
}

// readInputs reads the inputs to the end, or until ctx ends, and hands
// every entry on: invalid and excluded names as rows, duplicates counted,
// each distinct name to a domain worker (at most cfg.Workers at a time).
// The reading itself is done by a goroutine that hands the entries over
// one by one, so that a read waiting for a stream's producer never keeps
// readInputs from noticing that ctx ended; that goroutine owns the
// readers and closes them. Domains in flight go on for cfg.Grace after ctx
// ends, then their lookups are canceled (and aborted: no waiting for a
// query's timeout). It returns when every worker has, with the counts of
// what it read (Entries, Domains, Duplicates, Invalid, Excluded,
// InputErrors), the inputs' summaries (an input not read to the end has
// no SHA-256), and whether ctx ended before every domain was done.
func (s *scan) readInputs(ctx context.Context, readers []*datasets.InputReader) (t datasets.Totals, sums []datasets.Input, interrupted bool) {
	cfg := s.cfg
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() {
		time.AfterFunc(cfg.Grace, func() {
			cancelWork()
			s.client.Abort()
		})
	})
	defer stopGrace()

	sums = make([]datasets.Input, len(readers))
	for i, r := range readers {
		sums[i] = r.Position()
	}
	// items: written by the reader goroutine, read below; closed by the
	// reader goroutine when it has read every input.
	items := make(chan readItem)
	// stopRead: closed below when readInputs stops reading early; read by
	// the reader goroutine.
	stopRead := make(chan struct{})
	go s.read(readers, items, stopRead)

	seen := newNameSet(&s.stats.SetBytes) // about 6.2 bytes a distinct domain (set.go)
	var g errgroup.Group
	g.SetLimit(cfg.Workers)
	// take hands one item on.
	take := func(it readItem) {
		sums[it.input] = it.pos
		if it.err == io.EOF {
			return
		}
		if it.err != nil {
			t.InputErrors++
			cfg.Logger.Warn("input: stopped reading file", "path", it.pos.Path, "err", it.err)
			return
		}
		e := it.e
		if !cfg.Shard.Holds(datasets.ShardKey(e)) {
			t.OtherShards++
			return
		}
		s.stats.Entries.Add(1)
		t.Entries++
		if e.Err != nil {
			t.Invalid++
			if s.kept(e) {
				return
			}
			s.rows <- rowMsg{domain: invalidRow(cfg.ScanID, e, cfg.Now().UTC())}
			return
		}
		if cfg.Exclude.Name(e.Domain) {
			t.Excluded++
			if s.kept(e) {
				return
			}
			s.rows <- rowMsg{domain: excludedRow(cfg.ScanID, e, cfg.Now().UTC())}
			return
		}
		if !seen.Add(e.Domain) {
			t.Duplicates++
			s.stats.Done.Add(1)
			return
		}
		t.Domains++
		if s.kept(e) {
			return
		}
		g.Go(func() error {
			s.rows <- rowMsg{domain: s.domain(workCtx, e)}
			return nil
		})
	}
read:
	for {
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		select {
		case <-ctx.Done():
			interrupted = true
			break read
		case it, ok := <-items:
			if !ok {
				break read
			}
			take(it)
		}
	}
	if interrupted {
		// The entry the reader goroutine has read and is handing over,
		// if any, gets its row too.
		select {
		case it, ok := <-items:
			if ok {
				take(it)
			}
		default:
		}
	}
	close(stopRead)
	s.stats.ReadDone.Store(true)
	g.Wait()
	// A signal after the inputs were read still stops the domains in
	// flight: the scan is not complete.
	if ctx.Err() != nil {
		interrupted = true
	}
	return t, sums, interrupted
}

// read is the reader goroutine of readInputs: it reads the inputs in
// order and hands each entry, then the end of each input, to items, until
// stop is closed. It keeps Stats.BytesRead. It closes items and the
// readers when it returns.
func (s *scan) read(readers []*datasets.InputReader, items chan<- readItem, stop <-chan struct{}) {
	defer closeInputs(readers)
	defer close(items)
	var before int64 // bytes of the inputs read to the end
	for i, r := range readers {
		for n := 1; ; n++ {
			e, err := r.Next()
			it := readItem{input: i, e: e, err: err}
			if err != nil {
				it.pos = r.Summary()
				if err != io.EOF {
					it.pos.SHA256 = "" // not read to the end
				}
			} else {
				it.pos = r.Position()
			}
			if n%bytesEvery == 0 || err != nil {
				s.stats.BytesRead.Store(before + it.pos.Bytes)
			}
			select {
			case items <- it:
			case <-stop:
				return
			}
			if err != nil {
				before += it.pos.Bytes
				break
			}
		}
	}
}

// writeRows is the writer goroutine: the only one that touches out until
// rows is closed. It writes every row, counts what the summary reports
// into counts, finishes the open parts every flush interval and
// checkpoints out whenever a part has been finished. It returns the first
// error of out, after which it writes nothing more (the rows that follow
// are still counted) and calls fail with it, once, to stop the scan.
func writeRows(rows <-chan rowMsg, out sink, counts *datasets.Counts, every time.Duration, stats *Stats, fail func(error)) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var err error
	keep := func(e error) {
		if e != nil && err == nil {
			err = e
			fail(fmt.Errorf("write dataset: %w", e))
		}
	}
	for {
		if err == nil {
			keep(out.Checkpoint(counts))
		}
		select {
		case <-tick.C:
			if err == nil {
				keep(out.Flush())
			}
		case m, ok := <-rows:
			if !ok {
				return err
			}
			switch {
			case m.domain != nil:
				countDomain(counts, m.domain)
				if err == nil {
					keep(out.WriteDomain(m.domain))
				}
				stats.Done.Add(1)
			case m.host != nil:
				countHost(counts, m.host)
				if err == nil {
					keep(out.WriteHost(m.host))
				}
			case m.handover != nil:
				counts.RowsHandover++
				if err == nil {
					keep(writeHandover(out, m.handover))
				}
			default:
				countEndpoint(counts, m.endpoint)
				if err == nil {
					keep(out.WriteEndpoint(m.endpoint))
				}
			}
		}
	}
}

// add counts one more row under key in *m, making the map when needed.
func add(m *map[string]int64, key string) {
	if *m == nil {
		*m = make(map[string]int64)
	}
	(*m)[key]++
}

func countDomain(c *datasets.Counts, d *datasets.Domain) {
	c.RowsDomains++
	if d.Failure != "" {
		add(&c.Failures, d.Failure)
	}
	switch d.MXKind {
	case KindMX, KindMixedNullMX:
		c.WithMX++
	case KindNullMX:
		c.NullMX++
	case KindImplicit:
		c.ImplicitMX++
	}
	if d.MXSecure {
		c.MXSecure++
	}
	if d.TLSAAllMX {
		c.TLSAAllMX++
	} else if d.MXHostsWithTLSA > 0 {
		c.TLSASomeMX++
	}
	if d.MTASTSPublished {
		c.MTASTS++
	}
	if d.DANE != "" {
		add(&c.DANE, string(d.DANE))
	}
	if d.TLSRPTPublished {
		c.TLSRPT++
	}
}

func countHost(c *datasets.Counts, h *datasets.MXHost) {
	c.RowsMXHosts++
	if h.Failure != "" {
		add(&c.HostFailures, h.Failure)
	}
	if len(h.TLSA.Records) > 0 {
		c.MXHostsWithTLSA++
	}
	if h.AddressesSecure {
		c.HostsAddressesSecure++
	}
	if h.TLSAState != "" {
		add(&c.HostsTLSA, string(h.TLSAState))
	}
	if h.DANEStatus != "" {
		add(&c.HostsDANE, string(h.DANEStatus))
	}
}

func countEndpoint(c *datasets.Counts, e *datasets.Endpoint) {
	c.RowsEndpoints++
	if e.Failure != "" {
		add(&c.EndpointFailures, e.Failure)
	}
	add(&c.EndpointsDANE, string(e.DANEStatus))
}
