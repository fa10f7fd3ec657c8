package source

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/scan"
)

// FuzzArchive feeds arbitrary bytes to every archive reader. It must never
// panic (open is called without scanTop's recover) and never hang: small
// limits bound the work per input.
func FuzzArchive(f *testing.F) {
	c, _ := creds("fuzz")
	f.Add(zipOf(f, member{"a.env", []byte(c)}))
	f.Add(tarOf(f, member{"a.env", []byte(c)}))
	f.Add(gzOf(f, tarOf(f, member{"a.env", []byte(c)})))
	f.Add(zstdOf(f, zipOf(f, member{"a.env", []byte(c)})))
	f.Add(gzOf(f, gzOf(f, []byte(c))))
	f.Add([]byte("BZh91AY&SY"))
	opts := FSOptions{Limits: ArchiveLimits{MaxExpanded: 4 << 20, MaxMember: 1 << 20, MaxMembers: 1000, MaxInMemory: 1 << 20}}
	f.Fuzz(func(t *testing.T, data []byte) {
		env := withDefaults(scan.Env{Sink: &scan.Collector{}, Warn: func(err error) {
			if strings.Contains(err.Error(), "internal error") { // scanTop's recover: a decoder panicked
				t.Error(err)
			}
		}})
		for _, k := range []kind{kindZip, kindTar, kindGzip, kindZstd, kindBzip2} {
			run := newArchiveRun(context.Background(), env, opts, "fuzz", "file")
			run.scanTop(k, bytes.NewReader(data), bytes.NewReader(data), int64(len(data)))
			run = newArchiveRun(context.Background(), env, opts, "fuzz", "stdin")
			run.scanTop(k, bytes.NewReader(data), nil, -1)
		}
	})
}
