package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lookup"
	"github.com/danescan/danescan/scanner/starttls"
)

// systemResolverQPS is the default --dns-qps when the resolvers come from
// /etc/resolv.conf rather than --resolver.
const systemResolverQPS = 500

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// scanFlags are the flags that scan and lab share.
type scanFlags struct {
	out        string
	workers    int
	qps        float64
	timeout    time.Duration
	retries    int
	partRows   int
	quiet      bool
	cpuprofile string
	memprofile string
	replace    bool
	resume     bool
	// dnssec and anchors are set by scan's --dnssec and --trust-anchor;
	// lab leaves them off (see cmdLab).
	dnssec        bool
	anchors       []dns.RR
	anchorsSource string
	// SMTP probes.
	noSMTP       bool
	smtpWorkers  int
	smtpRate     float64
	addrInterval time.Duration
	smtpTimeout  time.Duration
	ehlo         string
	sigalgs      string
	excludeFile  string
	exclude      *scanner.Exclude
	allowValues  listFlag
	allow        []netip.Prefix
}

func (f *scanFlags) register(fs *flag.FlagSet, defaultOut string, defaultTimeout time.Duration, defaultRetries int) {
	fs.StringVar(&f.out, "out", defaultOut, "dataset directory to write (created; must not hold a dataset already, unless --replace or --resume)")
	fs.IntVar(&f.workers, "workers", 500, "domains scanned concurrently")
	fs.Float64Var(&f.qps, "dns-qps", 0, "global limit of DNS queries per second (0: no limit; 500 when the resolvers come from /etc/resolv.conf)")
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout, "timeout of one DNS query attempt")
	fs.IntVar(&f.retries, "retries", defaultRetries, "extra attempts for a failed DNS query (with backoff, on the next resolver)")
	fs.IntVar(&f.partRows, "part-rows", 100_000, "rows per Parquet part file")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress and no informational log lines")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the scan to this file")
	fs.StringVar(&f.memprofile, "memprofile", "", "write heap profiles of the scan: FILE.<entries done> every 30 s, FILE at the end (go tool pprof -sample_index=inuse_space)")
	fs.BoolVar(&f.replace, "replace", false, "replace a dataset already in --out (its manifest.json and table folders)")
	fs.BoolVar(&f.resume, "resume", false, "continue the interrupted or killed scan in --out: give the same inputs and flags; finished rows are kept, the rest is scanned")
	fs.BoolVar(&f.noSMTP, "no-smtp", false, "DNS only: do not connect to MX hosts (no endpoints table rows, no DANE verdicts)")
	fs.IntVar(&f.smtpWorkers, "smtp-workers", 50, "SMTP probes running at once")
	fs.Float64Var(&f.smtpRate, "smtp-rate", 20, "global limit of new SMTP connections per second (0: no limit)")
	fs.DurationVar(&f.addrInterval, "address-interval", time.Second, "least time between two connections to the same address (never more than one at a time)")
	fs.DurationVar(&f.smtpTimeout, "smtp-timeout", 30*time.Second, "timeout of each SMTP stage (banner, EHLO, STARTTLS, TLS handshake; connect: a third of it)")
	fs.StringVar(&f.ehlo, "ehlo", "", "name sent with EHLO (default: this machine's host name)")
	fs.StringVar(&f.sigalgs, "sigalgs", "any", "TLS handshakes per address: any (one ordinary handshake), both (one offering only ECDSA, one only RSA; TLS 1.2), ecdsa, rsa, all")
	fs.StringVar(&f.excludeFile, "exclude", "", "file of addresses, CIDR prefixes and domain names never to touch (excluded domains and endpoints are rows with failure excluded)")
	fs.Var(&f.allowValues, "allow", "special-purpose addresses that may be probed (private, loopback, documentation ...: refused by default): an address, a CIDR prefix or a file of them; repeatable")
}

// loadExclude reads the --exclude file and the --allow values, once,
// before the scan.
func (f *scanFlags) loadExclude() error {
	var err error
	if f.allow, err = scanner.ParseAllow(f.allowValues); err != nil {
		return err
	}
	if f.excludeFile == "" {
		return nil
	}
	fh, err := os.Open(f.excludeFile)
	if err != nil {
		return fmt.Errorf("--exclude: %w", err)
	}
	defer fh.Close()
	f.exclude, err = scanner.ParseExclude(fh)
	if err != nil {
		return fmt.Errorf("--exclude: %w", err)
	}
	return nil
}

func (f *scanFlags) config(resolvers []string, command []string, logger *slog.Logger) scanner.Config {
	retries := f.retries
	if retries == 0 {
		retries = -1 // scanner.Config: negative means none
	}
	return scanner.Config{
		Resolvers:   resolvers,
		Workers:     f.workers,
		DNSQPS:      f.qps,
		Timeout:     f.timeout,
		Retries:     retries,
		PartRows:    f.partRows,
		ToolVersion: version,
		Command:     command,
		Logger:      logger,

		DNSSEC:            f.dnssec,
		TrustAnchors:      f.anchors,
		TrustAnchorSource: f.anchorsSource,

		SMTP:            !f.noSMTP,
		SMTPWorkers:     f.smtpWorkers,
		SMTPRate:        f.smtpRate,
		AddressInterval: f.addrInterval,
		SigAlgs:         f.sigalgs,
		Exclude:         f.exclude,
		Allow:           f.allow,
		STARTTLS: starttls.Config{
			EHLO:             f.ehlo,
			ConnectTimeout:   max(f.smtpTimeout/3, time.Millisecond),
			BannerTimeout:    f.smtpTimeout,
			EHLOTimeout:      f.smtpTimeout,
			STARTTLSTimeout:  f.smtpTimeout,
			HandshakeTimeout: f.smtpTimeout,
			QUITTimeout:      min(f.smtpTimeout, 5*time.Second),
		},
	}
}

// readAnchors reads the trust anchors (DS or DNSKEY records) of a file.
func readAnchors(path string) ([]dns.RR, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return dnssec.ParseAnchors(fh)
}

// parseInterleaved parses flags that may stand before, between or after the
// positional arguments ("scan a.txt --out d b.txt").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at "--": everything after it is positional.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func cmdScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f scanFlags
	f.register(fs, "", 2*time.Second, 2)
	var resolvers listFlag
	fs.Var(&resolvers, "resolver", "recursive resolver host:port (repeatable; default: the nameservers of /etc/resolv.conf)")
	format := fs.String("format", "", "input format: plain, csv (rank,domain), zone (delegations of a zone file); default: detected")
	origin := fs.String("origin", "", "zone origin for --format zone when the file has no $ORIGIN")
	fs.BoolVar(&f.dnssec, "dnssec", true, "validate DNSSEC in-process (queries carry CD) and apply the RFC 7672 rules that depend on it; --dnssec=false records every RRset as not_validated")
	shardSpec := fs.String("shard", "", "scan only shard K of N of the input (K/N, 0 <= K < N): the entries whose name hashes to K; run every K with the same inputs and flags")
	handover := fs.Bool("smtp-handover", false, "connect to no MX host: write the endpoints to probe to the dataset's handover table, for 'danescan probe' and 'danescan merge' (a scan split by address, so that each address is probed from one machine)")
	scanID := fs.String("scan-id", "", "the scan's id (default: a time stamp; with --shard, derived from the inputs' contents so that every shard agrees)")
	memLimit := fs.String("memory-limit", "", "soft limit of the process's memory (768MiB, 1GiB ...): the garbage collector works harder near it instead of letting the heap grow (default: GOMEMLIMIT, or none)")
	anchorFile := fs.String("trust-anchor", "", "file of DS or DNSKEY records to validate from instead of the built-in IANA root anchors (e.g. a private root)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: danescan scan [flags] INPUT... --out DIR\n\nINPUT is a file (plain, CSV top list or zone file; .gz is read transparently) or - for stdin.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	inputsArgs, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(inputsArgs) == 0 {
		fmt.Fprintln(stderr, "danescan scan: no input: give one or more files, or - for stdin")
		return exitUsage
	}
	if f.out == "" {
		fmt.Fprintln(stderr, "danescan scan: --out DIR is required")
		return exitUsage
	}
	if _, err := starttls.SigAlgsModes(f.sigalgs); err != nil {
		fmt.Fprintf(stderr, "danescan scan: --sigalgs: %v\n", err)
		return exitUsage
	}
	if err := f.loadExclude(); err != nil {
		fmt.Fprintf(stderr, "danescan scan: %v\n", err)
		return exitUsage
	}
	fmtv, err := datasets.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "danescan scan: %v\n", err)
		return exitUsage
	}
	if *anchorFile != "" {
		if !f.dnssec {
			fmt.Fprintln(stderr, "danescan scan: --trust-anchor needs --dnssec")
			return exitUsage
		}
		f.anchors, err = readAnchors(*anchorFile)
		if err != nil {
			fmt.Fprintf(stderr, "danescan scan: --trust-anchor: %v\n", err)
			return exitUsage
		}
		f.anchorsSource = *anchorFile
	}
	if err := setMemoryLimit(*memLimit); err != nil {
		fmt.Fprintf(stderr, "danescan scan: %v\n", err)
		return exitUsage
	}
	servers, err := resolverList(resolvers)
	if err != nil {
		fmt.Fprintf(stderr, "danescan scan: %v\n", err)
		return exitUsage
	}
	// The system's resolvers are often shared (an ISP's, a campus's): without
	// an explicit --resolver the scan is polite unless told otherwise.
	qpsSet := false
	fs.Visit(func(fl *flag.Flag) { qpsSet = qpsSet || fl.Name == "dns-qps" })
	if len(resolvers) == 0 && !qpsSet {
		f.qps = systemResolverQPS
	}
	var inputs []scanner.Input
	for _, p := range inputsArgs {
		inputs = append(inputs, scanner.Input{Path: p, Format: fmtv, Origin: *origin})
	}
	logger := newLogger(stderr, f.quiet)
	cfg := f.config(servers, append([]string{"danescan", "scan"}, args...), logger)
	cfg.ScanID = *scanID
	if err := checkScanID(cfg.ScanID); err != nil {
		fmt.Fprintf(stderr, "danescan scan: %v\n", err)
		return exitUsage
	}
	if *shardSpec != "" {
		if cfg.Shard, err = datasets.ParseShard(*shardSpec); err != nil {
			fmt.Fprintf(stderr, "danescan scan: --shard: %v\n", err)
			return exitUsage
		}
		if cfg.ScanID == "" {
			if cfg.ScanID, err = derivedScanID(inputs, cfg.Shard); err != nil {
				fmt.Fprintf(stderr, "danescan scan: %v\n", err)
				return exitUsage
			}
		}
	}
	if cfg.SMTPHandover = *handover; *handover && f.noSMTP {
		fmt.Fprintln(stderr, "danescan scan: --smtp-handover hands the SMTP work over: it cannot go with --no-smtp")
		return exitUsage
	}
	return runScan(ctx, cfg, inputs, &f, stdout, stderr, logger)
}

func resolverList(given []string) ([]string, error) {
	if len(given) == 0 {
		return lookup.SystemResolvers("/etc/resolv.conf")
	}
	var out []string
	for _, s := range given {
		addr, err := lookup.ParseServer(s)
		if err != nil {
			return nil, err
		}
		out = append(out, addr)
	}
	return out, nil
}

// runScan runs the scanner with progress and prints the summary. It returns
// the exit code.
func runScan(ctx context.Context, cfg scanner.Config, inputs []scanner.Input, f *scanFlags, stdout, stderr io.Writer, logger *slog.Logger) int {
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "danescan: cpuprofile: %v\n", err)
			return exitUsage
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintf(stderr, "danescan: cpuprofile: %v\n", err)
			return exitUsage
		}
		defer pprof.StopCPUProfile()
	}
	// The scan removes the dataset in --out only once the inputs are open,
	// so --replace never deletes one for a scan that cannot start.
	cfg.Replace = f.replace
	if f.resume && f.replace {
		fmt.Fprintln(stderr, "danescan: --resume continues the dataset in --out and --replace removes it: give one of them")
		return exitUsage
	}
	var stats scanner.Stats
	stopPacer := startGCPacer(&stats.SetBytes, time.Second)
	defer stopPacer()
	stopProgress := func() {}
	if !f.quiet {
		stopProgress = startProgress(&stats, inputSize(inputs), stderr, logger)
	}
	stopHeap := func() {}
	if f.memprofile != "" {
		stopHeap = startHeapProfiles(f.memprofile, &stats, 30*time.Second, logger)
	}
	start := time.Now()
	scan := scanner.Run
	if f.resume {
		scan = scanner.Resume
	}
	man, err := scan(ctx, cfg, inputs, f.out, &stats)
	elapsed := time.Since(start)
	stopHeap()
	stopProgress()
	if errors.Is(err, scanner.ErrComplete) {
		fmt.Fprintf(stderr, "danescan: %v\n", err)
		return exitOK
	}
	if man == nil {
		fmt.Fprintf(stderr, "danescan: %v\n", err)
		if errors.Is(err, scanner.ErrInterrupted) {
			return exitInterrupted // a resume stopped before it changed anything
		}
		return exitUsage
	}
	printSummary(stdout, man, f.out, elapsed)
	switch {
	case errors.Is(err, scanner.ErrInterrupted):
		fmt.Fprintf(stderr, "danescan: interrupted (%s): the dataset in %s is readable but incomplete\n", man.InterruptedBy, f.out)
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "danescan: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// startHeapProfiles writes a heap profile to path.<entries done> every
// interval while the scan runs; the returned func stops that and writes
// the last one to path. A profile that cannot be written is logged.
func startHeapProfiles(path string, stats *scanner.Stats, every time.Duration, logger *slog.Logger) func() {
	write := func(name string) {
		fh, err := os.Create(name)
		if err == nil {
			err = pprof.Lookup("heap").WriteTo(fh, 0)
			if cerr := fh.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			logger.Warn("memprofile", "err", err)
		}
	}
	done := make(chan struct{})  // closed by the returned func
	ended := make(chan struct{}) // closed by the goroutine when it returns
	go func() {
		defer close(ended)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				write(fmt.Sprintf("%s.%09d", path, stats.Done.Load()))
			}
		}
	}()
	return func() {
		close(done)
		<-ended
		write(path)
	}
}

// inputSize returns the total size of the inputs when every one is a
// regular file, and -1 otherwise (stdin, a pipe such as a shell's <(...),
// a FIFO): it looks at them without opening them, as a stream can be read
// only once, by the scan.
func inputSize(inputs []scanner.Input) int64 {
	var total int64
	for _, in := range inputs {
		if in.Path == "-" {
			return -1
		}
		fi, err := os.Stat(in.Path)
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		total += fi.Size()
	}
	return total
}

// progress is what the scan has done, read from scanner.Stats.
type progress struct {
	readDone  bool  // the inputs are read: entries is final
	entries   int64 // entries read
	bytesRead int64 // bytes of the inputs read
	done      int64 // entries finished
}

// loadProgress reads stats, ReadDone first, so that entries is final when
// readDone is set.
func loadProgress(stats *scanner.Stats) progress {
	readDone := stats.ReadDone.Load()
	return progress{readDone: readDone, entries: stats.Entries.Load(), bytesRead: stats.BytesRead.Load(), done: stats.Done.Load()}
}

// total returns the number of entries the scan will have finished at the
// end: the entries read, once the inputs are read to the end; before that
// (or when reading stopped early), when size (the inputs' bytes) is known,
// an estimate from the share of it read so far, never below done+1 so
// that the bar of a scan that is running or was interrupted is not full;
// -1 when the inputs are streams still being read.
func (p progress) total(size int64) int64 {
	if p.readDone && (size < 0 || p.bytesRead >= size) {
		return max(p.entries, 1)
	}
	if size < 0 {
		return -1
	}
	est := p.entries
	if read := min(p.bytesRead, size); read > 0 {
		est = int64(float64(p.entries) * float64(size) / float64(read))
	}
	return max(est, p.done+1)
}

// startProgress draws a progress bar on stderr when it is a terminal, and
// logs a line every 10 seconds otherwise. size is the inputs' total size,
// -1 for streams: their bar has no total. The returned func stops it.
func startProgress(stats *scanner.Stats, size int64, stderr io.Writer, logger *slog.Logger) func() {
	done := make(chan struct{})  // closed by the returned func
	ended := make(chan struct{}) // closed by the goroutine when it returns
	isTerm := false
	if fh, ok := stderr.(*os.File); ok {
		isTerm = term.IsTerminal(int(fh.Fd()))
	}
	go func() {
		defer close(ended)
		if isTerm {
			// The bar's mode is set once: a bar without a total (a spinner)
			// cannot take one later.
			bar := progressbar.NewOptions64(loadProgress(stats).total(size),
				progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("scanning"),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("domains"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionFullWidth(),
			)
			update := func() {
				p := loadProgress(stats)
				if size >= 0 {
					bar.ChangeMax64(p.total(size))
				}
				bar.Set64(p.done)
			}
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					update()
				case <-done:
					// Exit, not Finish: an interrupted scan's bar stays
					// where it stopped instead of jumping to 100 %.
					update()
					bar.Exit()
					fmt.Fprintln(stderr)
					return
				}
			}
		}
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-t.C:
				p := loadProgress(stats)
				n := p.done
				rate := float64(n) / time.Since(start).Seconds()
				args := []any{"done", n, "domains_per_s", int(rate), "dns_queries", stats.Queries.Load(), "mx_hosts", stats.Hosts.Load()}
				if total := p.total(size); total > 0 {
					args = append(args, "total", total)
					if rate > 0 {
						args = append(args, "eta", (time.Duration(float64(total-n)/rate) * time.Second).Round(time.Second).String())
					}
				}
				logger.Info("progress", args...)
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}

// printSummary writes the short report of a finished (or interrupted) scan.
func printSummary(w io.Writer, m *datasets.Manifest, out string, elapsed time.Duration) {
	c := m.Counts
	t := c.Totals
	if t == nil {
		t = new(datasets.Totals) // a manifest written while the scan ran
	}
	state := "complete"
	if !m.Complete {
		state = "INCOMPLETE"
		if m.InterruptedBy != "" {
			state += " (interrupted by " + m.InterruptedBy + ")"
		}
	}
	pct := func(n int64) string {
		if t.Domains == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.1f%%)", 100*float64(n)/float64(t.Domains))
	}
	fmt.Fprintf(w, "scan %s: %s\n", m.ScanID, state)
	if n := len(m.Resumed); n > 0 {
		fmt.Fprintf(w, "  resumed                 %d time(s), last at %s: the figures include the rows kept from before\n", n, m.Resumed[n-1].Format(time.RFC3339))
	}
	fmt.Fprintf(w, "  input entries           %d (%d duplicates, %d invalid names)\n", t.Entries, t.Duplicates, t.Invalid)
	fmt.Fprintf(w, "  domains scanned         %d\n", t.Domains)
	fmt.Fprintf(w, "  with MX                 %d%s\n", c.WithMX, pct(c.WithMX))
	fmt.Fprintf(w, "  null MX                 %d%s\n", c.NullMX, pct(c.NullMX))
	fmt.Fprintf(w, "  implicit MX             %d%s\n", c.ImplicitMX, pct(c.ImplicitMX))
	fmt.Fprintf(w, "  TLSA at every MX host   %d%s\n", c.TLSAAllMX, pct(c.TLSAAllMX))
	fmt.Fprintf(w, "  TLSA at some MX hosts   %d%s\n", c.TLSASomeMX, pct(c.TLSASomeMX))
	fmt.Fprintf(w, "  MTA-STS / TLS-RPT       %d / %d\n", c.MTASTS, c.TLSRPT)
	fmt.Fprintf(w, "  MX hosts probed         %d (%d with TLSA)\n", c.RowsMXHosts, c.MXHostsWithTLSA)
	if on, _ := m.Config["dnssec_enabled"].(bool); on {
		hostPct := func(n int64) string {
			if c.RowsMXHosts == 0 {
				return ""
			}
			return fmt.Sprintf(" (%.1f%%)", 100*float64(n)/float64(c.RowsMXHosts))
		}
		fmt.Fprintf(w, "  DNSSEC                  validated from %v\n", m.Config["trust_anchors"])
		fmt.Fprintf(w, "  MX secure               %d%s\n", c.MXSecure, pct(c.MXSecure))
		fmt.Fprintf(w, "  hosts, secure addresses %d%s\n", c.HostsAddressesSecure, hostPct(c.HostsAddressesSecure))
		for _, state := range []datasets.TLSAState{datasets.TLSAStateDANE, datasets.TLSAStateUnusable, datasets.TLSAStateSkipped} {
			n := c.HostsTLSA[string(state)]
			fmt.Fprintf(w, "  %-23s %d%s\n", "hosts, TLSA "+string(state), n, hostPct(n))
		}
	}
	if m.Step == datasets.StepDNS {
		fmt.Fprintf(w, "  SMTP handed over        %d endpoints (handover table; next: danescan probe, then danescan merge)\n", c.RowsHandover)
	} else if on, _ := m.Config["smtp_enabled"].(bool); on {
		dane := func(v datasets.DANECoverage) int64 { return c.DANE[string(v)] }
		fmt.Fprintf(w, "  DANE on every MX host   %d%s (some: %d, none: %d)\n", dane(datasets.DANEAll), pct(dane(datasets.DANEAll)), dane(datasets.DANESome), dane(datasets.DANENone))
		ep := func(v datasets.DANEStatus) int64 { return c.EndpointsDANE[string(v)] }
		fmt.Fprintf(w, "  endpoints probed        %d (pass %d, fail %d, no usable records %d, transport failed %d, tlsa lookup failed %d, not applicable %d, excluded %d)\n",
			c.RowsEndpoints, ep(datasets.DANEPass), ep(datasets.DANEFail), ep(datasets.DANENoUsable),
			ep(datasets.DANETransportFailed), ep(datasets.DANETLSALookupFailed), ep(datasets.DANENotApplicable), c.EndpointFailures["excluded"])
		if len(c.EndpointFailures) > 0 {
			fmt.Fprintf(w, "  SMTP failures by class  %s\n", byClass(c.EndpointFailures))
		}
	}
	fails := "none"
	if len(c.Failures) > 0 {
		fails = byClass(c.Failures)
	}
	fmt.Fprintf(w, "  failures by class       %s\n", fails)
	secs := elapsed.Seconds()
	fmt.Fprintf(w, "  DNS queries             %d (%.0f/s)\n", t.DNSQueries, float64(t.DNSQueries)/secs)
	if v := c.DNSSECWork; v != nil && v.DNSSECVerifications > 0 {
		hits, misses, sh := v.DNSSECCacheHits, v.DNSSECCacheMisses, v.DNSSECSignatureHits
		fmt.Fprintf(w, "  DNSSEC work             %d signature verifications (%.0f/s), %d more found verified before (%.1f%%)\n",
			v.DNSSECVerifications, float64(v.DNSSECVerifications)/secs, sh, 100*float64(sh)/float64(max(1, v.DNSSECVerifications+sh)))
		fmt.Fprintf(w, "  DNSSEC zone cache       hit rate %.1f%% (%d misses: DS and DNSKEY fetched and validated)\n",
			100*float64(hits)/float64(max(1, hits+misses)), misses)
	}
	fmt.Fprintf(w, "  time                    %s, %.0f domains/s\n", elapsed.Round(time.Millisecond), float64(t.Domains)/secs)
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		fmt.Fprintf(w, "  peak RSS                %.0f MiB\n", float64(ru.Maxrss)/1024)
	}
	fmt.Fprintf(w, "  dataset                 %s (manifest.json, %d part files)\n", out, len(m.Parts))
}

// byClass returns counts by class as "class n, class n", sorted by class.
func byClass(counts map[string]int64) string {
	var out []string
	for _, cls := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("%s %d", cls, counts[cls]))
	}
	return strings.Join(out, ", ")
}
