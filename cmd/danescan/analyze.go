package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/danescan/danescan/analysis"
)

func cmdAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "report directory to write: report.md, report.html, report.json and findings/ (created; an earlier report there is replaced)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: danescan analyze DATASET... --out REPORTDIR\n\nRuns the checks on the latest scan given (by start time) and writes its report; with several\nscans the report adds trends and what changed since the previous scan. A DATASET may be\na directory of datasets: the shards of a scan (--shard K/N), read as one scan.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(dirs) == 0 || *out == "" {
		fmt.Fprintln(stderr, "danescan analyze: give one or more dataset directories and --out REPORTDIR")
		return exitUsage
	}
	return analyzeInto(ctx, dirs, *out, stdout, stderr, "danescan analyze")
}

// analyzeInto analyses dirs, writes the report into out and prints where
// it is.
func analyzeInto(ctx context.Context, dirs []string, out string, stdout, stderr io.Writer, who string) int {
	a, err := analysis.Analyze(ctx, dirs)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", who, err)
		return exitUsage
	}
	for _, w := range a.Report.Warnings {
		fmt.Fprintf(stderr, "%s: warning: %s\n", who, w)
	}
	files, err := a.Write(out)
	if err != nil {
		fmt.Fprintf(stderr, "%s: write the report: %v\n", who, err)
		return exitFailed
	}
	fired := 0
	for _, c := range a.Report.Checks {
		if c.Count > 0 {
			fired++
		}
	}
	fmt.Fprintf(stdout, "report of scan %s: %d of %d checks fired, %d findings\n  %s\n  %s\n  %s\n",
		a.Report.Scan.ScanID, fired, len(a.Report.Checks), len(a.Findings), files.Markdown, files.HTML, files.JSON)
	return exitOK
}
