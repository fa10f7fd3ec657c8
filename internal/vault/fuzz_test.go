package vault

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeDoc: the decoder never panics, and whatever it accepts survives
// an encode/decode round trip unchanged.
func FuzzDecodeDoc(f *testing.F) {
	d := newDoc()
	d.Entries["prod"] = testEntry("prod")
	d.Sessions["prod"] = testSession("prod", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	good, err := encodeDoc(d)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(good), `{"version":1}`, `{"version":2}`, `{"version":1,"entries":{"":{}}}`,
		`{"version":1,"entries":{"a":{"access_key_id":"x","secret_access_key":"y","imported_at":"bad"}}}`,
		`{"version":1}{}`, `[]`, `null`, ``, `{"version":1,"sessions":{"k":{"access_key_id":1}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDoc(b)
		if err != nil {
			return
		}
		again, err := encodeDoc(d)
		if err != nil {
			t.Fatalf("encode of a decoded document: %v", err)
		}
		d2, err := decodeDoc(again)
		if err != nil {
			t.Fatalf("decode of a re-encoded document: %v", err)
		}
		if diff := cmp.Diff(d, d2, secretCmp, cmp.AllowUnexported(doc{})); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}
	})
}

// FuzzSniffBackend: the header sniffer reads untrusted bytes before any
// authentication; it never panics and only names backends it knows.
func FuzzSniffBackend(f *testing.F) {
	for _, seed := range []string{
		"age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2E 18\nbody\n--- mac\n",
		"age-encryption.org/v1\n-> X25519 abc\nbody\n", "age-encryption.org/v1\n-> \n", "age-encryption.org/v1\n-> scrypt a 99\n", "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		backend, logN, err := sniffBackend(b)
		if err != nil {
			return
		}
		if backend != BackendFile && backend != BackendKeyring || logN < 0 || logN > 30 {
			t.Errorf("sniffBackend = %q, %d", backend, logN)
		}
	})
}
