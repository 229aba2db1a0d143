package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// MetaScanID is the Parquet key-value metadata key under which Writer
// stores the scan id in every part.
const MetaScanID = "danescan.scan_id"

// CreateOptions tunes Create. The zero value is ready to use.
type CreateOptions struct {
	// PartRows is the number of rows per part; DefaultPartRows when zero or
	// negative.
	PartRows int
	// Replace removes a dataset already in the directory (see Remove)
	// instead of refusing to write there.
	Replace bool
	// Handover adds the handover table (WriteHandover): the dataset of a
	// DNS shard whose SMTP work is handed over (StepDNS).
	Handover bool
}

// Writer writes a whole dataset: the parts of its three tables and its
// manifest. The manifest is written when the dataset is created and again,
// with "complete": false, the counts so far and every part finished so far,
// at each Checkpoint that follows a finished part, so that a scan that is
// killed or crashes leaves a dataset that says what it holds; Close writes
// the final one over it. A Writer is owned by one goroutine: it is not safe
// for concurrent use.
type Writer struct {
	dir       string
	start     Manifest // as given to Create; the base of every checkpoint
	domains   *TableWriter[Domain]
	hosts     *TableWriter[MXHost]
	endpoints *TableWriter[Endpoint]
	handover  *TableWriter[Handover] // nil without CreateOptions.Handover
	// saved is the number of parts listed by the last manifest written.
	saved int
	// kept are the parts of a resumed dataset kept as they were (Resume).
	kept []Part
	// lock holds the directory's lock (lockDir) until Close; nil where
	// there is none.
	lock *os.File
}

// LockName is the file in a dataset directory that a process writing the
// dataset holds a lock on (flock), so that a second one (a resume
// started while the scan still runs) is refused instead of writing there
// too. It is empty and stays when the writer ends.
const LockName = ".danescan.lock"

// InUse returns an error naming dir when another process holds the lock
// of the dataset directory dir (see LockName); nil otherwise.
func InUse(dir string) error {
	f, err := lockDir(dir)
	if err != nil {
		return err
	}
	if f != nil {
		f.Close()
	}
	return nil
}

// Create starts the dataset in dir, creating dir and its table folders,
// and writes man as its first manifest. With opts.Replace a dataset
// already in dir is removed first. It returns an error, with no manifest
// written, when dir already holds a dataset (and opts.Replace is false),
// when dir is not a directory, cannot be created or written, when another
// process writes there (see LockName), or when a table folder already
// holds parts. man.Parts is ignored. The caller must call Close.
func Create(dir string, man *Manifest, opts CreateOptions) (_ *Writer, err error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("output directory %s is not a directory", dir)
	}
	if err := CheckWritable(dir); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && lock != nil {
			lock.Close()
		}
	}()
	if opts.Replace {
		if err := Remove(dir); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
		return nil, fmt.Errorf("output directory %s already holds a dataset (%s); choose a new one, or give --replace", dir, ManifestName)
	}
	w := &Writer{dir: dir, start: *man, lock: lock}
	w.start.Parts = nil
	topts := WriterOptions{PartRows: opts.PartRows, Metadata: map[string]string{MetaScanID: man.ScanID}}
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
	if err := WriteManifest(dir, &w.start); err != nil {
		w.closeTables()
		return nil, err
	}
	return w, nil
}

// WriteDomain appends a row to the domains table; see TableWriter.Write.
func (w *Writer) WriteDomain(d *Domain) error { return w.domains.Write(d) }

// WriteHost appends a row to the mx_hosts table; see TableWriter.Write.
func (w *Writer) WriteHost(h *MXHost) error { return w.hosts.Write(h) }

// WriteEndpoint appends a row to the endpoints table; see TableWriter.Write.
func (w *Writer) WriteEndpoint(e *Endpoint) error { return w.endpoints.Write(e) }

// WriteHandover appends a row to the handover table; see TableWriter.Write.
// It returns an error when the dataset was created without
// CreateOptions.Handover.
func (w *Writer) WriteHandover(h *Handover) error {
	if w.handover == nil {
		return fmt.Errorf("write handover: the dataset in %s has no handover table", w.dir)
	}
	return w.handover.Write(h)
}

// Flush finishes the open part of every table (see TableWriter.Flush), so
// that rows written a while ago are on disk however slowly new ones come.
// It returns the first error of the tables (one line, for the user).
func (w *Writer) Flush() error {
	err := first(w.domains.Flush(), w.hosts.Flush(), w.endpoints.Flush())
	if w.handover != nil {
		err = first(err, w.handover.Flush())
	}
	return err
}

// first returns the first non-nil error of errs.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Checkpoint writes the manifest again, with "complete": false, counts c
// and the parts finished so far, when a part has been finished since the
// manifest was last written; otherwise it does nothing. It returns the
// error of writing the manifest.
func (w *Writer) Checkpoint(c *Counts) error {
	if w.partCount() == w.saved {
		return nil
	}
	m := w.start
	m.Counts = *c
	return w.save(&m)
}

// Close finishes the tables, then writes final, with the parts of all
// tables, as the manifest. The manifest is written even when finishing a
// table failed (a full disk: the failed part is removed first, which
// makes room for it), listing the parts that were finished. It returns
// the first error of the two steps; calling it again does the same again.
func (w *Writer) Close(final *Manifest) error {
	err := w.closeTables()
	final.Parts = w.parts()
	err = first(err, w.save(final))
	if w.lock != nil {
		w.lock.Close()
		w.lock = nil
	}
	return err
}

// save writes m, with the parts finished so far, as the manifest.
func (w *Writer) save(m *Manifest) error {
	n := w.partCount()
	m.Parts = w.parts()
	if err := WriteManifest(w.dir, m); err != nil {
		return err
	}
	w.saved = n
	return nil
}

func (w *Writer) partCount() int {
	n := w.domains.PartCount() + w.hosts.PartCount() + w.endpoints.PartCount()
	if w.handover != nil {
		n += w.handover.PartCount()
	}
	return n
}

// parts returns the parts kept by Resume, then those of all tables:
// domains, mx_hosts, endpoints, handover.
func (w *Writer) parts() []Part {
	p := append(append(append(slices.Clone(w.kept), w.domains.Parts()...), w.hosts.Parts()...), w.endpoints.Parts()...)
	if w.handover != nil {
		p = append(p, w.handover.Parts()...)
	}
	return p
}

// closeTables closes the table writers that were created and returns the
// first error.
func (w *Writer) closeTables() error {
	var errs []error
	if w.domains != nil {
		errs = append(errs, w.domains.Close())
	}
	if w.hosts != nil {
		errs = append(errs, w.hosts.Close())
	}
	if w.endpoints != nil {
		errs = append(errs, w.endpoints.Close())
	}
	if w.handover != nil {
		errs = append(errs, w.handover.Close())
	}
	return first(errs...)
}
