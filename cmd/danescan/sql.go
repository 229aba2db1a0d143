package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/danescan/danescan/analysis"
)

func cmdSQL(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", analysis.FormatTable, "output: table, csv or json (JSON lines)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: danescan sql [flags] DATASET... 'SELECT ...'\n\nRuns one SQL statement (DuckDB) over the datasets' tables: the views domains, mx_hosts\nand endpoints read every DATASET given (scan_id tells them apart). A DATASET may be a\ndirectory of datasets (the shards of a scan); the shards of one scan read as one scan,\nwith each MX host and endpoint once.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) < 2 {
		fmt.Fprintln(stderr, "danescan sql: give one or more dataset directories and then the SQL statement")
		return exitUsage
	}
	switch *format {
	case analysis.FormatTable, analysis.FormatCSV, analysis.FormatJSON:
	default:
		fmt.Fprintf(stderr, "danescan sql: --format %q: want table, csv or json\n", *format)
		return exitUsage
	}
	query, dirs := pos[len(pos)-1], pos[:len(pos)-1]
	scans, err := analysis.OpenScans(dirs)
	if err != nil {
		fmt.Fprintf(stderr, "danescan sql: %v\n", err)
		return exitUsage
	}
	for _, s := range scans {
		for _, w := range s.Warnings {
			fmt.Fprintf(stderr, "danescan sql: warning: %s\n", w)
		}
	}
	db, err := analysis.OpenDB(ctx, scans, scans)
	if err != nil {
		fmt.Fprintf(stderr, "danescan sql: %v\n", err)
		return exitFailed
	}
	defer db.Close()
	if err := db.Query(ctx, query, stdout, *format); err != nil {
		fmt.Fprintf(stderr, "danescan sql: %v\n", err)
		return exitFailed
	}
	return exitOK
}
