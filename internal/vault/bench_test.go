package vault

import (
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkOpenRead measures what `keywarden creds process` pays on every
// AWS CLI command: open a store of 20 entries and read one (a fresh Store
// each time, so no decryption is cached).
func BenchmarkOpenRead(b *testing.B) {
	cases := []struct {
		name    string
		backend string
		logN    int
	}{
		{"file-logN18", BackendFile, 18},
		{"file-logN16", BackendFile, 16},
		{"file-logN15", BackendFile, 15},
		{"file-logN14", BackendFile, 14},
		{"file-logN10", BackendFile, 10},
		{"keyring-mock", BackendKeyring, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.backend == BackendKeyring {
				mockKeyring(b)
			} else {
				cleanEnv(b)
				b.Setenv(EnvPassphrase, testPass)
			}
			path := filepath.Join(b.TempDir(), "vault.age")
			s, err := Open(Options{Path: path, Backend: c.backend, ScryptLogN: c.logN})
			if err != nil {
				b.Fatal(err)
			}
			// One write of all 20 entries: each Put would cost an encryption.
			err = s.update(func(d *doc) error {
				for i := range 20 {
					p := "profile-" + strconv.Itoa(i)
					d.Entries[p] = testEntry(p)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				r, err := Open(Options{Path: path})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Get("profile-7"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
