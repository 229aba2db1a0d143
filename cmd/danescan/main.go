// Command danescan measures DANE for SMTP (RFC 7672) across many domains:
// it scans domain lists into a Parquet dataset (scan), and runs the same
// scan against a simulated internet on loopback (lab).
//
// This is the only package that prints, draws progress or sets up logging.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `danescan measures DANE for SMTP (RFC 7672) across many domains.

Usage:
  danescan scan [flags] INPUT... --out DIR   scan domain lists (files, .gz, or - for stdin)
  danescan probe [flags] DNS_SHARD...        probe the addresses of one shard (after scan --smtp-handover)
  danescan merge [flags] PROBE_SHARD...      finish a DNS shard with every probe shard's endpoints
  danescan lab [flags]                       scan the built-in simulated internet
  danescan lab serve [flags]                 run the simulated internet until interrupted
  danescan analyze DATASET... --out DIR      write the report (report.md, .html, .json, findings/)
  danescan sql [flags] DATASET... 'SQL'       query datasets with SQL (views domains, mx_hosts, endpoints)
  danescan verify [--json] DATASET...        check datasets against their manifests, and the shards of a scan
  danescan version                           print the version

Run "danescan COMMAND -h" for the flags of a command.
`

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1 // the scan ran but something failed (e.g. writing)
	exitUsage       = 2 // bad flags or arguments, or a check before scanning failed
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	ctx, stop := signalContext(stderr)
	defer stop()
	switch args[0] {
	case "scan":
		return cmdScan(ctx, args[1:], stdout, stderr)
	case "lab":
		if len(args) > 1 && args[1] == "serve" {
			return cmdLabServe(ctx, args[2:], stdout, stderr)
		}
		return cmdLab(ctx, args[1:], stdout, stderr)
	case "probe":
		return cmdProbe(ctx, args[1:], stdout, stderr)
	case "merge":
		return cmdMerge(ctx, args[1:], stdout, stderr)
	case "analyze":
		return cmdAnalyze(ctx, args[1:], stdout, stderr)
	case "sql":
		return cmdSQL(ctx, args[1:], stdout, stderr)
	case "verify":
		return cmdVerify(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "danescan", version)
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "danescan: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// signalContext returns a context canceled, with the signal's name as its
// cause, on the first SIGINT or SIGTERM. A second signal exits at once.
func signalContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2) // written by the runtime, read by the goroutine below
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{}) // closed by stop to end the goroutine
	go func() {
		select {
		case sig := <-ch:
			name := "SIGINT"
			if sig == syscall.SIGTERM {
				name = "SIGTERM"
			}
			fmt.Fprintf(stderr, "\ndanescan: %s: stopping; finishing the domains in flight and writing the dataset (again to quit at once)\n", name)
			cancel(errors.New(name))
		case <-done:
			return
		}
		select {
		case <-ch:
			fmt.Fprintln(stderr, "danescan: second signal: exiting now; the parts already written stay readable")
			os.Exit(exitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

func newLogger(stderr io.Writer, quiet bool) *slog.Logger {
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}
