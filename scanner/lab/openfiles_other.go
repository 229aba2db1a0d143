//go:build !unix

package lab

// raiseOpenFiles does nothing where there is no RLIMIT_NOFILE.
func raiseOpenFiles(need int) error { return nil }
