package datasets

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Verdict is what Verify makes of a dataset, a scan, a finding or the
// whole of what it was given. From best to worst: intact, incomplete,
// unsupported, damaged; a whole has the worst verdict of its members.
type Verdict string

// Values of Verdict.
const (
	// VerdictIntact: everything the manifests promise holds, and every
	// scan is complete.
	VerdictIntact Verdict = "intact"
	// VerdictIncomplete: what is there is intact, but a scan did not
	// finish (manifest "complete": false) or a shard is missing.
	VerdictIncomplete Verdict = "incomplete"
	// VerdictUnsupported: the schema version is not the one this build
	// reads: the parts' sizes and SHA-256 were checked, not their contents.
	VerdictUnsupported Verdict = "unsupported"
	// VerdictDamaged: a promise is broken: a part missing, changed,
	// unreadable or not listed, counts that do not add up, a domain twice,
	// a shard twice, shards that do not belong together.
	VerdictDamaged Verdict = "damaged"
)

// rank orders verdicts from best (0) to worst.
func (v Verdict) rank() int {
	switch v {
	case VerdictIntact, "":
		return 0
	case VerdictIncomplete:
		return 1
	case VerdictUnsupported:
		return 2
	}
	return 3
}

// worse returns the worse of a and b.
func worse(a, b Verdict) Verdict {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Check names what a VerifyFinding is about: a closed vocabulary.
type Check string

// Values of Check. The verdict of each is in its comment.
const (
	// CheckManifest: manifest.json is missing or cannot be read, or lists a
	// part outside the table folders or twice (damaged).
	CheckManifest Check = "manifest"
	// CheckSchemaVersion: the schema version is not the one this build
	// reads (unsupported; damaged when it is not a version at all).
	CheckSchemaVersion Check = "schema_version"
	// CheckIncomplete: the manifest says "complete": false (incomplete).
	CheckIncomplete Check = "incomplete"
	// CheckPartMissing: a part the manifest lists is not there (damaged).
	CheckPartMissing Check = "part_missing"
	// CheckPartChecksum: a part's size or SHA-256 is not the manifest's
	// (damaged).
	CheckPartChecksum Check = "part_checksum"
	// CheckPartUnreadable: a part does not read as Parquet with its
	// table's schema, or belongs to another table or schema version
	// (damaged).
	CheckPartUnreadable Check = "part_unreadable"
	// CheckPartRows: a part holds another number of rows than the
	// manifest says, or rows of another scan id (damaged).
	CheckPartRows Check = "part_rows"
	// CheckUnlistedPart: a part file in a table folder that the manifest
	// does not list; readers of the folder would read its rows (damaged;
	// incomplete when the manifest has no end time: a scan killed, or
	// running, may have finished a part since its last manifest).
	CheckUnlistedPart Check = "unlisted_part"
	// CheckCounts: the rows of a complete dataset are not what its counts
	// say (one domains row per input entry), or the shards of one scan
	// read different numbers of entries, or did not take each entry once
	// (damaged).
	CheckCounts Check = "counts"
	// CheckDuplicateDomain: a domain has more than one row (damaged).
	CheckDuplicateDomain Check = "duplicate_domain"
	// CheckWrongShard: a domains row is in a shard its name does not
	// belong to (damaged): it was copied from another shard or the shards
	// were mixed up.
	CheckWrongShard Check = "wrong_shard"
	// CheckShardMissing: a shard 0..N-1 of a scan is not among the
	// datasets given (incomplete).
	CheckShardMissing Check = "shard_missing"
	// CheckShardDuplicate: a shard, or the whole of an unsharded scan, is
	// in more than one dataset (damaged).
	CheckShardDuplicate Check = "shard_duplicate"
	// CheckShardMismatch: datasets of one scan id do not belong together:
	// different shard counts, inputs (SHA-256) or schema versions, or a
	// whole scan beside shards (damaged).
	CheckShardMismatch Check = "shard_mismatch"
)

// Checks returns the values of Check.
func Checks() []Check {
	return []Check{CheckManifest, CheckSchemaVersion, CheckIncomplete, CheckPartMissing, CheckPartChecksum, CheckPartUnreadable,
		CheckPartRows, CheckUnlistedPart, CheckCounts, CheckDuplicateDomain, CheckWrongShard, CheckShardMissing,
		CheckShardDuplicate, CheckShardMismatch}
}

// VerifyFinding is one thing Verify found.
type VerifyFinding struct {
	Check   Check   `json:"check"`
	Verdict Verdict `json:"verdict"`
	// Dataset is the dataset directory as found from the paths given;
	// empty for a finding about a scan as a whole.
	Dataset string `json:"dataset,omitempty"`
	ScanID  string `json:"scan_id,omitempty"`
	// Part is the part's path in the dataset ("domains/part-00000.parquet")
	// when the finding is about one part.
	Part    string `json:"part,omitempty"`
	Message string `json:"message"`
}

// String is the finding as one line: where, the verdict, the check and
// the message.
func (f VerifyFinding) String() string {
	where := f.Dataset
	if where == "" {
		where = "scan " + f.ScanID
	}
	if f.Part != "" {
		where += ": " + f.Part
	}
	return fmt.Sprintf("%s: %s [%s]: %s", where, f.Verdict, f.Check, f.Message)
}

// VerifiedDataset is Verify's summary of one dataset directory.
type VerifiedDataset struct {
	Dir           string  `json:"dir"`
	Verdict       Verdict `json:"verdict"`
	ScanID        string  `json:"scan_id,omitempty"`
	Shard         *Shard  `json:"shard,omitempty"`
	SchemaVersion string  `json:"schema_version,omitempty"`
	Complete      bool    `json:"complete"`
	// Parts is the number of parts the manifest lists.
	Parts int `json:"parts"`
	// Rows is the number of rows read per table (only when the schema
	// version is this build's).
	Rows     map[string]int64 `json:"rows,omitempty"`
	Findings int              `json:"findings"`
	// Manifest is the manifest read; nil when it could not be read.
	Manifest *Manifest `json:"-"`
	// badShard is set when the manifest's shard is not K/N with
	// 0 <= K < N <= MaxShards: the dataset is left out of its scan.
	badShard bool
}

// VerifiedScan is Verify's summary of the datasets of one scan id.
type VerifiedScan struct {
	ScanID  string  `json:"scan_id"`
	Verdict Verdict `json:"verdict"`
	// Datasets are the directories of the scan's datasets.
	Datasets []string `json:"datasets"`
	// ShardCount is N of a sharded scan (0 for a whole scan); Shards is
	// the number of distinct shards present.
	ShardCount int `json:"shard_count,omitempty"`
	Shards     int `json:"shards,omitempty"`
	// DomainRows is the number of domains rows read across the datasets
	// (-1 when the rows of one were not read: a schema version this build
	// does not read); Entries is the number there should be,
	// counts.domains + counts.invalid + counts.excluded summed over the
	// datasets (-1 when one has no totals).
	DomainRows int64 `json:"domain_rows"`
	Entries    int64 `json:"entries"`
	// Findings counts the findings about the scan and its datasets.
	Findings int `json:"findings"`
}

// Verification is the result of Verify.
type Verification struct {
	Verdict  Verdict           `json:"verdict"`
	Datasets []VerifiedDataset `json:"datasets"`
	Scans    []VerifiedScan    `json:"scans"`
	Findings []VerifyFinding   `json:"findings"`
}

// maxFindingsPerCheck bounds the findings of one check in one dataset
// (wrong shard, duplicate domain): a dataset that is wrong row by row says
// so in a few lines and a count.
const maxFindingsPerCheck = 10

// datasetTables returns the names of the tables a dataset directory may
// hold: every table but findings, which is a report's.
func datasetTables() []string {
	var names []string
	for _, d := range tableDefs() {
		if d.name != TableFindings {
			names = append(names, d.name)
		}
	}
	return names
}

// Failure classes of domains rows whose name may repeat: every invalid
// line and every excluded entry has a row of its own (scanner.FailInvalidName,
// scanner.FailExcluded).
const (
	failInvalidName = "invalid_name"
	failExcluded    = "excluded"
)

// Verify checks the datasets found at paths (see FindDatasets) against
// what their manifests promise: each listed part there with its size,
// SHA-256 and row count, readable as Parquet with its table's schema and
// holding rows of the manifest's scan; no part file that the manifest
// does not list; a schema version this build reads; for a complete
// dataset, one domains row per input entry (counts.domains +
// counts.invalid + counts.excluded, the same as counts.rows_domains) and
// the mx_hosts and endpoints rows its counts say; no domain twice, each
// row in the shard its name belongs to. Then, per scan id, that shards
// 0..N-1 are each there once, with the same N, inputs and schema version,
// and took every input entry once. With the shard check, no domain twice
// in a dataset means no domain twice in the scan: a copy in another shard
// is in a shard it does not belong to. Every problem is a VerifyFinding;
// the error is for paths that hold no dataset, and for ctx ending (the
// work done so far is then lost).
func Verify(ctx context.Context, paths []string) (*Verification, error) {
	dirs, err := FindDatasets(paths)
	if err != nil {
		return nil, err
	}
	v := &Verification{Verdict: VerdictIntact, Scans: []VerifiedScan{}, Findings: []VerifyFinding{}}
	for _, dir := range dirs {
		d, found, err := verifyDataset(ctx, dir)
		if err != nil {
			return nil, err
		}
		v.Datasets = append(v.Datasets, d)
		v.Findings = append(v.Findings, found...)
		v.Verdict = worse(v.Verdict, d.Verdict)
	}
	for _, s := range groupScans(v.Datasets) {
		sum, found := verifyScan(s)
		v.Scans = append(v.Scans, sum)
		v.Findings = append(v.Findings, found...)
		v.Verdict = worse(v.Verdict, sum.Verdict)
	}
	return v, nil
}

// maxDepth is how many directory levels below a path given FindDatasets
// searches for datasets (as danescan analyze: a directory of shards, or
// of scans of shards).
const maxDepth = 2

// FindDatasets returns the dataset directories at paths, in the order of
// paths and by name below each, each once (however many paths or links
// lead to it): a path that is a dataset (it
// holds manifest.json, or one of the table folders) is one; another
// directory is searched for datasets one and two levels down (a directory
// of shard datasets, scan=.../shard=...; a symbolic link to a dataset counts,
// other links are not followed). It returns an error, naming the
// path, when a path does not exist, is not a directory or holds no dataset.
func FindDatasets(paths []string) ([]string, error) {
	var dirs []string
	seen := map[string]bool{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, unwrapPath(err))
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s is not a directory (give a dataset directory or a directory of datasets)", p)
		}
		found := []string{p}
		if !isDataset(p) {
			if found, err = findBelow(p); err != nil {
				return nil, fmt.Errorf("%s: %w", p, unwrapPath(err))
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no dataset (no %s, no table folder, nor directories of datasets)", p, ManifestName)
		}
		for _, d := range found {
			key := d // the same dataset by another path or link is one
			if real, err := filepath.EvalSymlinks(d); err == nil {
				key = real
			}
			if abs, err := filepath.Abs(key); err == nil {
				key = abs
			}
			if !seen[key] {
				seen[key] = true
				dirs = append(dirs, d)
			}
		}
	}
	return dirs, nil
}

// findBelow returns the datasets in the directories below root, down to
// maxDepth levels, in name order.
func findBelow(root string) ([]string, error) {
	var found []string
	// A trailing separator makes WalkDir follow root when it is a link.
	err := filepath.WalkDir(root+string(filepath.Separator), func(dir string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type()&fs.ModeSymlink != 0 {
			// A link to a dataset counts (shards gathered by links);
			// links are not followed further.
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() && isDataset(dir) {
				found = append(found, dir)
			}
			return nil
		}
		if !e.IsDir() {
			return nil
		}
		depth := 0
		if rel, err := filepath.Rel(root, dir); err == nil && rel != "." {
			depth = strings.Count(rel, string(filepath.Separator)) + 1
		}
		if depth == 0 {
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") {
			return filepath.SkipDir
		}
		if isDataset(dir) {
			found = append(found, dir)
			return filepath.SkipDir
		}
		if depth >= maxDepth {
			return filepath.SkipDir
		}
		return nil
	})
	return found, err
}

// isDataset reports whether dir holds manifest.json or a table folder.
func isDataset(dir string) bool {
	if _, err := os.Lstat(filepath.Join(dir, ManifestName)); err == nil {
		return true
	}
	for _, t := range datasetTables() {
		if fi, err := os.Stat(filepath.Join(dir, t)); err == nil && fi.IsDir() {
			return true
		}
	}
	return false
}

// datasetCheck collects the findings about one dataset.
type datasetCheck struct {
	sum      VerifiedDataset
	findings []VerifyFinding
	// per counts the findings by check, for maxFindingsPerCheck.
	per map[Check]int
}

// add records a finding about the dataset (about its part when part is
// not empty) and worsens its verdict.
func (c *datasetCheck) add(check Check, verdict Verdict, part, format string, args ...any) {
	c.per[check]++
	n := c.per[check]
	c.sum.Verdict = worse(c.sum.Verdict, verdict)
	if check == CheckWrongShard || check == CheckDuplicateDomain {
		if n > maxFindingsPerCheck {
			return
		}
	}
	c.findings = append(c.findings, VerifyFinding{
		Check: check, Verdict: verdict, Dataset: c.sum.Dir, ScanID: c.sum.ScanID, Part: part,
		Message: fmt.Sprintf(format, args...),
	})
}

// verifyDataset checks the dataset in dir. The error is ctx's.
func verifyDataset(ctx context.Context, dir string) (VerifiedDataset, []VerifyFinding, error) {
	c := &datasetCheck{sum: VerifiedDataset{Dir: dir, Verdict: VerdictIntact}, per: map[Check]int{}}
	m, err := ReadManifest(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			c.add(CheckManifest, VerdictDamaged, "", "no %s: nothing says what the dataset holds", ManifestName)
		} else {
			c.add(CheckManifest, VerdictDamaged, "", "%s cannot be read: %v", ManifestName, unwrapManifestErr(err))
		}
		return c.done()
	}
	c.sum.Manifest = m
	c.sum.ScanID, c.sum.Shard, c.sum.SchemaVersion, c.sum.Complete, c.sum.Parts = m.ScanID, m.Shard, m.SchemaVersion, m.Complete, len(m.Parts)
	if sh := m.Shard; sh != nil && (sh.Count < 1 || sh.Count > MaxShards || sh.Index < 0 || sh.Index >= sh.Count) {
		c.add(CheckManifest, VerdictDamaged, "", "shard %d/%d is not a shard (want K/N with 0 <= K < N <= %d)", sh.Index, sh.Count, MaxShards)
		c.sum.badShard = true
	}
	if !m.Complete {
		why := "the scan did not finish"
		switch {
		case m.InterruptedBy != "":
			why += " (interrupted by " + m.InterruptedBy + ")"
		case m.Ended.IsZero():
			why += " (no end time: it was killed, or still runs)"
		case m.Counts.Totals != nil && m.Counts.InputErrors > 0:
			why += fmt.Sprintf(" (%d input(s) not read to the end)", m.Counts.InputErrors)
		}
		c.add(CheckIncomplete, VerdictIncomplete, "", "%s: its rows are intact but not every input entry has one", why)
	}
	contents := checkSchemaVersion(c, m.SchemaVersion)
	if contents {
		c.sum.Rows = map[string]int64{}
	}
	dom := newDomainCheck(c, m)
	listed := map[string]bool{}
	listedRows := map[string]int64{}
	for _, p := range m.Parts {
		if err := ctx.Err(); err != nil {
			return c.sum, nil, err
		}
		listedRows[p.Table] += p.Rows
		if !checkPartPath(c, p, listed) {
			continue
		}
		listed[p.Path] = true
		name := filepath.Join(dir, filepath.FromSlash(p.Path))
		// Only the bytes the manifest lists are decoded: a damaged part
		// can make the Parquet decoder allocate without bound (a corrupt
		// ARROW:schema in the footer), which no recover catches.
		if !checkPartSum(c, p, name) || !contents {
			continue
		}
		rows, err := readPartRows(ctx, p.Table, name, m.ScanID, dom)
		if err != nil {
			c.add(CheckPartUnreadable, VerdictDamaged, p.Path, "does not read as a part of table %s: %v", p.Table, err)
			continue
		}
		c.sum.Rows[p.Table] += rows.n
		if rows.n != p.Rows {
			c.add(CheckPartRows, VerdictDamaged, p.Path, "holds %d rows; the manifest says %d", rows.n, p.Rows)
		}
		if rows.otherScan != "" {
			c.add(CheckPartRows, VerdictDamaged, p.Path, "holds rows of scan %q; the manifest's scan is %q", rows.otherScan, m.ScanID)
		}
	}
	checkUnlisted(c, dir, listed)
	dom.finish()
	if contents && m.Complete {
		checkCounts(c, m, listedRows)
	}
	return c.done()
}

// done returns the summary, with its number of findings, and the findings.
func (c *datasetCheck) done() (VerifiedDataset, []VerifyFinding, error) {
	c.sum.Findings = len(c.findings)
	return c.sum, c.findings, nil
}

// unwrapManifestErr drops "read manifest <path>: " from ReadManifest's
// error, which the finding's dataset names already.
func unwrapManifestErr(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// checkSchemaVersion adds the finding about version, if any, and reports
// whether this build can read the parts' contents.
func checkSchemaVersion(c *datasetCheck, version string) bool {
	if version == SchemaVersion {
		return true
	}
	have, _ := strconv.Atoi(SchemaVersion)
	got, err := strconv.Atoi(version)
	switch {
	case err != nil || got < 1:
		c.add(CheckSchemaVersion, VerdictDamaged, "", "schema version %q is not a version (this danescan writes and reads %s)", version, SchemaVersion)
	case got > have:
		c.add(CheckSchemaVersion, VerdictUnsupported, "", "schema version %s is newer than this danescan reads (%s): sizes and SHA-256 checked, contents not; verify with a newer danescan", version, SchemaVersion)
	default:
		c.add(CheckSchemaVersion, VerdictUnsupported, "", "schema version %s is older than this danescan reads (%s): sizes and SHA-256 checked, contents not; verify with the danescan that wrote it", version, SchemaVersion)
	}
	return false
}

// checkPartPath reports whether p's path is a part of one of the tables,
// in its own table's folder, listed once; otherwise it adds the finding.
func checkPartPath(c *datasetCheck, p Part, listed map[string]bool) bool {
	table, name, ok := strings.Cut(p.Path, "/")
	if !ok || !slices.Contains(datasetTables(), table) || table != p.Table || !isPartName(name) || path.Clean(p.Path) != p.Path || strings.Contains(name, "/") {
		c.add(CheckManifest, VerdictDamaged, "", "lists part %q of table %q, which is not <table>/part-NNNNN.parquet in a table folder", p.Path, p.Table)
		return false
	}
	if listed[p.Path] {
		c.add(CheckManifest, VerdictDamaged, p.Path, "listed twice in the manifest")
		return false
	}
	return true
}

// fileDigest returns the size and hex SHA-256 of the file name: what a
// manifest lists for a part.
func fileDigest(name string) (int64, string, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	d := newDigest()
	if _, err := io.Copy(d, f); err != nil {
		return 0, "", err
	}
	return d.n, d.sum(), nil
}

// checkPartSum reports whether the part p is at name with its size and
// SHA-256; it adds the finding when not.
func checkPartSum(c *datasetCheck, p Part, name string) bool {
	n, got, err := fileDigest(name)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.add(CheckPartMissing, VerdictDamaged, p.Path, "listed in the manifest (%d rows) but not there", p.Rows)
		return false
	case errors.As(err, &pe) && pe.Op == "open":
		c.add(CheckPartMissing, VerdictDamaged, p.Path, "cannot be opened: %v", unwrapPath(err))
		return false
	case err != nil:
		c.add(CheckPartChecksum, VerdictDamaged, p.Path, "cannot be read: %v", unwrapPath(err))
		return false
	}
	if n != p.Bytes || got != p.SHA256 {
		c.add(CheckPartChecksum, VerdictDamaged, p.Path, "%d bytes, sha256 %s; the manifest says %d bytes, sha256 %s (its rows are not read)", n, got, p.Bytes, p.SHA256)
		return false
	}
	return true
}

// partRows is what reading a part found.
type partRows struct {
	n int64
	// otherScan is a scan id of rows that is not the manifest's, if any.
	otherScan string
}

// verifyBatchRows is the number of rows decoded at a time: verify holds
// one batch of one part in memory, not a whole part.
const verifyBatchRows = 8192

// readPartRows reads the part of table at name through, a batch of rows
// at a time, and returns what it found; the domains rows go to dom. The
// part must carry the table's name and this build's schema version in its
// metadata and have every column of the table with its Arrow type, as
// ReadTable requires. Its error says why the part does not read, a panic
// of the Parquet decoder on a broken file included.
func readPartRows(ctx context.Context, table, name, scanID string, dom *domainCheck) (r partRows, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the Parquet decoder failed: %v", p)
		}
	}()
	d, err := lookupTable(table)
	if err != nil {
		return r, err
	}
	p, err := newPlan(d.name, d.typ)
	if err != nil {
		return r, err
	}
	rdr, err := file.OpenParquetFile(name, false)
	if err != nil {
		return r, err
	}
	defer rdr.Close()
	kv := rdr.MetaData().KeyValueMetadata()
	if v := kv.FindValue(MetaTable); v == nil || *v != table {
		return r, fmt.Errorf("not a part of table %s (%s is %s)", table, MetaTable, deref(v))
	}
	if v := kv.FindValue(MetaSchemaVersion); v == nil || *v != SchemaVersion {
		return r, fmt.Errorf("schema version %s, this build reads %s", deref(v), SchemaVersion)
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: verifyBatchRows}, memory.DefaultAllocator)
	if err != nil {
		return r, err
	}
	schema, err := fr.Schema()
	if err != nil {
		return r, err
	}
	// col holds the position of each column of the table in the file.
	col := map[string]int{}
	for _, want := range p.schema.Fields() {
		idx := schema.FieldIndices(want.Name)
		if len(idx) != 1 {
			return r, fmt.Errorf("column %s missing or repeated", want.Name)
		}
		if got := schema.Field(idx[0]).Type; !arrow.TypeEqual(got, want.Type) {
			return r, fmt.Errorf("column %s: type %s, want %s", want.Name, got, want.Type)
		}
		col[want.Name] = idx[0]
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return r, err
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		ids := rec.Column(col["scan_id"]).(*array.String)
		for i := range ids.Len() {
			if id := ids.Value(i); id != scanID && r.otherScan == "" {
				r.otherScan = strings.Clone(id)
			}
		}
		if table == TableDomains {
			dom.batch(rec, col)
		}
		r.n += rec.NumRows()
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return r, err
	}
	return r, nil
}

// checkUnlisted adds a finding for every part file in the table folders
// of dir that listed does not hold.
func checkUnlisted(c *datasetCheck, dir string, listed map[string]bool) {
	for _, t := range datasetTables() {
		entries, err := os.ReadDir(filepath.Join(dir, t))
		if err != nil {
			continue // no folder: its listed parts are missing, said above
		}
		for _, e := range entries {
			p := t + "/" + e.Name()
			if e.IsDir() || !isPartName(e.Name()) || listed[p] {
				continue
			}
			if c.sum.Manifest.Ended.IsZero() {
				c.add(CheckUnlistedPart, VerdictIncomplete, p, "not listed in the manifest, which has no end time: finished after the last manifest of a scan that was killed, or still runs")
				continue
			}
			c.add(CheckUnlistedPart, VerdictDamaged, p, "not listed in the manifest: readers of the folder (DuckDB, Spark, pandas) would read rows the manifest does not account for")
		}
	}
}

// checkCounts adds a finding for every count of the complete dataset's
// manifest m that the rows of the parts it lists (listedRows, by table;
// each part's own count is checked against its file) do not match.
func checkCounts(c *datasetCheck, m *Manifest, listedRows map[string]int64) {
	tables := []struct {
		table string
		count int64
		name  string
	}{
		{TableDomains, m.Counts.RowsDomains, "rows_domains"},
		{TableMXHosts, m.Counts.RowsMXHosts, "rows_mx_hosts"},
		{TableEndpoints, m.Counts.RowsEndpoints, "rows_endpoints"},
	}
	for _, t := range tables {
		if listedRows[t.table] != t.count {
			c.add(CheckCounts, VerdictDamaged, "", "the parts listed of table %s hold %d rows; counts.%s says %d", t.table, listedRows[t.table], t.name, t.count)
		}
	}
	if tot := m.Counts.Totals; tot != nil {
		if want := tot.Domains + tot.Invalid + tot.Excluded; listedRows[TableDomains] != want {
			c.add(CheckCounts, VerdictDamaged, "", "the parts listed of table domains hold %d rows; one per input entry is %d (counts: %d domains + %d invalid + %d excluded)",
				listedRows[TableDomains], want, tot.Domains, tot.Invalid, tot.Excluded)
		}
	}
}

// domainCheck finds domains twice in a dataset and rows in a shard their
// name does not belong to. It keeps a 128-bit hash per name (two seeded
// maphashes), so its memory grows with the dataset's distinct names, as
// the scanner's duplicate filter does: 1/N of the input for shard N.
type domainCheck struct {
	c     *datasetCheck
	shard Shard
	seeds [2]maphash.Seed
	seen  map[[2]uint64]struct{}
}

func newDomainCheck(c *datasetCheck, m *Manifest) *domainCheck {
	d := &domainCheck{c: c, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, seen: map[[2]uint64]struct{}{}}
	if m.Shard != nil && !c.sum.badShard {
		d.shard = *m.Shard
	}
	return d
}

// batch checks the rows of a batch of domains rows; col gives the
// columns' positions.
func (d *domainCheck) batch(rec arrow.RecordBatch, col map[string]int) {
	domains := rec.Column(col["domain"]).(*array.String)
	inputs := rec.Column(col["input"]).(*array.String)
	failures := rec.Column(col["failure"]).(*array.String)
	lines := rec.Column(col["input_line"]).(*array.Int64)
	for i := range domains.Len() {
		d.row(domains.Value(i), inputs.Value(i), failures.Value(i), lines.Value(i))
	}
}

// row checks one domains row: its domain, input, failure and input_line.
func (d *domainCheck) row(domain, input, failure string, line int64) {
	key := domain
	if key == "" {
		key = strings.ToLower(input)
	}
	if d.shard.Count > 1 {
		if k := ShardOf(key, d.shard.Count); k != d.shard.Index {
			d.c.add(CheckWrongShard, VerdictDamaged, "", "%q (input line %d) is in shard %s, but belongs to shard %d/%d", key, line, d.shard, k, d.shard.Count)
		}
	}
	if domain == "" || failure == failExcluded || failure == failInvalidName {
		return
	}
	h := [2]uint64{maphash.String(d.seeds[0], domain), maphash.String(d.seeds[1], domain)}
	if _, dup := d.seen[h]; dup {
		d.c.add(CheckDuplicateDomain, VerdictDamaged, "", "domain %s has more than one row (again at input line %d)", domain, line)
		return
	}
	d.seen[h] = struct{}{}
}

// finish adds the count of the findings left out by maxFindingsPerCheck.
func (d *domainCheck) finish() {
	for _, check := range []Check{CheckWrongShard, CheckDuplicateDomain} {
		if n := d.c.per[check]; n > maxFindingsPerCheck {
			d.c.findings = append(d.c.findings, VerifyFinding{
				Check: check, Verdict: VerdictDamaged, Dataset: d.c.sum.Dir, ScanID: d.c.sum.ScanID,
				Message: fmt.Sprintf("%d rows in all (the first %d are named above)", n, maxFindingsPerCheck),
			})
		}
	}
	d.seen = nil
}

// groupScans returns the datasets with a manifest by scan id, in the
// order of their first dataset.
func groupScans(ds []VerifiedDataset) [][]*VerifiedDataset {
	var out [][]*VerifiedDataset
	at := map[string]int{}
	for i := range ds {
		d := &ds[i]
		if d.Manifest == nil || d.badShard {
			continue
		}
		j, ok := at[d.ScanID]
		if !ok {
			j = len(out)
			at[d.ScanID] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], d)
	}
	return out
}

// verifyScan checks that the datasets of one scan id belong together and
// that every shard is there once, and sums them up. A dataset's own
// verdict is part of the scan's.
func verifyScan(ds []*VerifiedDataset) (VerifiedScan, []VerifyFinding) {
	s := VerifiedScan{ScanID: ds[0].ScanID, Verdict: VerdictIntact}
	var findings []VerifyFinding
	add := func(check Check, verdict Verdict, format string, args ...any) {
		s.Verdict = worse(s.Verdict, verdict)
		findings = append(findings, VerifyFinding{Check: check, Verdict: verdict, ScanID: s.ScanID, Message: fmt.Sprintf(format, args...)})
	}
	var whole, sharded []*VerifiedDataset
	for _, d := range ds {
		s.Datasets = append(s.Datasets, d.Dir)
		s.Verdict = worse(s.Verdict, d.Verdict)
		s.Findings += d.Findings
		if d.Rows != nil && s.DomainRows >= 0 {
			s.DomainRows += d.Rows[TableDomains]
		} else {
			s.DomainRows = -1
		}
		if t := d.Manifest.Counts.Totals; t != nil && s.Entries >= 0 {
			s.Entries += t.Domains + t.Invalid + t.Excluded
		} else {
			s.Entries = -1
		}
		if d.Shard == nil {
			whole = append(whole, d)
		} else {
			sharded = append(sharded, d)
		}
	}
	if len(whole) > 1 {
		add(CheckShardDuplicate, VerdictDamaged, "%d datasets hold the whole scan (%s): one copy expected, its rows would count %d times", len(whole), dirList(whole), len(whole))
	}
	if len(whole) > 0 && len(sharded) > 0 {
		add(CheckShardMismatch, VerdictDamaged, "the whole scan (%s) beside shards of it (%s)", dirList(whole), dirList(sharded))
	}
	checkShards(sharded, &s, add)
	checkSameInputs(ds, add)
	if len(whole) == 0 {
		checkEntriesSplit(sharded, s, add)
	}
	s.Findings += len(findings)
	return s, findings
}

// checkShards checks that the shards have one N and that each of 0..N-1
// is there once.
func checkShards(sharded []*VerifiedDataset, s *VerifiedScan, add func(Check, Verdict, string, ...any)) {
	if len(sharded) == 0 {
		return
	}
	byN := map[int][]*VerifiedDataset{}
	for _, d := range sharded {
		byN[d.Shard.Count] = append(byN[d.Shard.Count], d)
	}
	if len(byN) > 1 {
		var parts []string
		for _, n := range slices.Sorted(maps.Keys(byN)) {
			parts = append(parts, fmt.Sprintf("N=%d: %s", n, dirList(byN[n])))
		}
		add(CheckShardMismatch, VerdictDamaged, "shards of different counts: %s", strings.Join(parts, "; "))
		return
	}
	n := sharded[0].Shard.Count
	s.ShardCount = n
	byIndex := map[int][]*VerifiedDataset{}
	for _, d := range sharded {
		byIndex[d.Shard.Index] = append(byIndex[d.Shard.Index], d)
	}
	s.Shards = len(byIndex)
	for _, k := range slices.Sorted(maps.Keys(byIndex)) {
		if l := byIndex[k]; len(l) > 1 {
			add(CheckShardDuplicate, VerdictDamaged, "shard %d/%d is in %d datasets (%s): its rows would count %d times", k, n, len(l), dirList(l), len(l))
		}
	}
	var missing []int
	for k := range n {
		if _, ok := byIndex[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 1 {
		add(CheckShardMissing, VerdictIncomplete, "shard %d/%d is missing: the scan is incomplete", missing[0], n)
	} else if len(missing) > 1 {
		add(CheckShardMissing, VerdictIncomplete, "shards %s of %d are missing (%d of %d): the scan is incomplete", ranges(missing), n, len(missing), n)
	}
}

// checkSameInputs checks that the datasets of one scan have the same
// schema version, read the same inputs (their SHA-256, where both
// datasets have them: an input not read to the end has none) and, when
// complete, the same number of entries in all (entries + other_shards).
func checkSameInputs(ds []*VerifiedDataset, add func(Check, Verdict, string, ...any)) {
	ref := ds[0]
	for _, d := range ds[1:] {
		if d.SchemaVersion != ref.SchemaVersion {
			add(CheckShardMismatch, VerdictDamaged, "schema version %s in %s, %s in %s", ref.SchemaVersion, ref.Dir, d.SchemaVersion, d.Dir)
		}
	}
	var sumRef *VerifiedDataset
	for _, d := range ds {
		sums := inputSums(d.Manifest)
		if sums == nil {
			continue
		}
		if sumRef == nil {
			sumRef = d
			continue
		}
		if want := inputSums(sumRef.Manifest); !slices.Equal(sums, want) {
			add(CheckShardMismatch, VerdictDamaged, "%s scanned other inputs than %s: sha256 %s, not %s", d.Dir, sumRef.Dir, strings.Join(short(sums), ","), strings.Join(short(want), ","))
		}
	}
	var entRef *VerifiedDataset
	for _, d := range ds {
		t := d.Manifest.Counts.Totals
		if !d.Complete || t == nil {
			continue
		}
		if entRef == nil {
			entRef = d
			continue
		}
		rt := entRef.Manifest.Counts.Totals
		if t.Entries+t.OtherShards != rt.Entries+rt.OtherShards {
			add(CheckCounts, VerdictDamaged, "%s read %d input entries (entries + other_shards), %s read %d: every shard reads the whole input",
				d.Dir, t.Entries+t.OtherShards, entRef.Dir, rt.Entries+rt.OtherShards)
		}
	}
}

// checkEntriesSplit checks, when every shard 0..N-1 is there once and
// complete, that the entries they took (counts.entries) add up to the
// entries each read (entries + other_shards): every input entry taken by
// exactly one shard.
func checkEntriesSplit(sharded []*VerifiedDataset, s VerifiedScan, add func(Check, Verdict, string, ...any)) {
	if s.ShardCount == 0 || s.Shards != s.ShardCount || len(sharded) != s.ShardCount {
		return
	}
	var taken int64
	for _, d := range sharded {
		t := d.Manifest.Counts.Totals
		if !d.Complete || t == nil {
			return
		}
		taken += t.Entries
	}
	t := sharded[0].Manifest.Counts.Totals
	if read := t.Entries + t.OtherShards; taken != read {
		add(CheckCounts, VerdictDamaged, "the %d shards took %d input entries in all (counts.entries), but the input has %d (entries + other_shards of %s): every entry belongs to exactly one shard",
			s.ShardCount, taken, read, sharded[0].Dir)
	}
}

// inputSums returns the SHA-256 of m's inputs in order, or nil when one
// has none.
func inputSums(m *Manifest) []string {
	if len(m.Inputs) == 0 {
		return nil
	}
	sums := make([]string, len(m.Inputs))
	for i, in := range m.Inputs {
		if in.SHA256 == "" {
			return nil
		}
		sums[i] = in.SHA256
	}
	return sums
}

// short returns the first 12 hex digits of each sum.
func short(sums []string) []string {
	out := make([]string, len(sums))
	for i, s := range sums {
		out[i] = s[:min(12, len(s))]
	}
	return out
}

// dirList returns the directories of ds, comma-separated.
func dirList(ds []*VerifiedDataset) string {
	dirs := make([]string, len(ds))
	for i, d := range ds {
		dirs[i] = d.Dir
	}
	return strings.Join(dirs, ", ")
}

// ranges writes sorted numbers as ranges: "0, 2-5, 9".
func ranges(ns []int) string {
	var b strings.Builder
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", ns[i], ns[j])
		} else {
			fmt.Fprintf(&b, "%d", ns[i])
		}
		i = j + 1
	}
	return b.String()
}
