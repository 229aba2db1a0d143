package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/danescan/danescan/scanner"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lab"
)

func cmdLab(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f scanFlags
	// Loopback answers in microseconds; the lab's timeouts are simulated
	// by a server that never answers, so a short timeout keeps the run short.
	f.register(fs, "lab-out", 500*time.Millisecond, 1)
	// The lab's mail servers run in process and answer at once: short
	// stage timeouts (5 s: with a 1 s timeout about 200 of 67,000 TLS
	// handshakes of a 200,000-domain run timed out, the two cores being
	// busy with validation), and no politeness waits (many of its hosts
	// share an address).
	for name, v := range map[string]string{"smtp-timeout": "5s", "address-interval": "1ns", "smtp-rate": "0", "smtp-workers": "200"} {
		fl := fs.Lookup(name)
		fl.Value.Set(v)
		fl.DefValue = v
	}
	domains := fs.Int("domains", 2000, "number of domains in the simulated internet")
	seed := fs.Uint64("seed", 1, "seed of the generated population (same seed, same world)")
	popName := fs.String("population", "realistic", populationUsage)
	noReport := fs.Bool("no-report", false, "do not write the report (OUT/report/) after the scan")
	fs.BoolVar(&f.dnssec, "dnssec", true, "sign the world and validate it from its own trust anchor; --dnssec=false scans an unsigned world without validation")
	validate := fs.Bool("validate", true, "with --dnssec, validate; --validate=false scans the same signed world without validation (to measure what validation costs)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: danescan lab [flags]\n\nGenerates a simulated internet (a DNS tree answered by a resolver on 127.0.0.1),\nscans all of its domains with the same code as 'danescan scan', and writes the dataset.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if _, err := parseInterleaved(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if f.out == "" {
		fmt.Fprintln(stderr, "danescan lab: --out must not be empty")
		return exitUsage
	}
	pop, err := lab.ParsePopulation(*popName)
	if err != nil {
		fmt.Fprintf(stderr, "danescan lab: --population: %v\n", err)
		return exitUsage
	}
	// A lab dataset is cheap to make again: running the quick start twice
	// replaces the previous one instead of failing (unless it is resumed).
	f.replace = !f.resume
	logger := newLogger(stderr, f.quiet)
	genStart := time.Now()
	signed := f.dnssec
	f.dnssec = signed && *validate
	world, err := lab.Generate(lab.Config{Domains: *domains, Seed: *seed, DNSSEC: signed, Population: pop})
	if err != nil {
		fmt.Fprintf(stderr, "danescan lab: %v\n", err)
		return exitUsage
	}
	if f.dnssec {
		if f.anchors, err = dnssec.ParseAnchors(strings.NewReader(world.TrustAnchor())); err != nil {
			fmt.Fprintf(stderr, "danescan lab: the world's trust anchor: %v\n", err)
			return exitFailed
		}
		f.anchorsSource = "lab"
	}
	dir, err := labListDir(f.out)
	if err != nil {
		fmt.Fprintf(stderr, "danescan lab: %v\n", err)
		return exitFailed
	}
	defer os.RemoveAll(dir)
	// The scan needs only the domain list; lab serve writes the zone files.
	list := filepath.Join(dir, "domains.txt")
	if err := os.WriteFile(list, []byte(strings.Join(world.InputLines(), "\n")+"\n"), 0o644); err != nil {
		fmt.Fprintf(stderr, "danescan lab: %v\n", err)
		return exitFailed
	}
	genTime := time.Since(genStart)
	srv, err := lab.Start(world, lab.ServerOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "danescan lab: start the lab resolver: %v\n", err)
		return exitFailed
	}
	defer srv.Close()
	var smtp *lab.SMTP
	if !f.noSMTP {
		// The world's MX addresses are documentation addresses: the
		// scan reaches them only through the lab's in-process Dial,
		// which refuses anything else.
		if smtp, err = lab.StartSMTP(world, lab.SMTPOptions{}); err != nil {
			fmt.Fprintf(stderr, "danescan lab: start the lab's mail servers: %v\n", err)
			return exitFailed
		}
		defer smtp.Close()
	}
	live := tuneGC()
	logger.Info("lab ready", "heap_mib", live>>20, "domains", *domains, "seed", *seed, "population", pop.String(), "resolver", srv.Addr(), "generate", genTime.Round(time.Millisecond).String(), "load", (time.Since(genStart) - genTime).Round(time.Millisecond).String())

	// With --dnssec the world is signed and validated from its own root's
	// DS, never from the IANA anchors (the lab's root is not the real one).
	cfg := f.config([]string{srv.Addr()}, append([]string{"danescan", "lab"}, args...), logger)
	cfg.Extra = map[string]any{"lab_domains": *domains, "lab_seed": *seed, "lab_dnssec": signed, "lab_population": pop.String()}
	if smtp != nil {
		// The world's MX addresses are documentation addresses, served
		// only through the lab's in-process Dial.
		cfg.SMTPDial, cfg.Allow = smtp.Dial, lab.Networks()
	}
	inputs := []scanner.Input{{Path: list}}
	code := runScan(ctx, cfg, inputs, &f, stdout, stderr, logger)
	if code != exitOK || *noReport {
		return code
	}
	// The lab ends with the report of the scan it made.
	return analyzeInto(ctx, []string{f.out}, filepath.Join(f.out, "report"), stdout, stderr, "danescan lab")
}

// populationUsage describes the --population flag of lab and lab serve.
const populationUsage = "the simulated internet: realistic (calibrated on published measurements: few signed zones, RSA/SHA-256 first, a few large mail providers, TLSA mostly at DANE hosters) or stress (today's stress world: about 90% signed, mostly Ed25519, every special case of the lab once)"

// labListDir creates the folder for the lab's domain list: one named
// after the output directory, so that a lab scan resumed (--resume) reads
// its list from the path the manifest names. The caller removes it.
func labListDir(out string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	dir := filepath.Join(os.TempDir(), "danescan-lab-"+hex.EncodeToString(sum[:8]))
	return dir, os.MkdirAll(dir, 0o700)
}

// tuneGC is called once the world is generated, loaded and signed, and
// returns the live heap. The world is a large heap of DNS records that
// never changes; at the default GOGC the collector re-marks it so often
// that it costs about a tenth of a lab scan (200,000 domains: 10,300 ->
// 11,200 domains/s with 400), so the scan runs at GOGC=400, capped at the
// live heap plus 2 GiB: building and signing the world at GOGC=400 had
// taken a 200,000-domain signed lab to a 5.6 GiB peak. A real scan does
// not carry such a heap and keeps the defaults; GOGC or GOMEMLIMIT set by
// the user win.
func tuneGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(ms.HeapAlloc) + 2<<30)
	}
	return ms.HeapAlloc
}

func cmdLabServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lab serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	domains := fs.Int("domains", 2000, "number of domains in the simulated internet")
	seed := fs.Uint64("seed", 1, "seed of the generated population")
	popName := fs.String("population", "realistic", populationUsage)
	dir := fs.String("dir", "", "folder for the domain list and zone files (default: a new temporary folder, removed at exit)")
	listen := fs.String("listen", "127.0.0.1:0", "loopback address for the resolver (UDP and TCP)")
	signed := fs.Bool("dnssec", true, "sign the world (its trust anchor is written beside the zone files)")
	root := os.Geteuid() == 0
	serveSMTP := fs.Bool("smtp", root, "serve the mail servers on 127.x.y.z port 25 (the MX hosts' addresses become loopback addresses; needs root; default: true when run as root)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: danescan lab serve [flags]\n\nRuns the simulated internet until interrupted and prints what 'danescan scan' needs to reach it.\nAs root it also runs the mail servers, on 127.x.y.z port 25.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if _, err := parseInterleaved(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	smtpSet := false
	fs.Visit(func(f *flag.Flag) { smtpSet = smtpSet || f.Name == "smtp" })
	if !*serveSMTP && !smtpSet {
		fmt.Fprintln(stderr, "danescan lab serve: not root, so the mail servers are not served (they need port 25 on 127.x.y.z); the scan runs with --no-smtp")
	}
	pop, err := lab.ParsePopulation(*popName)
	if err != nil {
		fmt.Fprintf(stderr, "danescan lab serve: --population: %v\n", err)
		return exitUsage
	}
	world, err := lab.Generate(lab.Config{Domains: *domains, Seed: *seed, DNSSEC: *signed, Loopback: *serveSMTP, Population: pop})
	if err != nil {
		fmt.Fprintf(stderr, "danescan lab serve: %v\n", err)
		return exitUsage
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "danescan-lab-")
		if err != nil {
			fmt.Fprintf(stderr, "danescan lab serve: %v\n", err)
			return exitFailed
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	files, err := world.WriteFiles(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "danescan lab serve: %v\n", err)
		return exitFailed
	}
	srv, err := lab.Start(world, lab.ServerOptions{Addr: *listen})
	if err != nil {
		fmt.Fprintf(stderr, "danescan lab serve: start the lab resolver: %v\n", err)
		return exitFailed
	}
	defer srv.Close()
	var smtp *lab.SMTP
	var smtpAddrs []netip.AddrPort
	if *serveSMTP {
		if smtp, err = lab.StartSMTP(world, lab.SMTPOptions{}); err != nil {
			fmt.Fprintf(stderr, "danescan lab serve: start the lab's mail servers: %v\n", err)
			return exitFailed
		}
		defer smtp.Close()
		if smtpAddrs, err = smtp.Listen(lab.ListenOptions{}); err != nil {
			hint := ""
			if !root {
				hint = " (port 25 needs root or CAP_NET_BIND_SERVICE; --smtp=false serves DNS only)"
			}
			fmt.Fprintf(stderr, "danescan lab serve: %v%s\n", err, hint)
			return exitFailed
		}
	}
	list, _ := filepath.Abs(files.DomainList)
	zones, _ := filepath.Abs(files.ZoneDir)
	anchor, validation := "(none: the world is unsigned)", "--dnssec=false"
	if files.TrustAnchor != "" {
		anchor, _ = filepath.Abs(files.TrustAnchor)
		validation = "--trust-anchor " + anchor
	}
	fmt.Fprintf(stdout, "resolver     %s\ndomain list  %s\nzone files   %s\ntrust anchor %s\n", srv.Addr(), list, zones, anchor)
	if smtp == nil {
		fmt.Fprintf(stdout, "\nscan it with (--no-smtp: the world's MX addresses are documentation addresses, not served here):\n  danescan scan --resolver %s --timeout 500ms --retries 1 --no-smtp %s %s --out lab-scan\n",
			srv.Addr(), validation, list)
	} else {
		exclude, _ := filepath.Abs(files.Exclude)
		var nets []string // the /24 networks of the addresses, in order
		for _, ap := range smtpAddrs {
			p, _ := ap.Addr().Prefix(24)
			if n := p.String(); !slices.Contains(nets, n) {
				nets = append(nets, n)
			}
		}
		// Every MX address is this machine and many hosts share one:
		// politeness off, short SMTP timeouts (the banner-stall case
		// waits for the whole of one).
		// The loopback networks are special-purpose addresses: the scan
		// must allow them.
		allow := "--allow " + strings.Join(nets, " --allow ")
		fmt.Fprintf(stdout, "mail servers %d addresses in %s, port 25 (IPv4 only)\nexclusions   %s\n\nscan it with (--exclude: the MX hosts' IPv6 addresses are documentation addresses, not served here; --allow: loopback addresses are refused unless allowed):\n  danescan scan --resolver %s --timeout 500ms --retries 1 --exclude %s %s --smtp-timeout 5s --address-interval 1ns --smtp-rate 0 --smtp-workers 200 %s %s --out lab-scan\n",
			len(smtpAddrs), strings.Join(nets, " "), exclude, srv.Addr(), exclude, allow, validation, list)
	}
	fmt.Fprintf(stdout, "\nCtrl-C stops the lab.\n")
	<-ctx.Done()
	if smtp != nil {
		smtp.Close()
		fmt.Fprintf(stdout, "lab stopped after %d queries and %d SMTP sessions\n", srv.Queries(), smtp.Connections())
		return exitOK
	}
	fmt.Fprintf(stdout, "lab stopped after %d queries\n", srv.Queries())
	return exitOK
}
