package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner"
)

// checkScanID refuses a --scan-id that could not be a file or partition
// name (scan=<id> in a Hive-style layout): it must be 1-128 letters,
// digits, '.', '_' or '-', not starting with '.'.
func checkScanID(id string) error {
	if id == "" {
		return nil
	}
	ok := len(id) <= 128 && id[0] != '.'
	for _, c := range id {
		ok = ok && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return fmt.Errorf("--scan-id %q: want 1-128 letters, digits, '.', '_' or '-' (not starting with '.')", id)
	}
	return nil
}

// derivedScanID is the scan id every shard of a sharded scan computes
// alike when --scan-id is not given: "shards-" and 16 hex digits of the
// SHA-256 over the contents of the input files, in order, and the shard
// count. So the shards of one list agree without talking to each other,
// on any machine and under any path. A stream (stdin, a pipe) cannot be
// read twice: a sharded scan of one needs --scan-id.
func derivedScanID(inputs []scanner.Input, shard datasets.Shard) (string, error) {
	h := sha256.New()
	for _, in := range inputs {
		fi, err := os.Stat(in.Path)
		if in.Path == "-" || (err == nil && !fi.Mode().IsRegular()) {
			return "", fmt.Errorf("--shard: input %s is a stream, which cannot be read twice to derive the scan id: give --scan-id (the same to every shard)", in.Path)
		}
		f, err := os.Open(in.Path)
		if err != nil {
			return "", err
		}
		fh := sha256.New()
		_, err = io.Copy(fh, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("--shard: %w", err)
		}
		h.Write(fh.Sum(nil))
	}
	h.Write([]byte("/" + strconv.Itoa(shard.Count)))
	return "shards-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}
