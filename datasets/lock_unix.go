//go:build unix

package datasets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes the lock of the dataset directory dir (which exists): an
// exclusive flock on dir/.danescan.lock, created when needed, held until
// the returned file is closed or the process ends (a crash included). It
// returns an error naming dir when another process holds it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("output directory %s: lock: %w", dir, unwrapPath(err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("output directory %s is in use by another danescan process (it holds %s); wait for it to end, or stop it", dir, LockName)
		}
		return nil, fmt.Errorf("output directory %s: lock: %w", dir, err)
	}
	return f, nil
}
