package source

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/scan"
)

// BenchmarkScanFS scans a generated source-like tree: 600 files of 1-40 KiB,
// one in fifty holding a key pair, plus twelve of 128 KiB to 4 MiB. The sub-benchmarks
// vary the size up to which files are read whole rather than streamed; this
// is how DefaultStreamThreshold was chosen.
func BenchmarkScanFS(b *testing.B) {
	root := b.TempDir()
	var total int64
	for i := range 600 {
		data := textFiller(1<<10 + (i*7919)%(39<<10))
		if i%50 == 0 {
			c, _ := creds(fmt.Sprint("bench", i))
			data = append(data, c...)
		}
		writeFile(b, filepath.Join(root, fmt.Sprint("pkg", i%23), fmt.Sprint("sub", i%5), fmt.Sprint("f", i, ".go")), data)
		total += int64(len(data))
	}
	for i := range 12 { // 128 KiB .. 4 MiB
		data := textFiller(128 << 10 << (i % 6))
		writeFile(b, filepath.Join(root, fmt.Sprint("big", i, ".log")), data)
		total += int64(len(data))
	}
	for _, threshold := range []int64{1, 64 << 10, 256 << 10, 1 << 20, 2 << 20, 4 << 20} {
		b.Run(fmt.Sprint("whole-up-to-", threshold>>10, "KiB"), func(b *testing.B) {
			b.SetBytes(total)
			opts := FSOptions{StreamThreshold: threshold}
			for b.Loop() {
				env := scan.Env{Detector: scan.NewDetector(), Sink: &scan.Collector{}, Stats: &scan.Stats{}}
				if err := ScanFS(context.Background(), root, opts, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
