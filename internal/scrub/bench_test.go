package scrub

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkScanConfig10k scrubs a home whose ~/.config holds 10,000 text
// files (100 applications x 10 directories x 10 files, 1-3 KiB of settings
// each) with a key in 10 of them, plus the usual dotfiles.
//
//	go test -run '^$' -bench ScanConfig10k -benchtime 10x ./internal/scrub/
func BenchmarkScanConfig10k(b *testing.B) {
	home := b.TempDir()
	filler := strings.Repeat("\"editor.fontSize\": 14,\n\"window.zoomLevel\": 1,\n\"files.autoSave\": \"onFocusChange\",\n", 40)
	var bytes int64
	for app := range 100 {
		for dir := range 10 {
			for file := range 10 {
				content := "{\n" + filler[:1024+(app*37+file*101)%2048] + "}\n"
				if dir == 0 && file == 0 && app%10 == 0 {
					k := newKey(fmt.Sprint("bench", app))
					content = fmt.Sprintf("{\n\"accessKeyId\": %q,\n\"secretAccessKey\": %q\n}\n", k.id, k.sec) + content
				}
				bytes += int64(len(content))
				write(b, home, filepath.Join(".config", fmt.Sprintf("app%03d", app), fmt.Sprintf("d%d", dir), fmt.Sprintf("f%d.json", file)), content)
			}
		}
	}
	k := newKey("bench-rc")
	write(b, home, ".bashrc", fmt.Sprintf("export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n", k.id, k.sec))
	b.SetBytes(bytes)
	b.ResetTimer()
	for b.Loop() {
		got, err := Scan(context.Background(), home, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 11 {
			b.Fatalf("found %d keys, want 11", len(got))
		}
	}
}
