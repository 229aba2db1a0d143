package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner"
	"github.com/danescan/danescan/scanner/starttls"
)

// dialFunc opens an SMTP connection (scanner.Config.SMTPDial).
type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

func cmdProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return probeWith(ctx, args, stdout, stderr, nil)
}

// probeWith is the probe command with dial opening the SMTP connections
// (nil: the network); the tests count connections through it.
func probeWith(ctx context.Context, args []string, stdout, stderr io.Writer, dial dialFunc) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "dataset directory to write the endpoints rows to (created; must not hold a dataset already, unless --replace or --resume)")
	shardSpec := fs.String("shard", "", "probe the addresses of shard K of N (K/N): those whose address hashes to K; run every K with the same DNS shards")
	var from listFlag
	fs.Var(&from, "from", "a DNS shard's dataset (scan --smtp-handover), repeatable; the DNS shards may also be given as arguments; every shard of the scan is needed")
	partRows := fs.Int("part-rows", 100_000, "rows per Parquet part file")
	replace := fs.Bool("replace", false, "replace a dataset already in --out")
	resume := fs.Bool("resume", false, "continue the interrupted or killed probe step in --out: give the same DNS shards and flags; the finished connections' rows are kept, the rest is probed")
	quiet := fs.Bool("quiet", false, "no informational log lines")
	workers := fs.Int("smtp-workers", 50, "SMTP probes running at once")
	rate := fs.Float64("smtp-rate", 20, "global limit of new SMTP connections per second (0: no limit)")
	interval := fs.Duration("address-interval", time.Second, "least time between two connections to the same address (never more than one at a time)")
	timeout := fs.Duration("smtp-timeout", 30*time.Second, "timeout of each SMTP stage (banner, EHLO, STARTTLS, TLS handshake; connect: a third of it)")
	ehlo := fs.String("ehlo", "", "name sent with EHLO (default: this machine's host name)")
	// The DNS step decided with its --exclude and --allow; this step
	// applies its own as well, so that nothing is connected to that
	// either step refuses.
	var sf scanFlags
	fs.StringVar(&sf.excludeFile, "exclude", "", "file of addresses, CIDR prefixes and domain names never to touch, applied again (give the DNS step's; an opt-out that arrived since may be added)")
	fs.Var(&sf.allowValues, "allow", "special-purpose addresses that may be probed (private, loopback, documentation ...): as for scan, and needed here too; repeatable")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: danescan probe --shard K/N --out DIR DNS_SHARD...\n\n"+
			"The SMTP step of a scan split by address: reads the handover of every DNS shard\n"+
			"(scan --shard I/M --smtp-handover), probes the endpoints whose address belongs to\n"+
			"shard K of N, each address from this shard only, and writes their endpoints rows.\n"+
			"The DNS step's --exclude and --allow decisions stand; give them here too, as this step\n"+
			"connects only where both allow it. Then: danescan merge. A probe step stopped or\n"+
			"killed goes on with the same command and --resume.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	dirs := append([]string(from), rest...)
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "danescan probe: --out DIR is required")
		return exitUsage
	case *shardSpec == "":
		fmt.Fprintln(stderr, "danescan probe: --shard K/N is required")
		return exitUsage
	case len(dirs) == 0:
		fmt.Fprintln(stderr, "danescan probe: give the DNS shards (scan --smtp-handover) as arguments or with --from")
		return exitUsage
	case *resume && *replace:
		fmt.Fprintln(stderr, "danescan probe: --resume continues the dataset in --out and --replace removes it: give one of them")
		return exitUsage
	}
	if err := sf.loadExclude(); err != nil {
		fmt.Fprintf(stderr, "danescan probe: %v\n", err)
		return exitUsage
	}
	shard, err := datasets.ParseShard(*shardSpec)
	if err != nil {
		fmt.Fprintf(stderr, "danescan probe: --shard: %v\n", err)
		return exitUsage
	}
	logger := newLogger(stderr, *quiet)
	cfg := scanner.Config{
		Shard:           shard,
		PartRows:        *partRows,
		Replace:         *replace,
		ToolVersion:     version,
		Command:         append([]string{"danescan", "probe"}, args...),
		Logger:          logger,
		SMTPWorkers:     *workers,
		SMTPRate:        *rate,
		AddressInterval: *interval,
		SMTPDial:        dial,
		Exclude:         sf.exclude,
		Allow:           sf.allow,
		STARTTLS: starttls.Config{
			EHLO:             *ehlo,
			ConnectTimeout:   max(*timeout/3, time.Millisecond),
			BannerTimeout:    *timeout,
			EHLOTimeout:      *timeout,
			STARTTLSTimeout:  *timeout,
			HandshakeTimeout: *timeout,
			QUITTimeout:      min(*timeout, 5*time.Second),
		},
	}
	var stats scanner.Stats
	start := time.Now()
	probe := scanner.Probe
	if *resume {
		probe = scanner.ResumeProbe
	}
	man, err := probe(ctx, cfg, dirs, *out, &stats)
	if errors.Is(err, scanner.ErrComplete) {
		fmt.Fprintf(stderr, "danescan probe: %v\n", err)
		return exitOK
	}
	if man == nil {
		fmt.Fprintf(stderr, "danescan probe: %v\n", err)
		if errors.Is(err, scanner.ErrInterrupted) {
			return exitInterrupted // a resume stopped before it changed anything
		}
		return exitUsage
	}
	state := "complete"
	if !man.Complete {
		state = "INCOMPLETE"
	}
	c := man.Counts
	ep := func(v datasets.DANEStatus) int64 { return c.EndpointsDANE[string(v)] }
	fmt.Fprintf(stdout, "probe shard %s of scan %s: %s\n", shard, man.ScanID, state)
	if n := len(man.Resumed); n > 0 {
		fmt.Fprintf(stdout, "  resumed                 %d time(s), last at %s: the figures include the rows kept from before\n", n, man.Resumed[n-1].Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "  endpoints rows          %d (pass %d, fail %d, transport failed %d, not applicable %d, not probed %d)\n",
		c.RowsEndpoints, ep(datasets.DANEPass), ep(datasets.DANEFail), ep(datasets.DANETransportFailed), ep(datasets.DANENotApplicable), ep(datasets.DANENotProbed))
	fmt.Fprintf(stdout, "  SMTP connections        %d\n", stats.Endpoints.Load())
	fmt.Fprintf(stdout, "  time                    %s\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  dataset                 %s (manifest.json, %d part files)\n", *out, len(man.Parts))
	switch {
	case errors.Is(err, scanner.ErrInterrupted):
		fmt.Fprintf(stderr, "danescan probe: interrupted (%s): continue it with the same command and --resume\n", man.InterruptedBy)
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "danescan probe: %v\n", err)
		return exitFailed
	}
	return exitOK
}
