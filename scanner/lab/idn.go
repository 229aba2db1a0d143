package lab

import "golang.org/x/net/idna"

// toALabel converts a name written with U-labels to its A-label form
// (IDNA 2008, as the scanner normalises input names).
func toALabel(name string) (string, error) {
	return idna.Lookup.ToASCII(name)
}

// isASCII reports whether s holds only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
