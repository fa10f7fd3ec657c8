package cloudtrail_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// BenchmarkReadGzipLogFiles reads the invictus corpus as gzipped log files
// held in memory: decompression and decoding, no disk. Reported as MB/s of
// JSON and ns per event.
func BenchmarkReadGzipLogFiles(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(awstest.CorpusPath(b, "cloudtrail/invictus-aws-dataset"), "*.json"))
	var gzipped []string
	var size int64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(data))
		gzipped = append(gzipped, gz(b, string(data)))
	}
	b.SetBytes(size)
	b.ResetTimer()
	events := 0
	for range b.N {
		for _, g := range gzipped {
			err := cloudtrail.ReadReader(context.Background(), bytes.NewReader([]byte(g)), "bench", cloudtrail.Options{}, func(cloudtrail.Event) error {
				events++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}
