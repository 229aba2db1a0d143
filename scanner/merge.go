package scanner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/danescan/danescan/datasets"
)

// probeShards reads the manifests of the probe shards of one scan and
// checks that together they are the whole SMTP step of the scan of dns:
// every one complete, of dns's scan id, made from as many DNS shards as
// dns's scan has, of one shard count, each shard once and none missing.
// It returns the manifests in shard order, or a one-line error.
func probeShards(dns *datasets.Manifest, dirs []string) ([]*datasets.Manifest, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no probe shard given: give the datasets that probe wrote")
	}
	dnsCount := shardOf(dns).Count
	var byIndex []*datasets.Manifest
	for _, dir := range dirs {
		m, err := datasets.ReadManifest(dir)
		if err != nil {
			return nil, err
		}
		sh := shardOf(m)
		n, _ := m.Config["dns_shards"].(float64)
		switch {
		case !validShard(sh):
			return nil, fmt.Errorf("%s: the manifest's shard %s is not a shard K/N with 0 <= K < N", dir, sh)
		case m.Step != datasets.StepProbe:
			return nil, fmt.Errorf("%s is not a probe shard (it was not written by danescan probe)", dir)
		case !m.Complete:
			return nil, fmt.Errorf("probe shard %s (%s) is incomplete: run it again", sh, dir)
		case m.ScanID != dns.ScanID:
			return nil, fmt.Errorf("probe shard %s belongs to scan %s, the DNS shard to scan %s", dir, m.ScanID, dns.ScanID)
		case int(n) != dnsCount:
			return nil, fmt.Errorf("probe shard %s was made from %d DNS shards, the scan has %d", dir, int(n), dnsCount)
		case byIndex == nil:
			byIndex = make([]*datasets.Manifest, sh.Count)
		case sh.Count != len(byIndex):
			return nil, fmt.Errorf("probe shard %s is shard %s, another is of %d shards: give the probe shards of one run", dir, sh, len(byIndex))
		}
		if byIndex[sh.Index] != nil {
			return nil, fmt.Errorf("probe shard %s is given twice (%s)", sh, dir)
		}
		byIndex[sh.Index] = m
	}
	var missing []string
	for k, m := range byIndex {
		if m == nil {
			missing = append(missing, strconv.Itoa(k))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("probe shard(s) %s of %d missing: the endpoints of their addresses would have no verdict", strings.Join(missing, ", "), len(byIndex))
	}
	return byIndex, nil
}

// Merge is the last step of a scan split by address (see handover.go): it
// combines the DNS shard in dnsDir (scan --smtp-handover) with the
// endpoints rows of every probe shard in probeDirs (Probe) into the final
// dataset of that shard in outDir: the DNS shard's domains and mx_hosts
// rows with their DANE verdicts rolled up from the endpoints as a scan in
// one process rolls them up (rollUpHost, rollUpDomain), and the endpoints
// rows of its hosts. The manifest is the DNS shard's (same scan id and
// shard) with the counts of the rows written and no step. Merge uses
// cfg's PartRows, Replace and Now. It fails before writing, with
// a one-line error, when dnsDir is not a complete DNS shard or the probe
// shards are not the whole, complete SMTP step of its scan; it fails after
// writing (the manifest says complete=false) when the probe shards lack an
// endpoint of the shard's hosts.
func Merge(ctx context.Context, cfg Config, dnsDir string, probeDirs []string, outDir string) (*datasets.Manifest, error) {
	cfg.defaults()
	dns, err := datasets.ReadManifest(dnsDir)
	if err != nil {
		return nil, err
	}
	switch {
	case !validShard(shardOf(dns)):
		return nil, fmt.Errorf("%s: the manifest's shard %s is not a shard K/N with 0 <= K < N", dnsDir, shardOf(dns))
	case dns.Step != datasets.StepDNS:
		return nil, fmt.Errorf("%s is not the DNS step of a split scan (it was not written by scan --smtp-handover)", dnsDir)
	case !dns.Complete:
		return nil, fmt.Errorf("DNS shard %s (%s) is incomplete: finish it (scan --resume) before merging", shardOf(dns), dnsDir)
	}
	probes, err := probeShards(dns, probeDirs)
	if err != nil {
		return nil, err
	}
	// The endpoints of every host of the shard, in the host's order.
	hostEps := map[string][]probeKey{}
	want := map[probeKey]*endpointVerdict{}
	err = datasets.EachPart(dnsDir, datasets.TableHandover, func(rows []datasets.Handover) error {
		for _, h := range rows {
			if h.Position < 0 || h.Position >= h.Endpoints {
				return fmt.Errorf("%s: handover row of %s has position %d of %d", dnsDir, h.Host, h.Position, h.Endpoints)
			}
			eps := hostEps[h.Host]
			if eps == nil {
				eps = make([]probeKey, h.Endpoints)
				hostEps[h.Host] = eps
			}
			k := probeKey{h.Host, h.Address, h.SigAlgs}
			if len(eps) != int(h.Endpoints) || eps[h.Position] != (probeKey{}) {
				return fmt.Errorf("%s: the handover rows of %s disagree on its endpoints", dnsDir, h.Host)
			}
			eps[h.Position] = k
			want[k] = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for host, eps := range hostEps {
		if i := slices.Index(eps, probeKey{}); i >= 0 {
			return nil, fmt.Errorf("%s: the handover of %s lacks its endpoint %d of %d", dnsDir, host, i, len(eps))
		}
	}

	final := *dns
	final.Step = ""
	final.Parts = nil
	final.Config = map[string]any{}
	for k, v := range dns.Config {
		final.Config[k] = v
	}
	for _, k := range []string{"smtp_workers", "smtp_rate", "address_interval", "ehlo"} {
		final.Config[k] = probes[0].Config[k]
	}
	final.Config["smtp_handover"] = map[string]any{"probe_shards": len(probes)}
	w, err := datasets.Create(outDir, &final, datasets.CreateOptions{PartRows: cfg.PartRows, Replace: cfg.Replace})
	if err != nil {
		return nil, err
	}
	counts := datasets.Counts{Totals: dns.Counts.Totals, DNSSECWork: dns.Counts.DNSSECWork, SMTPWork: &datasets.SMTPWork{}}
	werr := mergeRows(ctx, dnsDir, probeDirs, w, hostEps, want, &counts)
	missing := 0
	var example probeKey
	for k, v := range want {
		if v == nil {
			missing++
			example = k
		}
	}
	if werr == nil && missing > 0 {
		werr = fmt.Errorf("the probe shards have no endpoints row for %d endpoint(s) of this shard (e.g. %s %s %s): were they made from this scan's DNS shards?", missing, example.host, example.addr, example.mode)
	}
	final.Ended = cfg.Now().UTC()
	final.Complete = werr == nil
	final.Counts = counts
	if err := w.Close(&final); werr == nil {
		werr = err
	}
	if werr != nil {
		return &final, werr
	}
	return &final, nil
}

// mergeRows writes the rows of the final dataset to w: the endpoints rows
// of the shard's hosts from the probe shards (noting their verdicts in
// want), then the DNS shard's mx_hosts rows with the host verdicts, then
// its domains rows with the domain verdicts; it counts them into counts.
func mergeRows(ctx context.Context, dnsDir string, probeDirs []string, w *datasets.Writer, hostEps map[string][]probeKey, want map[probeKey]*endpointVerdict, counts *datasets.Counts) error {
	for _, dir := range probeDirs {
		err := datasets.EachPart(dir, datasets.TableEndpoints, func(rows []datasets.Endpoint) error {
			for i := range rows {
				r := &rows[i]
				k := probeKey{r.Host, r.Address, r.SigAlgs}
				if v, ok := want[k]; !ok || v != nil {
					continue
				}
				addr, err := netip.ParseAddr(r.Address)
				if err != nil {
					return fmt.Errorf("%s: endpoints row of %s: %w", dir, r.Host, err)
				}
				want[k] = &endpointVerdict{addr: addr, mode: r.SigAlgs, status: r.DANEStatus, reason: r.DANEReason}
				countEndpoint(counts, r)
				if r.Failure != FailExcluded && r.Failure != FailSpecialPurpose && r.Failure != FailInterrupted {
					counts.SMTPWork.EndpointsProbed++
				}
				if err := w.WriteEndpoint(r); err != nil {
					return err
				}
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
	}
	hosts := map[string]hostDANE{}
	err := datasets.EachPart(dnsDir, datasets.TableMXHosts, func(rows []datasets.MXHost) error {
		for i := range rows {
			h := &rows[i]
			if keys, ok := hostEps[h.Host]; ok {
				eps := make([]endpointVerdict, 0, len(keys))
				for _, k := range keys {
					if v := want[k]; v != nil {
						eps = append(eps, *v)
					}
				}
				h.DANEStatus, h.DANEReason = rollUpHost(eps)
				h.Endpoints = int32(len(keys))
			}
			hosts[h.Host] = hostDANE{status: h.DANEStatus, reason: h.DANEReason}
			countHost(counts, h)
			if err := w.WriteHost(h); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	return datasets.EachPart(dnsDir, datasets.TableDomains, func(rows []datasets.Domain) error {
		for i := range rows {
			d := &rows[i]
			verdicts := make([]hostDANE, len(d.MXHosts))
			for j, h := range d.MXHosts {
				verdicts[j] = hosts[h]
			}
			d.DANE, d.DANEReason, d.MXHostsPassing = rollUpDomain(d.MXHosts, verdicts)
			countDomain(counts, d)
			if err := w.WriteDomain(d); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}
