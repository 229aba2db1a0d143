package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/danescan/danescan/datasets"
)

// Exit codes of danescan verify, beside exitOK (every dataset intact and
// every scan complete) and exitUsage (bad arguments, a path with no
// dataset). The worst verdict decides.
const (
	exitDamaged     = 1 // a promise is broken: a part missing or changed, counts that do not add up, a shard twice ...
	exitIncomplete  = 3 // intact, but a scan did not finish or a shard is missing
	exitUnsupported = 4 // a schema version this danescan does not read: sizes and SHA-256 checked, contents not
)

const verifyUsage = `Usage: danescan verify [--json] DATASET...

Checks what datasets promise: every part the manifest lists is there with its size, SHA-256
and row count and reads as Parquet with its table's schema; no part in the table folders that
the manifest does not list; a schema version this danescan reads; one domains row per input
entry, no domain twice; for the datasets of one scan id, every shard 0..N-1 once, with the
same N and inputs. A DATASET is a dataset directory or a directory of them (e.g. one per shard).

Prints one line per finding, a summary line per dataset and per scan. Exit code: 0 intact and
complete, 1 damaged, 3 intact but incomplete (a scan not finished, a shard missing), 4 schema
version not read by this danescan (checksums checked, contents not), 2 bad arguments.

Flags:
`

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result as one JSON object (verdict, datasets, scans, findings) instead of lines")
	fs.Usage = func() {
		fmt.Fprint(stderr, verifyUsage)
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "danescan verify: give one or more dataset directories (or directories of datasets)")
		return exitUsage
	}
	v, err := datasets.Verify(ctx, paths)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "danescan verify: %v: stopped before the end\n", context.Cause(ctx))
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "danescan verify: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "danescan verify: %v\n", err)
			return exitFailed
		}
	} else {
		printVerification(stdout, v)
	}
	return verdictExit(v.Verdict)
}

// verdictExit is the exit code of verify for verdict v.
func verdictExit(v datasets.Verdict) int {
	switch v {
	case datasets.VerdictIntact:
		return exitOK
	case datasets.VerdictIncomplete:
		return exitIncomplete
	case datasets.VerdictUnsupported:
		return exitUnsupported
	}
	return exitDamaged
}

// printVerification prints v as lines: each dataset's findings and its
// summary, each scan's findings and its summary, then the verdict.
func printVerification(w io.Writer, v *datasets.Verification) {
	for _, d := range v.Datasets {
		for _, f := range v.Findings {
			if f.Dataset == d.Dir {
				fmt.Fprintln(w, f)
			}
		}
		fmt.Fprintln(w, datasetLine(d))
	}
	for _, s := range v.Scans {
		for _, f := range v.Findings {
			if f.Dataset == "" && f.ScanID == s.ScanID {
				fmt.Fprintln(w, f)
			}
		}
		fmt.Fprintln(w, scanLine(s))
	}
	fmt.Fprintf(w, "verify: %s: %s, %s, %s (exit %d)\n", v.Verdict, plural(len(v.Datasets), "dataset"), plural(len(v.Scans), "scan"),
		plural(len(v.Findings), "finding"), verdictExit(v.Verdict))
}

// datasetLine is the summary line of a dataset.
func datasetLine(d datasets.VerifiedDataset) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset %s: %s", d.Dir, d.Verdict)
	if d.Findings > 0 {
		fmt.Fprintf(&b, " (%s)", plural(d.Findings, "finding"))
	}
	if d.Manifest == nil {
		b.WriteString("; no manifest read")
		return b.String()
	}
	fmt.Fprintf(&b, "; scan %s", d.ScanID)
	if d.Shard != nil {
		fmt.Fprintf(&b, ", shard %s", d.Shard)
	}
	if d.Complete {
		b.WriteString(", complete")
	} else {
		b.WriteString(", not complete")
	}
	fmt.Fprintf(&b, ", schema %s, %s", d.SchemaVersion, plural(d.Parts, "part"))
	if d.Rows != nil {
		fmt.Fprintf(&b, ": %d domains, %d mx_hosts, %d endpoints rows", d.Rows[datasets.TableDomains], d.Rows[datasets.TableMXHosts], d.Rows[datasets.TableEndpoints])
	}
	return b.String()
}

// scanLine is the summary line of a scan.
func scanLine(s datasets.VerifiedScan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scan %s: %s", s.ScanID, s.Verdict)
	if s.Findings > 0 {
		fmt.Fprintf(&b, " (%s)", plural(s.Findings, "finding"))
	}
	fmt.Fprintf(&b, "; %s", plural(len(s.Datasets), "dataset"))
	if s.ShardCount > 0 {
		fmt.Fprintf(&b, ", %d of %d shards", s.Shards, s.ShardCount)
	}
	if s.DomainRows >= 0 {
		fmt.Fprintf(&b, ", %d domain rows", s.DomainRows)
	} else {
		b.WriteString(", domain rows not read")
	}
	if s.Entries >= 0 {
		fmt.Fprintf(&b, " for %d input entries", s.Entries)
	}
	return b.String()
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
