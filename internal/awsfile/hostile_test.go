package awsfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestHostileSharedFiles: a shared file damaged or hostile (NUL bytes left
// by a crash, a 1 MB line, duplicate sections, a file past the size bound)
// either resolves as the SDK reads it or fails with a reason that says what
// is wrong with the file, never a misleading one.
func TestHostileSharedFiles(t *testing.T) {
	id, sec := awstest.FakeKeyID("hostile", 123456789012), awstest.FakeSecret("hostile")
	keys := "aws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\n"
	tests := []struct {
		name, creds string
		err         error  // nil: resolves to the key
		says        string // in the error
	}{
		{name: "duplicate sections merge", creds: "[p]\naws_access_key_id = X\n[q]\n[p]\n" + keys},
		{name: "a 1 MB line and NUL bytes elsewhere",
			creds: "[q]\nnote = " + strings.Repeat("x", 1<<20) + "\n\x00\x00\n[p]\n" + keys + "\x00\n"},
		{name: "a file all NUL bytes (damaged in a crash)", creds: strings.Repeat("\x00", 4096),
			err: ErrProfileNotFound, says: "credentials (which holds NUL bytes: a damaged file?)"},
		{name: "NUL bytes in the key", creds: "[p]\naws_access_key_id = " + id + "\x00\x00\naws_secret_access_key = " + sec + "\n",
			err: ErrDamagedKey, says: `resolve profile "p" in `},
		{name: "NUL bytes in the secret", creds: "[p]\naws_access_key_id = " + id + "\naws_secret_access_key = " + sec[:20] + "\x00" + sec[21:] + "\n",
			err: ErrDamagedKey, says: "which no request can be signed with"},
		{name: "past the size bound", creds: "[p]\n" + keys + strings.Repeat("#\n", maxSize/2),
			says: "larger than 4 MiB, not an aws shared file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(path, []byte(tc.creds), 0o600); err != nil {
				t.Fatal(err)
			}
			f, _, err := Load(path, Credentials)
			if err == nil {
				var p Profile
				p, err = Resolve(f, nil, "p")
				if err == nil && p.AccessKeyID != id {
					t.Errorf("resolved key %q, want %q", p.AccessKeyID, id)
				}
			}
			switch {
			case tc.says == "" && err != nil:
				t.Errorf("err = %v, want the key", err)
			case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)):
				t.Errorf("err = %v, want one saying %q", err, tc.says)
			case errors.Is(err, ErrDamagedKey) && !strings.Contains(err.Error(), path):
				t.Errorf("err = %v, want it to name %s", err, path)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), sec[:8]) {
				t.Errorf("the error quotes the secret: %v", err)
			}
		})
	}
}
