package scan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// benchCorpus builds realistic mixed text at run time: the Go sources of
// net/http from the Go installation, YAML and JSON documents, a lock file with
// integrity hashes, and a few keys sprinkled in.
func benchCorpus(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	files, _ := filepath.Glob(filepath.Join(runtime.GOROOT(), "src", "net", "http", "*.go"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		buf.Write(data)
	}
	if buf.Len() == 0 {
		b.Skip("no Go sources under GOROOT to build the corpus from")
	}
	for i := 0; i < 400; i++ {
		fmt.Fprintf(&buf, "- name: service-%d\n  image: registry.example.com/team/service:%d\n  env:\n    LOG_LEVEL: info\n    REGION: eu-west-1\n", i, i)
		fmt.Fprintf(&buf, "{\"name\": \"pkg-%d\", \"version\": \"1.%d.0\", \"resolved\": \"https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.%d.0.tgz\", \"integrity\": \"sha512-%s\"},\n",
			i, i, i, i, i, awstest.FakeSessionToken(fmt.Sprint(i))[20:106])
		if i%100 == 0 {
			fmt.Fprintf(&buf, "aws_access_key_id = %s\naws_secret_access_key = %s\n",
				awstest.FakeKeyID(fmt.Sprint(i), 123456789012), awstest.FakeSecret(fmt.Sprint(i)))
		}
	}
	return buf.Bytes()
}

// reportCPU adds throughput per CPU second (the benchmarks run on one
// goroutine, so this is one core's speed even on a loaded machine).
func reportCPU(b *testing.B, size int, cpu0 float64) {
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/cpu/1e6, "cpu-MB/s")
	}
}

// BenchmarkFind measures the detector on mixed source text.
func BenchmarkFind(b *testing.B) {
	data := benchCorpus(b)
	d := NewDetector()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		if len(d.Find(data)) == 0 {
			b.Fatal("no keys found in the benchmark corpus")
		}
	}
	reportCPU(b, len(data), cpu0)
}

// BenchmarkFindReader measures the streaming path on the same text.
func BenchmarkFindReader(b *testing.B) {
	data := benchCorpus(b)
	d := NewDetector()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		if _, err := d.FindReader(bytes.NewReader(data), func(Match) {}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, len(data), cpu0)
}

// The straightforward ways to find bounded key ids, for comparison: the
// exact boundary rule, and the \b shortcut most scanners use.
var (
	idRegexp     = regexp.MustCompile(`(?:^|[^A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?:[^A-Za-z0-9]|$)`)
	idRegexpWord = regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`)
)

// BenchmarkRegexpIDs does the id matching alone with regexp, for the ratio.
func BenchmarkRegexpIDs(b *testing.B) {
	for name, re := range map[string]*regexp.Regexp{"boundary": idRegexp, "word": idRegexpWord} {
		b.Run(name, func(b *testing.B) {
			data := benchCorpus(b)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				if len(re.FindAllIndex(data, -1)) == 0 {
					b.Fatal("no keys found in the benchmark corpus")
				}
			}
			reportCPU(b, len(data), cpu0)
		})
	}
}
