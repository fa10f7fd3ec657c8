package scrub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/awsfile"
)

// FuzzScanSharedFile feeds hostile credentials files through the scrub: it
// must not fail or panic, and every profile it names must hold that key as
// the SDK's reader (internal/awsfile) sees the file.
func FuzzScanSharedFile(f *testing.F) {
	a, b := newKey("fuzz-a"), newKey("fuzz-b")
	f.Add([]byte(fmt.Sprintf("[a]\naws_access_key_id=%s\naws_secret_access_key=%s\n[b]\naws_access_key_id = %s\naws_secret_access_key = %s\n", a.id, a.sec, b.id, b.sec)))
	f.Add([]byte(fmt.Sprintf("[a]\naws_access_key_id=%s\n[a]\naws_secret_access_key=%s\naws_access_key_id=%s\n", a.id, a.sec, b.id)))
	f.Add([]byte(fmt.Sprintf("[profile a]\r\naws_access_key_id=\"%s\" ; old\r\n  aws_secret_access_key=%s\r\n", a.id, a.sec)))
	f.Add([]byte("[a]\nx=\"\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, ".aws", "credentials")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Scan(context.Background(), "", []string{p}, nil)
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		parsed, perr := awsfile.Parse(data, awsfile.Credentials)
		for _, fd := range got {
			if len(fd.Profiles) > 0 && perr != nil {
				t.Fatalf("profiles %q named in a file the sdk cannot read", fd.Profiles)
			}
			for _, name := range fd.Profiles {
				if id, _ := parsed.Get(name, "aws_access_key_id"); fd.AccessKeyID != "" && id != fd.AccessKeyID {
					t.Errorf("profile %q holds %q, not %q", name, id, fd.AccessKeyID)
				}
				if s, _ := parsed.Get(name, "aws_secret_access_key"); !fd.SecretAccessKey.IsZero() && s != fd.SecretAccessKey.Reveal() {
					t.Errorf("profile %q holds another secret than the one found", name)
				}
			}
			if fd.Importable && (fd.AccessKeyID == "" || fd.SecretAccessKey.IsZero()) {
				t.Errorf("importable find without both halves: %v", fd)
			}
		}
	})
}
