package analysis

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/danescan/danescan/datasets"
)

// Dataset is one scan's dataset directory, checked and ready to query.
type Dataset struct {
	// Dir is the dataset directory, as given.
	Dir string
	// Manifest is its manifest.json.
	Manifest *datasets.Manifest
	// Parts lists the readable Parquet files of each table, absolute
	// paths; a table without rows has none.
	Parts map[string][]string
	// Warnings are problems that do not stop the analysis (an incomplete
	// scan, an older schema); the report shows them at the top.
	Warnings []string
}

// OpenDataset checks that dir holds a danescan dataset whose parts can be
// read. It returns a clear error when dir is not a dataset, when its
// schema is newer than this danescan knows, or when a part is missing,
// truncated or not Parquet; an incomplete scan or an older schema is a
// warning.
func OpenDataset(dir string) (*Dataset, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a dataset directory (a dataset is a directory with a manifest.json)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, datasets.ManifestName)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a danescan dataset: it has no %s", dir, datasets.ManifestName)
	}
	m, err := datasets.ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable danescan dataset: %w", dir, err)
	}
	d := &Dataset{Dir: dir, Manifest: m, Parts: map[string][]string{}}
	switch cmp := compareVersions(m.SchemaVersion, datasets.SchemaVersion); {
	case m.SchemaVersion == "":
		return nil, fmt.Errorf("%s: the manifest has no schema_version; not a danescan dataset", dir)
	case cmp > 0:
		return nil, fmt.Errorf("%s: schema version %s is newer than this danescan's (%s); use a newer danescan", dir, m.SchemaVersion, datasets.SchemaVersion)
	case cmp < 0:
		d.Warnings = append(d.Warnings, fmt.Sprintf("dataset %s has schema version %s, older than this danescan's %s: columns it lacks read as empty, and the checks that need them find nothing", m.ScanID, m.SchemaVersion, datasets.SchemaVersion))
	}
	if !m.Complete {
		why := "the scan did not finish"
		if m.InterruptedBy != "" {
			why = "the scan was interrupted by " + m.InterruptedBy
		}
		if m.Shard != nil {
			d.Warnings = append(d.Warnings, fmt.Sprintf("shard %s of scan %s (dataset %s) is incomplete (%s): figures cover the domains it scanned before it stopped", m.Shard, m.ScanID, dir, why))
		} else {
			d.Warnings = append(d.Warnings, fmt.Sprintf("dataset %s is incomplete (%s): figures cover the domains scanned before it stopped", m.ScanID, why))
		}
	}
	for _, p := range m.Parts {
		path := filepath.Join(dir, filepath.FromSlash(p.Path))
		if _, err := datasets.ReadPartMetadata(path); err != nil {
			return nil, fmt.Errorf("%s: part %s cannot be read (missing, truncated or not Parquet): %w", dir, p.Path, err)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		d.Parts[p.Table] = append(d.Parts[p.Table], abs)
	}
	for _, ps := range d.Parts {
		sort.Strings(ps)
	}
	return d, nil
}

// compareVersions compares two schema versions, whole numbers written as
// strings: -1, 0 or 1.
func compareVersions(a, b string) int {
	var x, y int
	fmt.Sscan(a, &x)
	fmt.Sscan(b, &y)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
