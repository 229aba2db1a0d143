package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// scanTables are the tables a scan writes, in the order of a manifest's
// parts (the handover table last, in the DNS step of a split scan).
var scanTables = []string{TableDomains, TableMXHosts, TableEndpoints, TableHandover}

// ReadPart reads the rows of one part listed in a manifest of the dataset
// in dir, after checking that the file has the size and SHA-256 the
// manifest gives it. It returns an error (one line, naming the part) when
// the file is missing or differs, or does not read as a part of T's table.
func ReadPart[T any](dir string, p Part) ([]T, error) {
	pl, err := planFor[T](p.Table)
	if err != nil {
		return nil, fmt.Errorf("read part %s: %w", p.Path, err)
	}
	if err := checkPart(dir, p); err != nil {
		return nil, err
	}
	rows, err := readPart[T](filepath.Join(dir, filepath.FromSlash(p.Path)), pl, nil)
	if err != nil {
		return nil, fmt.Errorf("read part %s: %w", p.Path, err)
	}
	return rows, nil
}

// checkPart checks that the listed part p is in its table's folder and
// that the file has p's size and SHA-256.
func checkPart(dir string, p Part) error {
	table, name := path.Split(p.Path)
	if table != p.Table+"/" || !isPartName(name) {
		return fmt.Errorf("part %s: not a part of table %s", p.Path, p.Table)
	}
	n, sum, err := fileDigest(filepath.Join(dir, filepath.FromSlash(p.Path)))
	if err != nil {
		return fmt.Errorf("part %s listed in the manifest: %w", p.Path, unwrapPath(err))
	}
	if n != p.Bytes || sum != p.SHA256 {
		return fmt.Errorf("part %s is damaged: %d bytes, SHA-256 %s; the manifest lists %d bytes, %s", p.Path, n, sum, p.Bytes, p.SHA256)
	}
	return nil
}

// ResumeOptions tunes Resume.
type ResumeOptions struct {
	// PartRows is the number of rows per part; DefaultPartRows when zero
	// or negative.
	PartRows int
	// Rewrite holds the paths (Part.Path) of the listed parts that hold
	// rows to drop. Each is replaced by new parts with the rows that the
	// Keep function of its table keeps; the other listed parts are kept
	// as they are.
	Rewrite map[string]bool
	// KeepDomain, KeepHost, KeepEndpoint and KeepHandover say whether a
	// row of a part in Rewrite stays; nil keeps every row of that table.
	KeepDomain   func(*Domain) bool
	KeepHost     func(*MXHost) bool
	KeepEndpoint func(*Endpoint) bool
	KeepHandover func(*Handover) bool
	// Handover reopens the handover table, as CreateOptions.Handover
	// made it (the DNS step of a split scan): the Writer takes
	// WriteHandover again.
	Handover bool
}

// Resume reopens the dataset in dir, written by Create and stopped before
// it was complete, for a scan that continues it, and returns the Writer
// that appends to it. Its steps keep the dataset readable and resumable
// whenever the process dies:
//
//  1. Files in the table folders that the manifest does not list (parts
//     finished after its last checkpoint, or left half-written by a
//     crash) are removed.
//  2. The listed parts in opts.Rewrite are read (their SHA-256 checked)
//     and their kept rows written into new parts, numbered after every
//     part in the folder.
//  3. start, with the listed parts not rewritten and the new ones, is
//     written as the manifest (atomically: the old one or the new one).
//  4. Only then are the rewritten parts' files removed.
//
// The Writer's checkpoints and Close then list the kept parts before the
// new ones. start.Parts is ignored. It returns an error, with the dataset
// unchanged, when dir holds no manifest or another process writes there
// (see LockName); with the dataset as the last completed step left it
// when a step fails. The Writer holds the directory's lock until Close.
// The caller must call Close.
func Resume(dir string, start *Manifest, opts ResumeOptions) (*Writer, error) {
	if _, err := ReadManifest(dir); err != nil {
		return nil, fmt.Errorf("resume: %s holds no dataset: %w", dir, unwrapPath(err))
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	// Read again under the lock: this one no other writer changes.
	old, err := ReadManifest(dir)
	if err == nil {
		var w *Writer
		if w, err = resume(dir, old, start, opts); err == nil {
			w.lock = lock
			return w, nil
		}
	}
	if lock != nil {
		lock.Close()
	}
	return nil, err
}

// resume is Resume once the directory is locked.
func resume(dir string, old, start *Manifest, opts ResumeOptions) (*Writer, error) {
	listed := make(map[string]bool, len(old.Parts))
	for _, p := range old.Parts {
		listed[p.Path] = true
	}
	if err := removeUnlisted(dir, listed); err != nil {
		return nil, err
	}
	w := &Writer{dir: dir, start: *start}
	w.start.Parts = nil
	for _, p := range old.Parts {
		if !opts.Rewrite[p.Path] {
			w.kept = append(w.kept, p)
		}
	}
	topts := WriterOptions{PartRows: opts.PartRows, Metadata: map[string]string{MetaScanID: start.ScanID}, Append: true}
	var err error
	if w.domains, err = NewTableWriter[Domain](dir, TableDomains, topts); err != nil {
		return nil, err
	}
	if w.hosts, err = NewTableWriter[MXHost](dir, TableMXHosts, topts); err != nil {
		w.closeTables()
		return nil, err
	}
	if w.endpoints, err = NewTableWriter[Endpoint](dir, TableEndpoints, topts); err != nil {
		w.closeTables()
		return nil, err
	}
	if opts.Handover {
		if w.handover, err = NewTableWriter[Handover](dir, TableHandover, topts); err != nil {
			w.closeTables()
			return nil, err
		}
	}
	var gone []string
	for _, p := range old.Parts {
		if !opts.Rewrite[p.Path] {
			continue
		}
		switch p.Table {
		case TableDomains:
			err = rewritePart(dir, p, w.domains, opts.KeepDomain)
		case TableMXHosts:
			err = rewritePart(dir, p, w.hosts, opts.KeepHost)
		case TableEndpoints:
			err = rewritePart(dir, p, w.endpoints, opts.KeepEndpoint)
		case TableHandover:
			if w.handover == nil {
				err = fmt.Errorf("resume: part %s: the handover table is not reopened (ResumeOptions.Handover)", p.Path)
				break
			}
			err = rewritePart(dir, p, w.handover, opts.KeepHandover)
		default:
			err = fmt.Errorf("resume: part %s: unknown table %q", p.Path, p.Table)
		}
		if err != nil {
			w.closeTables()
			return nil, err
		}
		gone = append(gone, p.Path)
	}
	if err := w.Flush(); err != nil {
		w.closeTables()
		return nil, fmt.Errorf("resume: %w", err)
	}
	if err := w.save(&w.start); err != nil {
		w.closeTables()
		return nil, fmt.Errorf("resume: %w", err)
	}
	for _, p := range gone {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.closeTables()
			return nil, fmt.Errorf("resume: remove the replaced part: %w", err)
		}
	}
	return w, nil
}

// rewritePart writes the rows of the listed part p that keep keeps (all
// when keep is nil) to tw.
func rewritePart[T any](dir string, p Part, tw *TableWriter[T], keep func(*T) bool) error {
	rows, err := ReadPart[T](dir, p)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	for i := range rows {
		if keep != nil && !keep(&rows[i]) {
			continue
		}
		if err := tw.Write(&rows[i]); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
	}
	return nil
}

// removeUnlisted removes the part files and temporary part files of the
// scan tables in dir that listed does not hold (slash-separated paths
// relative to dir), and a manifest's temporary file.
func removeUnlisted(dir string, listed map[string]bool) error {
	for _, table := range scanTables {
		tdir := filepath.Join(dir, table)
		entries, err := os.ReadDir(tdir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		removed := false
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !(isPartName(name) || isPartTempName(name)) || listed[table+"/"+name] {
				continue
			}
			if err := os.Remove(filepath.Join(tdir, name)); err != nil {
				return fmt.Errorf("resume: remove unlisted part: %w", err)
			}
			removed = true
		}
		if removed {
			if err := syncDir(tdir); err != nil {
				return fmt.Errorf("resume: %w", err)
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, "."+ManifestName+".tmp")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("resume: %w", err)
	}
	return nil
}

// partNumber returns n of a part named part-<n>.parquet.
func partNumber(name string) (int, bool) {
	if !isPartName(name) {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "part-"), ".parquet"))
	return n, err == nil && n >= 0
}

// ListedParts returns m's parts of table, in the manifest's order.
func ListedParts(m *Manifest, table string) []Part {
	var out []Part
	for _, p := range m.Parts {
		if p.Table == table {
			out = append(out, p)
		}
	}
	return slices.Clip(out)
}
