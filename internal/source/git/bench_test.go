package git

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

// BenchmarkScanRepo scans the repository named by KEYWARDEN_BENCH_REPO
// (e.g. a mirror of a large project); it is skipped when the variable is unset.
func BenchmarkScanRepo(b *testing.B) {
	dir := os.Getenv("KEYWARDEN_BENCH_REPO")
	if dir == "" {
		b.Skip("KEYWARDEN_BENCH_REPO is not set")
	}
	for b.Loop() {
		var stats scan.Stats
		var sink scan.Collector
		env := scan.Env{Detector: scan.NewDetector(), Sink: &sink, Stats: &stats,
			Warn: func(err error) { b.Log("warning:", err) }}
		if err := ScanRepo(context.Background(), dir, Options{}, env); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(stats.Bytes.Load())/(1<<20), "MiB/op")
		b.ReportMetric(float64(stats.Objects.Load()), "blobs/op")
		b.ReportMetric(float64(len(sink.Findings())), "findings/op")
		reportRusage(b)
	}
}

// BenchmarkScanStaged times the pre-commit check on a typical commit: three
// files changed in a repository of a thousand.
func BenchmarkScanStaged(b *testing.B) {
	r := awstest.NewGitRepo(b)
	for i := range 1000 {
		r.Write(fmt.Sprintf("pkg%d/file%d.go", i%40, i), strings.Repeat("package main // some code\n", 200))
	}
	r.Commit("init")
	for i := range 3 {
		r.Write(fmt.Sprintf("pkg%d/file%d.go", i, i), strings.Repeat("func f() {} // edited\n", 300))
	}
	r.Git("add", "-A")
	env := scan.Env{Detector: scan.NewDetector(), Sink: &scan.Collector{}, Stats: &scan.Stats{}}
	for b.Loop() {
		if err := ScanStaged(context.Background(), r.Dir, Options{}, env); err != nil {
			b.Fatal(err)
		}
	}
}
