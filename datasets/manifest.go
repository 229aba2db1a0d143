package datasets

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ManifestName is the file name of the manifest in a dataset directory.
const ManifestName = "manifest.json"

// Manifest describes a dataset as a whole; it is stored as manifest.json
// beside the table folders. Times are written in RFC 3339 form.
type Manifest struct {
	SchemaVersion string `json:"schema_version"`
	ToolVersion   string `json:"tool_version"`
	ScanID        string `json:"scan_id"`
	// Shard says which part of a sharded scan (--shard K/N) this dataset
	// holds; nil for a scan of the whole input.
	Shard *Shard `json:"shard,omitempty"`
	// Step says which step of a scan split into DNS, probe and merge
	// steps wrote the dataset (StepDNS, StepProbe); empty for a whole
	// scan and for the final dataset of a shard.
	Step string `json:"step,omitempty"`
	// Resumed lists the times the scan was continued with --resume.
	Resumed []time.Time `json:"resumed,omitempty"`
	Started time.Time   `json:"started"`
	// Ended is the zero time (and omitted) while the scan runs.
	Ended time.Time `json:"ended,omitzero"`
	// Complete is true when every input domain has its row.
	Complete bool `json:"complete"`
	// InterruptedBy names what stopped the scan early, e.g. "SIGINT"; empty
	// when it was not interrupted.
	InterruptedBy string `json:"interrupted_by"`
	// Vantage is the host name of the machine that scanned.
	Vantage string `json:"vantage"`
	// Command is the command line (argv) of the scan.
	Command   []string `json:"command"`
	Inputs    []Input  `json:"inputs"`
	Resolvers []string `json:"resolvers"`
	// Config holds the scan settings (workers, qps, timeout ...). Numbers
	// come back from ReadManifest as float64, as encoding/json decodes them.
	Config map[string]any `json:"config"`
	// Counts holds the scan's counters.
	Counts Counts `json:"counts"`
	Parts  []Part `json:"parts"`
}

// WriteManifest writes m as dir/manifest.json, atomically: it writes a
// temporary file, syncs it and renames it over the previous manifest, so a
// reader sees either the old or the new one in full.
func WriteManifest(dir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	data = append(data, '\n')
	if err := writeFileAtomic(dir, ManifestName, data); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// writeFileAtomic writes data as dir/name through a temporary file in dir.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// ReadManifest reads dir/manifest.json. Unknown fields are ignored, so that
// manifests of newer versions can be read.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return &m, nil
}

// Remove deletes the dataset in dir: its manifest.json and the folders of
// the known tables. Other files in dir are left alone. A dir without a
// dataset is not an error.
func Remove(dir string) error {
	for _, t := range Tables() {
		if err := os.RemoveAll(filepath.Join(dir, t.Name)); err != nil {
			return fmt.Errorf("remove dataset: %w", err)
		}
	}
	if err := os.Remove(filepath.Join(dir, ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove dataset: %w", err)
	}
	return nil
}
