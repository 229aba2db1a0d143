//go:build unix

package lab

import (
	"fmt"
	"syscall"
)

// raiseOpenFiles raises the soft limit of open files (RLIMIT_NOFILE) to
// at least need, up to the hard limit. It returns an error when the hard
// limit is lower than need.
func raiseOpenFiles(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("open files limit: %w", err)
	}
	n := uint64(need)
	if uint64(lim.Cur) >= n {
		return nil
	}
	if uint64(lim.Max) < n {
		return fmt.Errorf("%d open files needed, but the hard limit (RLIMIT_NOFILE) is %d; raise it (ulimit -Hn, LimitNOFILE=)", need, lim.Max)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raise the open files limit to %d: %w", lim.Cur, err)
	}
	return nil
}
