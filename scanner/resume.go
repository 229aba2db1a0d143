package scanner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"maps"
	"math/bits"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lookup"
	"github.com/danescan/danescan/scanner/starttls"
)

// ErrComplete is returned by Resume, with the dataset's manifest, when
// the scan in the output directory is complete: there is nothing to
// resume, and nothing was done.
var ErrComplete = errors.New("the scan is complete: nothing to resume")

// Resume continues the scan whose dataset is in outDir, stopped by a
// signal (complete=false, rows marked interrupted) or killed (the
// manifest as last checkpointed, perhaps parts on disk that it does not
// list), with the same inputs and settings, and returns the final
// manifest as Run does. What the parts listed in the manifest hold is
// kept, except the rows that a finished scan would not have:
//
//   - an mx_hosts row is kept when it is not interrupted, is the only row
//     of its host, and the endpoints rows of its host are all there (as
//     many as its endpoints column says) and none is interrupted; an
//     endpoints row is kept when its host's row is;
//   - in the DNS step of a split scan (cfg.SMTPHandover, manifest step
//     dns), an mx_hosts row is kept only when its host's handover rows
//     are all there too: none for a host with a failure or no address,
//     else one per endpoint (min(addresses, MaxAddresses) x the modes of
//     cfg.SigAlgs), positions 0..n-1 each once, each saying n endpoints;
//     a handover row is kept when its host's row is;
//   - a domains row is kept when it is not interrupted (nor canceled)
//     and every host of its mx_hosts column has its row kept (an
//     invalid or excluded entry's row is always kept).
//
// The other rows are dropped (datasets.Resume rewrites the parts that
// hold them), and their entries and hosts are scanned again, with the
// entries that have no row yet. The kept hosts count as written (their
// rows are never written twice) and their summaries, as their rows
// give them, seed the host cache: a domain scanned now that uses a kept
// host gets its verdicts from the kept row without probing it again
// (beyond the cache's size, as in any scan, the host is probed again and
// its row not written). The manifest keeps the scan id, start time and
// command, and gets the time of this run appended to "resumed" and
// cfg.Resolvers added to its resolvers; its counts are those of every
// row in the dataset (dns_queries and endpoints_probed: of this run).
//
// Before anything is changed, Resume refuses, with a one-line error and
// a nil manifest: an outDir without a dataset, or one that another
// process writes (datasets.LockName); a DNS step without
// cfg.SMTPHandover and a whole scan with it, a probe step (see Probe) and
// a merge; a dataset of another
// shard, another scan id (cfg.ScanID, when set) or schema version; other
// settings (the manifest's config object); other inputs
// (their paths and formats, their SHA-256 when the manifest knows it, and
// each kept domains row must match an input entry of the same file, line
// and name); an input that is a stream, which cannot be checked. A
// complete scan returns its manifest and ErrComplete. Memory: the kept
// entries are a sorted set of 64-bit hashes (8 bytes and a bit each);
// the hosts, a map while the dataset is read.
func Resume(ctx context.Context, cfg Config, inputs []Input, outDir string, stats *Stats) (*datasets.Manifest, error) {
	old, err := datasets.ReadManifest(outDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("resume: %s holds no dataset (no %s): start the scan without --resume", outDir, datasets.ManifestName)
		}
		return nil, fmt.Errorf("resume: %w", err)
	}
	if old.Complete {
		return old, fmt.Errorf("resume: %s: %w", outDir, ErrComplete)
	}
	if err := datasets.InUse(outDir); err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if err := checkResumeShard(outDir, old, cfg.Shard); err != nil {
		return nil, err
	}
	if err := checkResumeStep(outDir, old, &cfg); err != nil {
		return nil, err
	}
	if cfg.ScanID == "" {
		cfg.ScanID = old.ScanID
	} else if cfg.ScanID != old.ScanID {
		return nil, fmt.Errorf("resume: %s holds scan %s, not %s: another scan (or its inputs changed)", outDir, old.ScanID, cfg.ScanID)
	}
	if old.SchemaVersion != datasets.SchemaVersion {
		return nil, fmt.Errorf("resume: %s holds a dataset of schema version %s; this danescan writes %s", outDir, old.SchemaVersion, datasets.SchemaVersion)
	}
	cfg.defaults()
	if err := checkResumeConfig(outDir, old, startManifest(&cfg, nil).Config); err != nil {
		return nil, err
	}
	if len(inputs) != len(old.Inputs) {
		return nil, fmt.Errorf("resume: the scan in %s read %d input(s), not %d: give the same inputs", outDir, len(old.Inputs), len(inputs))
	}
	for i, in := range inputs {
		if in.Path != old.Inputs[i].Path {
			return nil, fmt.Errorf("resume: input %d is %s; the scan in %s read %s: give the same inputs", i+1, in.Path, outDir, old.Inputs[i].Path)
		}
		fi, err := os.Stat(in.Path)
		if in.Path == "-" || (err == nil && !fi.Mode().IsRegular()) {
			return nil, fmt.Errorf("resume: input %s is a stream, which cannot be checked against the scan being resumed: scan from a file", in.Path)
		}
	}
	if old.ToolVersion != cfg.ToolVersion {
		cfg.Logger.Warn("resume: the scan was started by another version of danescan", "was", old.ToolVersion, "now", cfg.ToolVersion)
	}
	// Reading a large dataset and its inputs takes a while: a signal
	// meanwhile stops the resume before it has changed anything.
	st, err := loadResume(ctx, outDir, old, &cfg)
	if err != nil {
		return nil, err
	}
	sums, err := st.checkInputs(ctx, outDir, old, &cfg, inputs)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("resume: kept rows", "domains", st.counts.RowsDomains, "mx_hosts", st.counts.RowsMXHosts, "endpoints", st.counts.RowsEndpoints, "handover", st.counts.RowsHandover,
		"dropped_domains", st.dropped[0], "dropped_mx_hosts", st.dropped[1], "dropped_endpoints", st.dropped[2], "dropped_handover", st.dropped[3], "parts_rewritten", len(st.rewrite))
	cfg.resume = st
	return scanInto(ctx, &cfg, inputs, stats, func(start *datasets.Manifest) (sink, error) {
		start.Started = old.Started
		start.Resumed = append(slices.Clone(old.Resumed), cfg.Now().UTC())
		start.Command = old.Command
		start.Vantage = old.Vantage
		start.Inputs = sums
		// The dataset names every resolver that answered for it.
		start.Resolvers = slices.Clone(old.Resolvers)
		for _, r := range cfg.Resolvers {
			if !slices.Contains(start.Resolvers, r) {
				start.Resolvers = append(start.Resolvers, r)
			}
		}
		w, err := datasets.Resume(outDir, start, datasets.ResumeOptions{
			PartRows:     cfg.PartRows,
			Rewrite:      st.rewrite,
			KeepDomain:   st.keepDomain,
			KeepHost:     func(h *datasets.MXHost) bool { return st.complete(h.Host) },
			KeepEndpoint: func(e *datasets.Endpoint) bool { return st.complete(e.Host) },
			KeepHandover: func(h *datasets.Handover) bool { return st.complete(h.Host) },
			Handover:     cfg.SMTPHandover,
		})
		if err != nil {
			return nil, err
		}
		return w, nil
	})
}

// checkResumeStep refuses to resume a dataset as another step of a scan
// than the one that wrote it: the DNS step of a split scan is resumed
// with --smtp-handover, a whole scan without; a probe step is resumed by
// Probe, and the merge is not resumed (it is cheap: run it again).
func checkResumeStep(dir string, old *datasets.Manifest, cfg *Config) error {
	switch {
	case old.Step == datasets.StepProbe:
		return fmt.Errorf("resume: %s holds a probe step of a split scan: resume it with danescan probe --resume", dir)
	case old.Step != "" && old.Step != datasets.StepDNS:
		return fmt.Errorf("resume: %s holds step %q of a split scan, which this danescan does not know", dir, old.Step)
	case old.Step == datasets.StepDNS && !cfg.SMTPHandover:
		return fmt.Errorf("resume: %s holds the DNS step of a split scan: give --smtp-handover, as its command did", dir)
	case old.Config["smtp_handover"] != nil:
		return fmt.Errorf("resume: %s holds a merge of a split scan, which is not resumed: run danescan merge again with --replace", dir)
	case old.Step == "" && cfg.SMTPHandover:
		return fmt.Errorf("resume: %s holds a scan that probed SMTP itself, not the DNS step of a split scan: resume it without --smtp-handover", dir)
	}
	return nil
}

// checkResumeShard refuses to resume the dataset of another shard, or of
// a whole scan as a shard and the reverse.
func checkResumeShard(dir string, old *datasets.Manifest, sh datasets.Shard) error {
	switch {
	case old.Shard == nil && sh.Count > 0:
		return fmt.Errorf("resume: %s holds a scan of the whole input, not shard %s", dir, sh)
	case old.Shard != nil && sh.Count == 0:
		return fmt.Errorf("resume: %s holds shard %s of scan %s: give --shard %s", dir, old.Shard, old.ScanID, old.Shard)
	case old.Shard != nil && *old.Shard != sh:
		return fmt.Errorf("resume: %s holds shard %s of scan %s, not shard %s", dir, old.Shard, old.ScanID, sh)
	}
	return nil
}

// checkResumeConfig refuses settings other than the scan's: the config
// object config (what the scan being resumed would write) and old's,
// compared as JSON, as the manifest stores it. The resolvers may differ
// (a job moved to another machine, the lab's port): they are not in it.
func checkResumeConfig(dir string, old *datasets.Manifest, config map[string]any) error {
	now, err := jsonObject(config)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	was, err := jsonObject(old.Config)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(was, now))) {
		w, okW := was[k]
		n, okN := now[k]
		if okW && okN && reflect.DeepEqual(w, n) {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s %s, now %s", k, jsonText(w, okW), jsonText(n, okN)))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("resume: the scan in %s was made with other settings (%s): give the same flags as its manifest's command", dir, strings.Join(diffs, "; "))
	}
	return nil
}

// jsonObject returns m as encoding/json reads it back.
func jsonObject(m map[string]any) (map[string]any, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func mergeKeys(a, b map[string]any) map[string]bool {
	keys := make(map[string]bool, len(a)+len(b))
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// jsonText is v as JSON, or "unset".
func jsonText(v any, ok bool) string {
	if !ok {
		return "unset"
	}
	data, _ := json.Marshal(v)
	return string(data)
}

// resumeState is what Resume learned of the dataset it continues: the
// entries and hosts whose rows are kept, their counts, and the parts that
// hold rows to drop.
type resumeState struct {
	seed maphash.Seed
	// done holds the keys (entryKey) of the kept domains rows, sorted.
	done []uint64
	// hit marks the keys of done met in the inputs (a bit each).
	hit []uint64
	// hosts is the host cache of the scan: the kept hosts are written,
	// their summaries cached.
	hosts *hostCache
	// completeHosts holds the hashes (hostKey) of the hosts whose rows
	// are kept, sorted.
	completeHosts []uint64
	counts        datasets.Counts
	rewrite       map[string]bool
	// dropped counts the rows dropped: domains, mx_hosts, endpoints,
	// handover.
	dropped [4]int64
}

// entryKey is the key of an input entry, or of the domains row it got:
// its file, line and name (the domain, or the text of an invalid line).
func (st *resumeState) entryKey(file string, line int64, name string) uint64 {
	var h maphash.Hash
	h.SetSeed(st.seed)
	h.WriteString(file)
	h.WriteByte(0)
	h.WriteString(strconv.FormatInt(line, 10))
	h.WriteByte(0)
	h.WriteString(name)
	return h.Sum64()
}

// rowKey is the entryKey of a domains row.
func (st *resumeState) rowKey(d *datasets.Domain) uint64 {
	name := d.Domain
	if name == "" {
		name = d.Input
	}
	return st.entryKey(d.InputFile, d.InputLine, name)
}

// entryName is the name of an entry in its key.
func entryName(e *datasets.Entry) string {
	if e.Err != nil {
		return e.Raw
	}
	return e.Domain
}

func (st *resumeState) hostKey(host string) uint64 { return maphash.String(st.seed, host) }

// complete reports whether host's rows are kept.
func (st *resumeState) complete(host string) bool {
	_, ok := slices.BinarySearch(st.completeHosts, st.hostKey(host))
	return ok
}

// keepDomain reports whether a domains row is kept.
func (st *resumeState) keepDomain(d *datasets.Domain) bool {
	// A lookup canceled by the scan's end is no finding either (rows
	// written before the implicit MX's lookups were marked interrupted
	// said canceled).
	if d.Failure == FailInterrupted || d.Failure == string(lookup.FailCanceled) {
		return false
	}
	for _, h := range d.MXHosts {
		if !st.complete(h) {
			return false
		}
	}
	return true
}

// find returns the index of key in done, or -1.
func (st *resumeState) find(key uint64) int {
	if i, ok := slices.BinarySearch(st.done, key); ok {
		return i
	}
	return -1
}

// kept reports whether e's row was kept from the scan being resumed; it
// counts e as done then. It is false in a scan that does not resume.
func (s *scan) kept(e datasets.Entry) bool {
	st := s.cfg.resume
	if st == nil || st.find(st.entryKey(e.File, e.Line, entryName(&e))) < 0 {
		return false
	}
	s.stats.Done.Add(1)
	return true
}

// seedResume gives a resumed scan the host cache that knows the kept
// hosts, and returns the counts of the kept rows, which the new rows add
// to. It returns zero counts in a scan that does not resume.
func (s *scan) seedResume() datasets.Counts {
	st := s.cfg.resume
	if st == nil {
		return datasets.Counts{}
	}
	s.hosts = st.hosts
	return st.counts
}

// errStopped is Resume's error when ctx ends before the scan resumes.
var errStopped = fmt.Errorf("resume: stopped before the scan resumed, nothing changed: %w", ErrInterrupted)

// eachPart calls fn with every row of the parts of table listed in m, a
// part at a time; fn gets the part's path.
func eachPart[T any](ctx context.Context, dir string, m *datasets.Manifest, table string, fn func(part string, row *T)) error {
	for _, p := range datasets.ListedParts(m, table) {
		if ctx.Err() != nil {
			return errStopped
		}
		rows, err := datasets.ReadPart[T](dir, p)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		for i := range rows {
			fn(p.Path, &rows[i])
		}
	}
	return nil
}

// loadResume reads the parts listed in m (the dataset in dir) and decides
// which rows are kept (see Resume).
func loadResume(ctx context.Context, dir string, m *datasets.Manifest, cfg *Config) (*resumeState, error) {
	st := &resumeState{seed: maphash.MakeSeed(), hosts: newHostCache(cfg.HostCacheSize), rewrite: map[string]bool{}}
	// A host's rows are kept when exactly one mx_hosts row and as many
	// endpoints rows as it says are there, none interrupted; in the DNS
	// step of a split scan, its handover rows too (handoverWant).
	type hostRows struct {
		rows, want, endpoints int32
		bad                   bool
		// handover counts the host's handover rows, handoverWant those
		// its mx_hosts row calls for; positions has bit i set for the
		// row at position i, and handoverBad is set when the rows
		// disagree with each other or with handoverWant.
		handover, handoverWant int32
		positions              uint64
		handoverBad            bool
	}
	hosts := map[uint64]hostRows{}
	err := eachPart(ctx, dir, m, datasets.TableEndpoints, func(_ string, e *datasets.Endpoint) {
		k := st.hostKey(e.Host)
		h := hosts[k]
		h.endpoints++
		h.bad = h.bad || e.Failure == FailInterrupted
		hosts[k] = h
	})
	if err != nil {
		return nil, err
	}
	modes := 0
	if cfg.SMTPHandover {
		ms, err := starttls.SigAlgsModes(cfg.SigAlgs)
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		modes = len(ms)
		err = eachPart(ctx, dir, m, datasets.TableHandover, func(_ string, r *datasets.Handover) {
			k := st.hostKey(r.Host)
			h := hosts[k]
			bit := uint64(1) << (r.Position & 63)
			if h.handover > 0 && r.Endpoints != h.handoverWant || r.Position < 0 || r.Position >= r.Endpoints || r.Position >= 64 || h.positions&bit != 0 {
				h.handoverBad = true
			}
			h.handover++
			h.positions |= bit
			// Until the mx_hosts row says otherwise: what the rows say.
			h.handoverWant = r.Endpoints
			hosts[k] = h
		})
		if err != nil {
			return nil, err
		}
	}
	err = eachPart(ctx, dir, m, datasets.TableMXHosts, func(_ string, r *datasets.MXHost) {
		k := st.hostKey(r.Host)
		h := hosts[k]
		h.rows++
		h.want = r.Endpoints
		h.bad = h.bad || r.Failure == FailInterrupted
		if cfg.SMTPHandover {
			// scan.host hands over the endpoints of a host that has
			// addresses and no failure (scan.endpointsOf: at most
			// MaxAddresses addresses, once per mode), nothing otherwise.
			want := int32(0)
			if r.Failure == "" && len(r.Addresses) > 0 {
				want = int32(min(len(r.Addresses), MaxAddresses) * modes)
			}
			if h.handover > 0 && h.handoverWant != want {
				h.handoverBad = true
			}
			h.handoverWant = want
		}
		hosts[k] = h
	})
	if err != nil {
		return nil, err
	}
	for k, h := range hosts {
		// Positions 0..n-1 each once (n <= 64, or a row was bad; a
		// shift by 64 is 0, so n = 64 asks for every bit).
		handoverDone := h.handover == h.handoverWant && !h.handoverBad && h.positions == (uint64(1)<<h.handover)-1
		if h.rows == 1 && h.endpoints == h.want && !h.bad && handoverDone {
			st.completeHosts = append(st.completeHosts, k)
		}
	}
	clear(hosts)
	slices.Sort(st.completeHosts)

	err = eachPart(ctx, dir, m, datasets.TableMXHosts, func(part string, r *datasets.MXHost) {
		if !st.complete(r.Host) {
			st.rewrite[part] = true
			st.dropped[1]++
			return
		}
		countHost(&st.counts, r)
		st.hosts.add(r.Host, summaryOf(r))
	})
	if err != nil {
		return nil, err
	}
	err = eachPart(ctx, dir, m, datasets.TableEndpoints, func(part string, e *datasets.Endpoint) {
		if !st.complete(e.Host) {
			st.rewrite[part] = true
			st.dropped[2]++
			return
		}
		countEndpoint(&st.counts, e)
	})
	if err != nil {
		return nil, err
	}
	err = eachPart(ctx, dir, m, datasets.TableHandover, func(part string, h *datasets.Handover) {
		if !st.complete(h.Host) {
			st.rewrite[part] = true
			st.dropped[3]++
			return
		}
		st.counts.RowsHandover++
	})
	if err != nil {
		return nil, err
	}
	err = eachPart(ctx, dir, m, datasets.TableDomains, func(part string, d *datasets.Domain) {
		if !st.keepDomain(d) {
			st.rewrite[part] = true
			st.dropped[0]++
			return
		}
		countDomain(&st.counts, d)
		st.done = append(st.done, st.rowKey(d))
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(st.done)
	st.done = slices.Clip(st.done)
	st.hit = make([]uint64, (len(st.done)+63)/64)
	return st, nil
}

// summaryOf is the summary of a host as its kept mx_hosts row gives it:
// what hostProbe.summary returned when the row was written.
func summaryOf(r *datasets.MXHost) hostSummary {
	return hostSummary{
		hasTLSA:         len(r.TLSA.Records) > 0,
		addressesSecure: r.AddressesSecure,
		tlsaState:       r.TLSAState,
		daneStatus:      r.DANEStatus,
		daneReason:      r.DANEReason,
	}
}

// checkInputs reads the inputs once before the scan resumes: their
// formats and (when the manifest knows it) SHA-256 must be the scan's,
// and every kept domains row must be an entry of them (same file, line
// and name) in this shard. It returns the inputs' summaries (with their
// SHA-256 when read to the end), for the manifest.
func (st *resumeState) checkInputs(ctx context.Context, dir string, old *datasets.Manifest, cfg *Config, inputs []Input) ([]datasets.Input, error) {
	sums := make([]datasets.Input, len(inputs))
	for i, in := range inputs {
		r, err := datasets.OpenInputWith(in.Path, datasets.InputOptions{Format: in.Format, Origin: in.Origin})
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		was := old.Inputs[i]
		if was.Format != "" && r.Format() != was.Format {
			r.Close()
			return nil, fmt.Errorf("resume: input %s is read as %s; the scan in %s read it as %s: give the same --format", in.Path, r.Format(), dir, was.Format)
		}
		for n := 0; ; n++ {
			if n%4096 == 0 && ctx.Err() != nil {
				r.Close()
				return nil, errStopped
			}
			e, err := r.Next()
			if err != nil {
				sums[i] = r.Summary()
				if err != io.EOF {
					// The scan stops reading a file at such an error, and
					// so does this check.
					sums[i].SHA256 = ""
				}
				break
			}
			if !cfg.Shard.Holds(datasets.ShardKey(e)) {
				continue
			}
			if j := st.find(st.entryKey(e.File, e.Line, entryName(&e))); j >= 0 {
				st.hit[j/64] |= 1 << (j % 64)
			}
		}
		r.Close()
		if was.SHA256 != "" && sums[i].SHA256 != was.SHA256 {
			return nil, fmt.Errorf("resume: input %s changed since the scan in %s read it (SHA-256 %s, was %s): start a new scan", in.Path, dir, sums[i].SHA256, was.SHA256)
		}
	}
	found := 0
	for _, w := range st.hit {
		found += bits.OnesCount64(w)
	}
	if missing := len(st.done) - found; missing > 0 {
		return nil, fmt.Errorf("resume: %d of the %d domains rows in %s match no entry of the inputs (file, line and name): the inputs changed since the scan started; start a new scan", missing, len(st.done), dir)
	}
	st.hit = nil
	return sums, nil
}
