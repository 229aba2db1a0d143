package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// ExcludeList is the exclusion list (scanner.ParseExclude reads it) that
// a scan of a Loopback world passes with --exclude: the documentation
// networks, where the world keeps its IPv6 addresses and its name
// servers. World.WriteFiles writes it to exclude.txt.
const ExcludeList = `# danescan lab: a loopback world's addresses that nothing serves.
# The MX hosts' IPv4 addresses are served on 127.x.y.z (the documentation
# network's first octet replaced by 127); their IPv6 addresses stay in
# 2001:db8::/32, because only ::1 is on loopback. A scan never dials these.
2001:db8::/32
192.0.2.0/24
198.51.100.0/24
203.0.113.0/24
`

// The documentation networks of the world's IPv4 addresses (RFC 5737)
// and their loopback twins.
var (
	docNets      = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	loopbackNets = []netip.Prefix{netip.MustParsePrefix("127.0.2.0/24"), netip.MustParsePrefix("127.51.100.0/24"), netip.MustParsePrefix("127.0.113.0/24")}
	loopbackNet  = netip.MustParsePrefix("127.0.0.0/8")
)

// Networks returns the documentation networks that a world's MX addresses
// are drawn from (RFC 5737, RFC 3849). They are special-purpose addresses,
// which a scan refuses unless allowed: a scan of the lab in process allows
// them (scanner.Config.Allow), and SMTP.Dial serves them.
func Networks() []netip.Prefix {
	return append(slices.Clone(docNets), netip.MustParsePrefix("2001:db8::/32"))
}

// LoopbackNetworks returns the loopback networks that a Loopback world
// serves its MX hosts' IPv4 addresses on (LoopbackAddr): the ranges a scan
// of `danescan lab serve` allows.
func LoopbackNetworks() []netip.Prefix { return slices.Clone(loopbackNets) }

// LoopbackAddr returns the address that a Loopback world renders in
// place of the documentation address a: a with its first octet replaced
// by 127 (192.0.2.N is 127.0.2.N, 198.51.100.N is 127.51.100.N,
// 203.0.113.N is 127.0.113.N). It reports false, and returns a, for an
// address outside 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24.
func LoopbackAddr(a netip.Addr) (netip.Addr, bool) {
	a = a.Unmap()
	for _, p := range docNets {
		if p.Contains(a) {
			b := a.As4()
			b[0] = 127
			return netip.AddrFrom4(b), true
		}
	}
	return a, false
}

// DocumentationAddr is the inverse of LoopbackAddr: it returns the
// documentation address that a (in 127.0.2.0/24, 127.51.100.0/24 or
// 127.0.113.0/24) stands for. It reports false, and returns a, for any
// other address.
func DocumentationAddr(a netip.Addr) (netip.Addr, bool) {
	a = a.Unmap()
	for i, p := range loopbackNets {
		if p.Contains(a) {
			b, d := a.As4(), docNets[i].Addr().As4()
			b[0] = d[0]
			return netip.AddrFrom4(b), true
		}
	}
	return a, false
}

// hostV4 returns how an MX host's IPv4 address a (dotted quad of a
// documentation network) is rendered: a itself, or in a Loopback world
// LoopbackAddr(a). It allocates nothing when the world is not Loopback.
func (w *World) hostV4(a string) string {
	if !w.cfg.Loopback {
		return a
	}
	return "127" + a[strings.IndexByte(a, '.'):] // every documentation network has a first octet of three digits
}

// ListenOptions tunes SMTP.Listen. The zero value listens on port 25.
type ListenOptions struct {
	// Port is the TCP port of every listener; 0 means 25, the only port
	// a scanner dials. Binding port 25 needs root (or
	// CAP_NET_BIND_SERVICE); tests that run without use another port.
	Port int
}

// filesHeadroom is the number of open files Listen wants beyond one per
// listener: the sessions, the resolver's sockets and the process's own.
const filesHeadroom = 1024

// Listen opens one TCP listener on every IPv4 address the world's mail
// servers serve, at port 25 (or opts.Port), and serves each accepted
// connection with the same session as Dial; it returns the addresses
// listened on, sorted. The address of the connect-refused case gets no
// listener, so that a connection to it is refused; IPv6 addresses are
// not served (only ::1 is on loopback). Linux lets any 127.x.y.z be bound
// without configuring an interface. Listen refuses any address outside
// 127.0.0.0/8, so the world must be generated with Config.Loopback. It
// raises the soft limit of open files (RLIMIT_NOFILE) up to the hard
// limit when the listeners need more, and fails when even that is too
// few. On error no listener stays open, and Listen may be called again
// (on another port). Close closes the listeners; Listen succeeds only
// once.
func (s *SMTP) Listen(opts ListenOptions) ([]netip.AddrPort, error) {
	port := opts.Port
	if port == 0 {
		port = 25
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("lab: listen: port %d out of range", port)
	}
	var addrs []netip.Addr
	for ip, sa := range s.modes {
		if !ip.Is4() || sa.mode == srvRefused {
			continue
		}
		if !loopbackNet.Contains(ip) || ip == netip.AddrFrom4([4]byte{127, 0, 0, 1}) || ip == netip.AddrFrom4([4]byte{127, 0, 0, 53}) {
			return nil, fmt.Errorf("lab: listen: %s is not a loopback address of the lab (generate the world with Config.Loopback)", ip)
		}
		addrs = append(addrs, ip)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	if err := raiseOpenFiles(len(addrs) + filesHeadroom); err != nil {
		return nil, fmt.Errorf("lab: listen on %d addresses: %w", len(addrs), err)
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, fmt.Errorf("lab: listen: %w", net.ErrClosed)
	case s.listening:
		s.mu.Unlock()
		return nil, errors.New("lab: listen: already listening")
	}
	s.listening = true
	s.mu.Unlock()

	lns := make([]net.Listener, 0, len(addrs))
	out := make([]netip.AddrPort, 0, len(addrs))
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, uint16(port))
		ln, err := net.Listen("tcp4", ap.String())
		if err != nil {
			closeAll()
			s.mu.Lock()
			s.listening = false
			s.mu.Unlock()
			return nil, fmt.Errorf("lab: listen on %d addresses: %w", len(addrs), err)
		}
		lns = append(lns, ln)
		out = append(out, ap)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		closeAll()
		return nil, fmt.Errorf("lab: listen: %w", net.ErrClosed)
	}
	s.lns = lns
	for i, ln := range lns {
		s.wg.Add(1)
		go s.accept(ln, s.modes[addrs[i]])
	}
	s.mu.Unlock()
	return out, nil
}

// accept serves the connections of ln with the behaviour sa until ln is
// closed. A failing Accept (too many open files) is retried after a
// pause of up to a second, as net/http does.
func (s *SMTP) accept(ln net.Listener, sa smtpAddr) {
	defer s.wg.Done()
	var pause time.Duration
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			time.Sleep(pause)
			continue
		}
		pause = 0
		s.start(c, sa)
	}
}
