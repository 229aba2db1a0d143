package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/danescan/danescan/scanner"
)

func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "dataset directory to write the shard's final dataset to (created; must not hold a dataset already)")
	dns := fs.String("dns", "", "the DNS shard's dataset (scan --shard K/N --smtp-handover)")
	partRows := fs.Int("part-rows", 100_000, "rows per Parquet part file")
	replace := fs.Bool("replace", false, "replace a dataset already in --out")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: danescan merge --dns DNS_SHARD --out DIR PROBE_SHARD...\n\n"+
			"The last step of a scan split by address: combines one DNS shard with the endpoints\n"+
			"rows of every probe shard (danescan probe) into the shard's final dataset, with the\n"+
			"host and domain DANE verdicts rolled up as in a scan in one process. Run it once per\n"+
			"DNS shard.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	probes, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "danescan merge: --out DIR is required")
		return exitUsage
	case *dns == "":
		fmt.Fprintln(stderr, "danescan merge: --dns DIR (the DNS shard to finish) is required")
		return exitUsage
	case len(probes) == 0:
		fmt.Fprintln(stderr, "danescan merge: give every probe shard's dataset (danescan probe --out) as arguments")
		return exitUsage
	}
	cfg := scanner.Config{PartRows: *partRows, Replace: *replace}
	start := time.Now()
	man, err := scanner.Merge(ctx, cfg, *dns, probes, *out)
	if man == nil {
		fmt.Fprintf(stderr, "danescan merge: %v\n", err)
		return exitUsage
	}
	printSummary(stdout, man, *out, time.Since(start))
	if err != nil {
		fmt.Fprintf(stderr, "danescan merge: %v\n", err)
		return exitFailed
	}
	return exitOK
}
