package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLabServeSMTP runs `lab serve` as root, with its mail servers on
// 127.x.y.z port 25, and the scan command it prints, in process: the scan
// reaches every special case over real TCP and excludes the IPv6
// addresses.
func TestLabServeSMTP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("lab serve's mail servers need root (port 25)")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	code := make(chan int, 1) // written by the lab serve goroutine, read below
	go func() {
		code <- cmdLabServe(ctx, []string{"--domains", "1000", "--dir", filepath.Join(dir, "lab")}, pw, &stderr)
		pw.Close()
	}()
	var head []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		head = append(head, sc.Text())
		if strings.HasPrefix(sc.Text(), "Ctrl-C") {
			break
		}
	}
	if len(head) == 0 || !strings.HasPrefix(head[len(head)-1], "Ctrl-C") {
		<-code
		if strings.Contains(stderr.String(), "address already in use") {
			t.Skipf("port 25 in use: %s", stderr.String())
		}
		t.Fatalf("lab serve stopped:\n%s\n%s", strings.Join(head, "\n"), stderr.String())
	}
	text := strings.Join(head, "\n")
	if !regexp.MustCompile(`(?m)^resolver +127\.0\.0\.1:\d+$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^mail servers \d+ addresses in 127\.0\.2\.0/24[ 0-9./]*, port 25 \(IPv4 only\)$`).MatchString(text) {
		t.Errorf("lab serve printed:\n%s", text)
	}
	var args []string
	for _, l := range head {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "danescan" && f[1] == "scan" {
			args = f[1:]
		}
	}
	if len(args) < 2 || args[len(args)-2] != "--out" || !strings.Contains(text, "--exclude "+filepath.Join(dir, "lab", "exclude.txt")) || strings.Contains(text, "--no-smtp") {
		t.Fatalf("scan command %q in:\n%s", args, text)
	}
	args[len(args)-1] = filepath.Join(dir, "scan")
	args = append(args, "--quiet")
	c, out, errs := runCLI(t, args...)
	if c != exitOK {
		t.Fatalf("scan exited %d:\n%s\n%s", c, out, errs)
	}
	for _, want := range []string{"banner_timeout 1", "connect_refused 1", "starttls_not_offered 1", "starttls_rejected 1", "tls_handshake_failed 1", "excluded "} {
		if !strings.Contains(out, want) {
			t.Errorf("scan summary lacks %q:\n%s", want, out)
		}
	}
	cancel()
	rest, _ := io.ReadAll(pr)
	if c := <-code; c != exitOK {
		t.Errorf("lab serve exited %d: %s", c, stderr.String())
	}
	if m := regexp.MustCompile(`and (\d+) SMTP sessions`).FindSubmatch(rest); m == nil || string(m[1]) == "0" {
		t.Errorf("lab serve ended with %q", rest)
	}
}

// TestLabServePortInUse holds one of the lab's mail server addresses
// (127.0.2.2:25, the banner-stall host's) before `lab serve` starts: it
// must end with a clear one-line error naming the address, not panic or
// hang.
func TestLabServePortInUse(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("lab serve's mail servers need root (port 25)")
	}
	l, err := net.Listen("tcp", "127.0.2.2:25")
	if err != nil {
		t.Skipf("cannot hold 127.0.2.2:25 for the test (another process has it?): %v", err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := cmdLabServe(ctx, []string{"--domains", "300", "--dir", filepath.Join(t.TempDir(), "lab")}, &stdout, &stderr)
	if code == exitOK {
		t.Fatalf("lab serve exited 0 with 127.0.2.2:25 taken:\n%s", stdout.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if !strings.Contains(msg, "127.0.2.2:25") || !strings.Contains(msg, "address already in use") || strings.Count(msg, "\n") > 0 {
		t.Errorf("stderr %q: want one line naming 127.0.2.2:25 and the address in use", msg)
	}
}
