package analysis

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/danescan/danescan/datasets"
)

// Scan is one scan: the datasets that share its scan id. A scan made by
// one process is one dataset; a scan split with --shard K/N is one
// dataset per shard, read together as one scan.
type Scan struct {
	// ID is the scan id the datasets share.
	ID string
	// Datasets are the scan's datasets: the one dataset of an unsharded
	// scan, or the shards given, by shard index.
	Datasets []*Dataset
	// ShardCount is N of the shards (--shard K/N); 0 for an unsharded
	// scan.
	ShardCount int
	// Missing lists the shard indexes (K) of the shards not given.
	Missing []int
	// Warnings are the problems of the scan and of its datasets that do
	// not stop the analysis (a missing or incomplete shard, an older
	// schema), each once.
	Warnings []string
}

// Started is when the scan started: the earliest start of its datasets.
func (s *Scan) Started() time.Time {
	t := s.Datasets[0].Manifest.Started
	for _, d := range s.Datasets[1:] {
		if d.Manifest.Started.Before(t) {
			t = d.Manifest.Started
		}
	}
	return t
}

// Ended is when the scan ended: the latest end of its datasets.
func (s *Scan) Ended() time.Time {
	var t time.Time
	for _, d := range s.Datasets {
		if d.Manifest.Ended.After(t) {
			t = d.Manifest.Ended
		}
	}
	return t
}

// Complete reports whether every shard is given and complete.
func (s *Scan) Complete() bool {
	for _, d := range s.Datasets {
		if !d.Manifest.Complete {
			return false
		}
	}
	return len(s.Missing) == 0
}

// sharded reports whether the scan's rows come from several datasets,
// whose MX hosts and endpoints must be deduplicated.
func (s *Scan) sharded() bool { return len(s.Datasets) > 1 }

// tuningKeys are the keys of a manifest's config object that may differ
// between the shards of one scan: they set how fast and how politely a
// machine works, or name the machine (ehlo defaults to its host name), not
// what is measured. Every other key must be equal in every shard.
var tuningKeys = map[string]bool{
	"workers": true, "dns_qps": true, "part_rows": true, "host_cache": true,
	"smtp_workers": true, "smtp_rate": true, "address_interval": true, "ehlo": true,
}

// OpenScans expands paths (datasets.FindDatasets: a dataset, or a
// directory of datasets one or two levels down), opens every dataset (OpenDataset)
// and groups them by scan id into scans, oldest first by start. It returns
// a one-line error, before any query, for a path that is no readable
// dataset and for shards that cannot make one scan: two datasets holding
// the same shard (or the same unsharded scan), shard counts that disagree,
// shards of different schema versions, of different flags (the manifests'
// config objects, tuningKeys aside) or of different inputs (their SHA-256,
// where both manifests have it). A missing shard is a warning of its scan.
func OpenScans(paths []string) ([]*Scan, error) {
	dirs, err := datasets.FindDatasets(paths)
	if err != nil {
		return nil, err
	}
	var sets []*Dataset
	for _, dir := range dirs {
		d, err := OpenDataset(dir)
		if err != nil {
			return nil, err
		}
		if step := d.Manifest.Step; step != "" {
			return nil, fmt.Errorf("%s holds the %s step of a split scan, which has no DANE verdicts yet: give the datasets that danescan merge wrote", dir, step)
		}
		sets = append(sets, d)
	}
	return groupScans(sets)
}

// groupScans groups datasets into scans by scan id and checks that the
// datasets of each scan fit together (see OpenScans).
func groupScans(sets []*Dataset) ([]*Scan, error) {
	byID := map[string]*Scan{}
	var scans []*Scan
	for _, d := range sets {
		id := d.Manifest.ScanID
		s := byID[id]
		if s == nil {
			s = &Scan{ID: id}
			byID[id] = s
			scans = append(scans, s)
		}
		s.Datasets = append(s.Datasets, d)
	}
	for _, s := range scans {
		if err := s.check(); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(scans, func(i, j int) bool { return scans[i].Started().Before(scans[j].Started()) })
	return scans, nil
}

// shardName names a dataset's shard: "shard K/N", or "the whole scan".
func shardName(d *Dataset) string {
	if d.Manifest.Shard == nil {
		return "the whole scan"
	}
	return "shard " + d.Manifest.Shard.String()
}

// check checks that the datasets of s make one scan, sorts them by shard
// index, and fills ShardCount, Missing and Warnings.
func (s *Scan) check() error {
	ds := s.Datasets
	first := ds[0]
	for _, d := range ds[1:] {
		a, b := first.Manifest.Shard, d.Manifest.Shard
		switch {
		case a == nil && b == nil:
			return fmt.Errorf("scan %s is given twice: %s and %s both hold the whole scan (give one)", s.ID, first.Dir, d.Dir)
		case a == nil || b == nil || a.Count != b.Count:
			return fmt.Errorf("scan %s: the shard counts disagree: %s holds %s, %s holds %s (a scan's shards share one --shard N)", s.ID, first.Dir, shardName(first), d.Dir, shardName(d))
		}
	}
	if first.Manifest.Shard == nil {
		s.Warnings = append(s.Warnings, first.Warnings...)
		return nil
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Manifest.Shard.Index < ds[j].Manifest.Shard.Index })
	for i := 1; i < len(ds); i++ {
		if ds[i].Manifest.Shard.Index == ds[i-1].Manifest.Shard.Index {
			return fmt.Errorf("scan %s: %s is given twice: %s and %s (give one)", s.ID, shardName(ds[i]), ds[i-1].Dir, ds[i].Dir)
		}
	}
	for _, d := range ds[1:] {
		if err := sameScan(s.ID, first, d); err != nil {
			return err
		}
	}
	s.ShardCount = first.Manifest.Shard.Count
	have := map[int]bool{}
	for _, d := range ds {
		have[d.Manifest.Shard.Index] = true
	}
	for k := range s.ShardCount {
		if !have[k] {
			s.Missing = append(s.Missing, k)
		}
	}
	if len(s.Missing) > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("scan %s is missing %s of its %d shards (%s given): its figures cover only the entries of the shards given",
			s.ID, plural(len(s.Missing), "shard", "shards")+" "+intList(s.Missing), s.ShardCount, intList(sortedKeysOf(have))))
	}
	versions := map[string]bool{}
	for _, d := range ds {
		versions[d.Manifest.ToolVersion] = true
		for _, w := range d.Warnings {
			if !slices.Contains(s.Warnings, w) {
				s.Warnings = append(s.Warnings, w)
			}
		}
	}
	if len(versions) > 1 {
		vs := make([]string, 0, len(versions))
		for v := range versions {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		s.Warnings = append(s.Warnings, fmt.Sprintf("the shards of scan %s were written by different danescan versions (%s)", s.ID, strings.Join(vs, ", ")))
	}
	return nil
}

// sameScan returns an error when shard b was not made like shard a: the
// same schema version, flags and inputs.
func sameScan(id string, a, b *Dataset) error {
	ma, mb := a.Manifest, b.Manifest
	if ma.SchemaVersion != mb.SchemaVersion {
		return fmt.Errorf("scan %s: its shards have different schema versions: %s (%s) has %s, %s (%s) has %s",
			id, a.Dir, shardName(a), ma.SchemaVersion, b.Dir, shardName(b), mb.SchemaVersion)
	}
	keys := map[string]bool{}
	for k := range ma.Config {
		keys[k] = true
	}
	for k := range mb.Config {
		keys[k] = true
	}
	for _, k := range sortedKeysOf(keys) {
		if tuningKeys[k] {
			continue
		}
		va, oka := ma.Config[k]
		vb, okb := mb.Config[k]
		if oka != okb || !reflect.DeepEqual(va, vb) {
			return fmt.Errorf("scan %s: its shards were scanned with different flags: %s (%s) has %s, %s (%s) has %s",
				id, a.Dir, shardName(a), configValue(k, va, oka), b.Dir, shardName(b), configValue(k, vb, okb))
		}
	}
	if len(ma.Inputs) != len(mb.Inputs) {
		return fmt.Errorf("scan %s: its shards read different inputs: %s (%s) read %d, %s (%s) read %d",
			id, a.Dir, shardName(a), len(ma.Inputs), b.Dir, shardName(b), len(mb.Inputs))
	}
	for i, in := range ma.Inputs {
		other := mb.Inputs[i]
		if in.SHA256 != "" && other.SHA256 != "" && in.SHA256 != other.SHA256 {
			return fmt.Errorf("scan %s: its shards read different inputs: input %d is %s with SHA-256 %.12s… in %s (%s), %s with %.12s… in %s (%s)",
				id, i+1, in.Path, in.SHA256, a.Dir, shardName(a), other.Path, other.SHA256, b.Dir, shardName(b))
		}
	}
	return nil
}

// configValue renders a config entry for an error message.
func configValue(k string, v any, ok bool) string {
	if !ok {
		return "no " + k
	}
	return fmt.Sprintf("%s=%v", k, v)
}

func sortedKeysOf[K int | string](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// intList renders ns as "0, 1 and 3", at most ten of them.
func intList(ns []int) string {
	var parts []string
	for i, n := range ns {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("%d more", len(ns)-10))
			break
		}
		parts = append(parts, strconv.Itoa(n))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
