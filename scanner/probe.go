package scanner

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/starttls"
)

// handoverConfig are the manifest config keys that every DNS shard of one
// scan must agree on: they decide which endpoints are handed over and how
// they are judged.
var handoverConfig = []string{"dnssec_enabled", "trust_anchors", "sigalgs", "allow", "exclude_entries", "max_mx_hosts"}

// DNSShards reads the manifests of the DNS shards of one scan (scan
// --smtp-handover) and checks that together they are the whole scan: every
// one complete, of the same scan id and shard count, with the same flags,
// each shard once and none missing. It returns the manifests in shard
// order, or a one-line error naming the first problem.
func DNSShards(dirs []string) ([]*datasets.Manifest, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no DNS shard given: give the datasets that scan --smtp-handover wrote")
	}
	var byIndex []*datasets.Manifest
	var first *datasets.Manifest
	firstDir := ""
	for _, dir := range dirs {
		m, err := datasets.ReadManifest(dir)
		if err != nil {
			return nil, err
		}
		sh := shardOf(m)
		switch {
		case !validShard(sh):
			return nil, fmt.Errorf("%s: the manifest's shard %s is not a shard K/N with 0 <= K < N", dir, sh)
		case m.Step != datasets.StepDNS:
			return nil, fmt.Errorf("%s is not the DNS step of a split scan (it was not written by scan --smtp-handover)", dir)
		case !m.Complete:
			return nil, fmt.Errorf("DNS shard %s (%s) is incomplete: finish it (scan --resume) before probing", sh, dir)
		case first == nil:
			first, firstDir = m, dir
			byIndex = make([]*datasets.Manifest, sh.Count)
		case m.ScanID != first.ScanID:
			return nil, fmt.Errorf("%s belongs to scan %s, %s to scan %s: give the DNS shards of one scan", dir, m.ScanID, firstDir, first.ScanID)
		case sh.Count != len(byIndex):
			return nil, fmt.Errorf("%s is shard %s, %s is of %d shards: give the DNS shards of one scan", dir, sh, firstDir, len(byIndex))
		}
		if byIndex[sh.Index] != nil {
			return nil, fmt.Errorf("DNS shard %s is given twice (%s)", sh, dir)
		}
		for _, k := range handoverConfig {
			if a, b := fmt.Sprint(m.Config[k]), fmt.Sprint(first.Config[k]); a != b {
				return nil, fmt.Errorf("DNS shards %s and %s were scanned with different flags: %s is %s in one, %s in the other", firstDir, dir, k, b, a)
			}
		}
		byIndex[sh.Index] = m
	}
	var missing []string
	for k, m := range byIndex {
		if m == nil {
			missing = append(missing, strconv.Itoa(k))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("DNS shard(s) %s of %d missing: every DNS shard of the scan is needed, as every one may hand over endpoints of every address", strings.Join(missing, ", "), len(byIndex))
	}
	return byIndex, nil
}

// shardOf is the shard a manifest says it is; a dataset of the whole
// input is shard 0 of 1.
func shardOf(m *datasets.Manifest) datasets.Shard {
	if m.Shard == nil {
		return datasets.Shard{Index: 0, Count: 1}
	}
	return *m.Shard
}

// validShard reports whether sh is a shard K of N with 0 <= K < N.
func validShard(sh datasets.Shard) bool {
	return sh.Count >= 1 && sh.Count <= datasets.MaxShards && sh.Index >= 0 && sh.Index < sh.Count
}

// probeKey names an endpoints row: a host's endpoint.
type probeKey struct {
	host, addr, mode string
}

// connKey names a connection of the probe step: every endpoint with the
// same address, server name (the TLSA base domain) and mode shares one.
type connKey struct {
	base, mode string
}

// Probe is the SMTP step of a scan split by address (see handover.go): it
// reads the handover rows of every DNS shard in dnsDirs (checked with
// DNSShards), keeps the endpoints whose address belongs to cfg.Shard
// (datasets.ShardOf of the address), probes each distinct (address, TLSA
// base domain, mode) once, under the politeness limits of cfg (SMTPWorkers,
// SMTPRate, AddressInterval: they hold for the whole scan, as no other
// shard probes these addresses), judges every endpoint against its host's
// TLSA records as received, and writes their endpoints rows to the dataset
// in outDir (manifest step probe). An endpoint handed over by several DNS
// shards (a host used by domains of several) gets one row, judged against
// the lowest shard's handover. The decisions of the DNS step (excluded,
// special_purpose) stand, and cfg.Exclude and cfg.Allow are applied again:
// an endpoint is connected to only when both steps allow it. Probe uses
// cfg's SMTP settings, SMTPDial, Roots, Exclude, Allow, Shard, PartRows,
// Replace, ToolVersion, Command, Now and Logger;
// the scan id is the DNS shards'. It fails before any connection, with
// nothing written, when the DNS shards are not one whole, complete scan or
// outDir cannot be written; when ctx ends it stops, marks the endpoints
// not probed as interrupted, writes the manifest with complete=false and
// returns ErrInterrupted. Each finished part is listed in the manifest at
// once (a checkpoint), so that ResumeProbe continues a probe step that was
// stopped or killed.
func Probe(ctx context.Context, cfg Config, dnsDirs []string, outDir string, stats *Stats) (*datasets.Manifest, error) {
	pr, err := prepareProbe(&cfg, dnsDirs)
	if err != nil {
		return nil, err
	}
	w, err := datasets.Create(outDir, pr.start, datasets.CreateOptions{PartRows: cfg.PartRows, Replace: cfg.Replace})
	if err != nil {
		return nil, err
	}
	return pr.run(ctx, w, datasets.Counts{}, stats)
}

// probeRun is a probe step ready to run: its settings, SMTP pool, work and
// first manifest.
type probeRun struct {
	cfg   *Config
	pool  *smtpPool
	work  *probeWork
	start *datasets.Manifest
}

// prepareProbe checks the DNS shards in dnsDirs, reads the handover of
// cfg.Shard's addresses and returns the probe step's first manifest; cfg
// gets its defaults and the scan id.
func prepareProbe(cfg *Config, dnsDirs []string) (*probeRun, error) {
	cfg.SMTP = true
	cfg.defaults()
	if cfg.Shard.Count == 0 {
		cfg.Shard = datasets.Shard{Index: 0, Count: 1}
	}
	mans, err := DNSShards(dnsDirs)
	if err != nil {
		return nil, err
	}
	cfg.ScanID = mans[0].ScanID
	pool, err := newSMTPPool(cfg)
	if err != nil {
		return nil, err
	}
	// The directories in shard order: the lowest shard's handover of an
	// endpoint is the one judged.
	dirs := make([]string, len(dnsDirs))
	for _, dir := range dnsDirs {
		m, _ := datasets.ReadManifest(dir)
		dirs[shardOf(m).Index] = dir
	}
	// The DNS shards as they were read: a resume must read the same.
	sums := make([]string, len(dirs))
	for i, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, datasets.ManifestName))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		sums[i] = hex.EncodeToString(sum[:])
	}
	work, err := readHandover(cfg, dirs)
	if err != nil {
		return nil, err
	}
	start := &datasets.Manifest{
		SchemaVersion: datasets.SchemaVersion,
		ToolVersion:   cfg.ToolVersion,
		ScanID:        cfg.ScanID,
		Shard:         &cfg.Shard,
		Step:          datasets.StepProbe,
		Started:       cfg.Now().UTC(),
		Command:       cfg.Command,
		Config:        map[string]any{"dns_shards": len(mans), "dns_manifests": sums},
		Complete:      false,
	}
	start.Vantage, _ = os.Hostname()
	for _, k := range handoverConfig {
		if v, ok := mans[0].Config[k]; ok {
			start.Config[k] = v
		}
	}
	allow := make([]string, len(cfg.Allow))
	for i, p := range cfg.Allow {
		allow[i] = p.String()
	}
	start.Config["probe_allow"] = allow
	start.Config["probe_exclude_entries"] = cfg.Exclude.Len()
	start.Config["smtp_workers"] = cfg.SMTPWorkers
	start.Config["smtp_rate"] = cfg.SMTPRate
	start.Config["address_interval"] = cfg.AddressInterval.String()
	start.Config["ehlo"] = cfg.STARTTLS.WithDefaults().EHLO
	return &probeRun{cfg: cfg, pool: pool, work: work, start: start}, nil
}

// run probes pr's work, writes the endpoints rows to w, counted on top of
// counts, and closes w with the final manifest.
func (pr *probeRun) run(ctx context.Context, w *datasets.Writer, counts datasets.Counts, stats *Stats) (*datasets.Manifest, error) {
	cfg, work, start := pr.cfg, pr.work, pr.start
	if stats == nil {
		stats = new(Stats)
	}
	s := &scan{cfg: cfg, stats: stats, smtp: pr.pool}
	// rows: written by the address workers, read below, closed once every
	// worker has returned.
	rows := make(chan *datasets.Endpoint, 4*cfg.SMTPWorkers)
	go func() {
		var g errgroup.Group
		g.SetLimit(cfg.SMTPWorkers)
		for _, a := range work.order {
			g.Go(func() error {
				s.probeAddress(ctx, a, work.byAddr[a], rows)
				return nil
			})
		}
		g.Wait()
		close(rows)
	}()
	// As a scan's writer does (writeRows): the open part is finished at
	// least every flush interval, and the manifest lists each finished
	// part at once, so that a kill loses little and ResumeProbe keeps the
	// rest.
	tick := time.NewTicker(cfg.FlushInterval)
	defer tick.Stop()
	var werr error
	for open := true; open; {
		select {
		case r, ok := <-rows:
			if !ok {
				open = false
				break
			}
			countEndpoint(&counts, r)
			if werr == nil {
				werr = w.WriteEndpoint(r)
			}
		case <-tick.C:
			if werr == nil {
				werr = w.Flush()
			}
		}
		if werr == nil {
			werr = w.Checkpoint(&counts)
		}
	}
	final := *start
	final.Ended = cfg.Now().UTC()
	final.Complete = ctx.Err() == nil && werr == nil
	if ctx.Err() != nil {
		final.InterruptedBy = context.Cause(ctx).Error()
	}
	counts.SMTPWork = &datasets.SMTPWork{EndpointsProbed: stats.Endpoints.Load()}
	final.Counts = counts
	if err := w.Close(&final); werr == nil {
		werr = err
	}
	if work.disagree > 0 {
		cfg.Logger.Warn("probe: DNS shards disagree on the TLSA lookup of some hosts (their DNS changed during the scan); each endpoint was judged against the lowest shard's", "endpoints", work.disagree)
	}
	switch {
	case werr != nil:
		return &final, fmt.Errorf("write dataset: %w", werr)
	case ctx.Err() != nil:
		return &final, ErrInterrupted
	}
	return &final, nil
}

// probeWork is the handover of one probe shard: its addresses in order,
// and per address the endpoints by connection.
type probeWork struct {
	order  []netip.Addr
	byAddr map[netip.Addr]map[connKey][]datasets.Handover
	// disagree counts endpoints handed over by several DNS shards with
	// different records or decisions.
	disagree int
}

// readHandover reads the handover rows of the DNS shards in dirs (in
// shard order), part by part, and keeps those of cfg.Shard's addresses,
// once per endpoint.
func readHandover(cfg *Config, dirs []string) (*probeWork, error) {
	work := &probeWork{byAddr: map[netip.Addr]map[connKey][]datasets.Handover{}}
	seen := map[probeKey]datasets.Handover{}
	for _, dir := range dirs {
		err := datasets.EachPart(dir, datasets.TableHandover, func(rows []datasets.Handover) error {
			for _, h := range rows {
				addr, err := netip.ParseAddr(h.Address)
				if err != nil {
					return fmt.Errorf("%s: handover row of %s: %w", dir, h.Host, err)
				}
				if !cfg.Shard.Holds(addr.String()) {
					continue
				}
				k := probeKey{h.Host, h.Address, h.SigAlgs}
				if prev, dup := seen[k]; dup {
					if !sameVerdictInput(&prev, &h) {
						work.disagree++
					}
					continue
				}
				seen[k] = h
				byConn := work.byAddr[addr]
				if byConn == nil {
					byConn = map[connKey][]datasets.Handover{}
					work.byAddr[addr] = byConn
					work.order = append(work.order, addr)
				}
				ck := connKey{h.TLSABaseDomain, h.SigAlgs}
				byConn[ck] = append(byConn[ck], h)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(work.order, netip.Addr.Compare)
	return work, nil
}

// sameVerdictInput reports whether two handover rows of one endpoint give
// its verdict the same input.
func sameVerdictInput(a, b *datasets.Handover) bool {
	x, y := *a, *b
	x.Position, y.Position, x.Endpoints, y.Endpoints = 0, 0, 0, 0
	return reflect.DeepEqual(x, y)
}

// probeAddress probes the endpoints of one address, one connection after
// the other (the pool's slot of the address keeps them apart by the
// address interval), and sends their endpoints rows to rows.
func (s *scan) probeAddress(ctx context.Context, addr netip.Addr, byConn map[connKey][]datasets.Handover, rows chan<- *datasets.Endpoint) {
	keys := slices.SortedFunc(func(yield func(connKey) bool) {
		for k := range byConn {
			if !yield(k) {
				return
			}
		}
	}, func(a, b connKey) int { return cmp.Or(cmp.Compare(a.base, b.base), cmp.Compare(a.mode, b.mode)) })
	for _, k := range keys {
		var shared *starttls.Result
		interrupted := false
		for _, h := range byConn[k] {
			p, e, err := fromHandover(&h)
			if err != nil {
				// Written by a DNS shard of this build: a row that does
				// not decode is a corrupt dataset, said in the row.
				e = &endpointProbe{addr: addr, mode: h.SigAlgs, failure: FailInterrupted, status: datasets.DANENotProbed, errText: err.Error()}
				p = &hostProbe{name: h.Host, base: h.TLSABaseDomain, tlsaState: h.TLSAState}
			}
			e.start = s.cfg.Now()
			if e.failure == "" {
				// The probe step's own --exclude and --allow hold too:
				// an opt-out that arrived after the DNS step is honoured,
				// and a special-purpose address is connected to only
				// when this step allows it as well.
				s.decide(p, e)
			}
			switch {
			case e.failure != "":
			case interrupted:
				e.failure, e.errText, e.status = FailInterrupted, "the scan ended before the probe", datasets.DANENotProbed
			case shared != nil:
				e.res = *shared
				judge(e, p, s.cfg.Now(), s.smtp.roots)
			default:
				res, ok := s.connect(ctx, p.base, e)
				if !ok {
					interrupted = true
					break
				}
				shared = &res
				e.res = res
				judge(e, p, s.cfg.Now(), s.smtp.roots)
			}
			rows <- endpointRow(s.cfg.ScanID, p, e)
		}
	}
}
