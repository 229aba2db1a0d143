package scanner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"reflect"
	"slices"

	"github.com/danescan/danescan/datasets"
)

// ResumeProbe continues the probe step (Probe) whose dataset is in outDir,
// stopped by a signal or killed, with the same DNS shards and settings,
// and returns the final manifest as Probe does. The unit kept is a
// connection: everything probed for one (address, TLSA base domain, mode),
// the endpoints rows of every host that shares it. Its rows are kept when
// every endpoint the handover gives it has exactly one row among the parts
// the manifest lists and none is interrupted; otherwise they are all
// dropped (datasets.Resume rewrites the parts that hold them) and the
// connection is made again. So the finished dataset has the rows of an
// uninterrupted probe step, one per endpoint. The manifest keeps the start
// time, command and vantage, and gets the time of this run appended to
// "resumed"; its counts are those of every row (endpoints_probed: this
// run's connections). As with Resume, the time of the last connection to
// each address is not carried over.
//
// Before anything is changed it refuses, with a one-line error and a nil
// manifest: an outDir without a dataset, or one that another process
// writes; a dataset that is not a probe step, or of another shard or
// scan; DNS shards that are not those the probe step read (the SHA-256 of
// each DNS shard's manifest.json, kept in the config object as
// dns_manifests: a DNS shard made again hands over other work, so the
// probe shard must be made again with cfg.Replace); other settings (the
// manifest's config object). A complete probe step returns its manifest
// and ErrComplete.
func ResumeProbe(ctx context.Context, cfg Config, dnsDirs []string, outDir string, stats *Stats) (*datasets.Manifest, error) {
	old, err := datasets.ReadManifest(outDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("resume: %s holds no dataset (no %s): start the probe step without --resume", outDir, datasets.ManifestName)
		}
		return nil, fmt.Errorf("resume: %w", err)
	}
	if old.Step != datasets.StepProbe {
		return nil, fmt.Errorf("resume: %s does not hold a probe step of a split scan (it was not written by danescan probe)", outDir)
	}
	if old.Complete {
		return old, fmt.Errorf("resume: %s: %w", outDir, ErrComplete)
	}
	if err := datasets.InUse(outDir); err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if old.SchemaVersion != datasets.SchemaVersion {
		return nil, fmt.Errorf("resume: %s holds a dataset of schema version %s; this danescan writes %s", outDir, old.SchemaVersion, datasets.SchemaVersion)
	}
	sh := cfg.Shard
	if sh.Count == 0 {
		sh = datasets.Shard{Index: 0, Count: 1}
	}
	if was := shardOf(old); was != sh {
		return nil, fmt.Errorf("resume: %s holds probe shard %s, not %s", outDir, was, sh)
	}
	pr, err := prepareProbe(&cfg, dnsDirs)
	if err != nil {
		return nil, err
	}
	if old.ScanID != pr.start.ScanID {
		return nil, fmt.Errorf("resume: %s holds a probe shard of scan %s; the DNS shards are of scan %s", outDir, old.ScanID, pr.start.ScanID)
	}
	now, err := jsonObject(pr.start.Config)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	was, err := jsonObject(old.Config)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if was["dns_manifests"] == nil {
		return nil, fmt.Errorf("resume: the probe shard in %s does not say which DNS shards it read (made by an older danescan): make it again with --replace", outDir)
	}
	if !reflect.DeepEqual(was["dns_manifests"], now["dns_manifests"]) {
		return nil, fmt.Errorf("resume: the DNS shards given are not those the probe shard in %s was made from (their manifests differ): make it again with --replace", outDir)
	}
	if err := checkResumeConfig(outDir, old, pr.start.Config); err != nil {
		return nil, err
	}
	if old.ToolVersion != cfg.ToolVersion {
		cfg.Logger.Warn("resume: the probe step was started by another version of danescan", "was", old.ToolVersion, "now", cfg.ToolVersion)
	}
	kept, err := loadProbeResume(ctx, outDir, old, pr.work)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("resume: kept rows", "endpoints", kept.counts.RowsEndpoints, "connections", kept.conns,
		"dropped_endpoints", kept.dropped, "parts_rewritten", len(kept.rewrite))
	start := *pr.start
	start.Started = old.Started
	start.Resumed = append(slices.Clone(old.Resumed), cfg.Now().UTC())
	start.Command = old.Command
	start.Vantage = old.Vantage
	pr.start = &start
	w, err := datasets.Resume(outDir, &start, datasets.ResumeOptions{
		PartRows: cfg.PartRows,
		Rewrite:  kept.rewrite,
		KeepEndpoint: func(e *datasets.Endpoint) bool {
			return kept.done[probeKey{e.Host, e.Address, e.SigAlgs}]
		},
	})
	if err != nil {
		return nil, err
	}
	return pr.run(ctx, w, kept.counts, stats)
}

// probeResume is what ResumeProbe keeps of the probe step it continues.
type probeResume struct {
	// done holds the endpoints whose rows are kept.
	done    map[probeKey]bool
	conns   int
	counts  datasets.Counts
	rewrite map[string]bool
	dropped int64
}

// loadProbeResume reads the endpoints parts listed in m (the probe step in
// dir), keeps the rows of every connection of work whose endpoints all
// have one row and none interrupted, and takes those connections out of
// work.
func loadProbeResume(ctx context.Context, dir string, m *datasets.Manifest, work *probeWork) (*probeResume, error) {
	type conn struct {
		addr netip.Addr
		key  connKey
	}
	// rows counts the rows of each endpoint of work; -1: one interrupted.
	rows := map[probeKey]int{}
	connOf := map[probeKey]conn{}
	for addr, byConn := range work.byAddr {
		for ck, hs := range byConn {
			for _, h := range hs {
				k := probeKey{h.Host, h.Address, h.SigAlgs}
				rows[k] = 0
				connOf[k] = conn{addr, ck}
			}
		}
	}
	err := eachPart(ctx, dir, m, datasets.TableEndpoints, func(_ string, e *datasets.Endpoint) {
		k := probeKey{e.Host, e.Address, e.SigAlgs}
		n, ok := rows[k]
		if !ok || n < 0 {
			return
		}
		if e.Failure == FailInterrupted {
			rows[k] = -1
			return
		}
		rows[k] = n + 1
	})
	if err != nil {
		return nil, err
	}
	// A connection is kept when each of its endpoints has one row.
	bad := map[conn]bool{}
	for k, n := range rows {
		if n != 1 {
			bad[connOf[k]] = true
		}
	}
	st := &probeResume{done: map[probeKey]bool{}, rewrite: map[string]bool{}}
	for k := range rows {
		if !bad[connOf[k]] {
			st.done[k] = true
		}
	}
	err = eachPart(ctx, dir, m, datasets.TableEndpoints, func(part string, e *datasets.Endpoint) {
		if !st.done[probeKey{e.Host, e.Address, e.SigAlgs}] {
			st.rewrite[part] = true
			st.dropped++
			return
		}
		countEndpoint(&st.counts, e)
	})
	if err != nil {
		return nil, err
	}
	// The connections kept are not made again.
	for addr, byConn := range work.byAddr {
		for ck := range byConn {
			if !bad[conn{addr, ck}] {
				delete(byConn, ck)
				st.conns++
			}
		}
		if len(byConn) == 0 {
			delete(work.byAddr, addr)
		}
	}
	work.order = slices.DeleteFunc(work.order, func(a netip.Addr) bool { return work.byAddr[a] == nil })
	return st, nil
}
