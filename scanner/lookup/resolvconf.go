package lookup

import (
	"fmt"
	"net"

	"github.com/miekg/dns"
)

// SystemResolvers returns the nameservers of a resolv.conf file (normally
// /etc/resolv.conf) as "host:port". It returns an error when the file cannot
// be read or names no nameserver.
func SystemResolvers(path string) ([]string, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read resolvers: %w", err)
	}
	if len(cc.Servers) == 0 {
		return nil, fmt.Errorf("read resolvers: %s names no nameserver", path)
	}
	out := make([]string, 0, len(cc.Servers))
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, cc.Port))
	}
	return out, nil
}

// ParseServer checks a resolver address given by a user and adds the
// default port 53 when none is given ("192.0.2.1", "[2001:db8::1]:5353").
func ParseServer(s string) (string, error) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if net.ParseIP(host) == nil && host != "localhost" {
			return "", fmt.Errorf("resolver %q: host must be an IP address", s)
		}
		return net.JoinHostPort(host, port), nil
	}
	if ip := net.ParseIP(s); ip != nil {
		return net.JoinHostPort(s, "53"), nil
	}
	return "", fmt.Errorf("resolver %q: want an IP address with optional :port", s)
}
