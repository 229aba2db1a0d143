package analysis

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
)

// writeMillion writes a synthetic dataset of n domains into dir: three in
// four served by 200 shared providers, the rest self-hosted, with a mix of
// the failures the checks look for. With sh set it writes that shard of
// them: its domains and their self-hosted hosts, and every provider's host
// (a shard scan writes the hosts its domains use).
func writeMillion(b *testing.B, dir string, n int, sh datasets.Shard) {
	b.Helper()
	dw, _ := datasets.NewTableWriter[datasets.Domain](dir, datasets.TableDomains, datasets.WriterOptions{})
	hw, _ := datasets.NewTableWriter[datasets.MXHost](dir, datasets.TableMXHosts, datasets.WriterOptions{})
	ew, _ := datasets.NewTableWriter[datasets.Endpoint](dir, datasets.TableEndpoints, datasets.WriterOptions{})
	mutations := make([]func(*fixture), 0, len(checkFixtures))
	for _, id := range sortedKeys(checkFixtures) {
		mutations = append(mutations, checkFixtures[id])
	}
	for p := range 200 {
		f := goodFixture(fmt.Sprintf("provider%d.net", p))
		if p%3 == 0 {
			mutations[p%len(mutations)](f)
		}
		hw.Write(&f.h)
		for i := range f.eps {
			ew.Write(&f.eps[i])
		}
	}
	for i := range n {
		name := fmt.Sprintf("domain%d.%s", i, []string{"com", "net", "org", "de", "nl"}[i%5])
		if !sh.Holds(name) {
			continue
		}
		f := goodFixture(name)
		if i%4 != 0 {
			p := i % 200
			f.d.MXHosts = []string{fmt.Sprintf("mx.provider%d.net", p)}
		} else {
			if i%7 == 0 {
				mutations[i%len(mutations)](f)
			}
			hw.Write(&f.h)
			for j := range f.eps {
				ew.Write(&f.eps[j])
			}
		}
		dw.Write(&f.d)
	}
	for _, w := range []interface{ Close() error }{dw, hw, ew} {
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	m := fixtureManifest("million", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if sh.Count > 0 {
		m.Shard = &sh
	}
	m.Parts = append(append(dw.Parts(), hw.Parts()...), ew.Parts()...)
	if err := datasets.WriteManifest(dir, &m); err != nil {
		b.Fatal(err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// BenchmarkAnalyzeMillion analyses a synthetic 1,000,000-domain dataset
// (about 250,000 MX hosts and endpoints) and writes its report: every
// check, the funnel, the units, TLDs and providers. The dataset is made
// before the timer starts.
func BenchmarkAnalyzeMillion(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "million")
	writeMillion(b, dir, 1_000_000, datasets.Shard{})
	benchmarkAnalyze(b, dir)
}

// BenchmarkAnalyzeMillionShards is BenchmarkAnalyzeMillion over the same
// domains written as 4 shards of one scan: the providers' MX hosts and
// endpoints repeat in every shard and are deduplicated by the views.
func BenchmarkAnalyzeMillionShards(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "million")
	for k := range 4 {
		writeMillion(b, filepath.Join(dir, fmt.Sprintf("shard-%d", k)), 1_000_000, datasets.Shard{Index: k, Count: 4})
	}
	benchmarkAnalyze(b, dir)
}

// benchmarkAnalyze analyses the datasets in dir and writes the report, b.N
// times.
func benchmarkAnalyze(b *testing.B, dir string) {
	b.ResetTimer()
	var findings int
	for range b.N {
		a, err := Analyze(context.Background(), []string{dir})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.Write(filepath.Join(b.TempDir(), "report")); err != nil {
			b.Fatal(err)
		}
		findings = len(a.Findings)
	}
	b.ReportMetric(float64(findings), "findings")
}
