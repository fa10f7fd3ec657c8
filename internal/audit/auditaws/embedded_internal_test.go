package auditaws

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"strings"
	"testing"
)

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeUserData(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	huge := bytes.Repeat([]byte("a"), embeddedMaxUserData+10)
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr string
	}{
		{"plain text is base64-decoded", b64([]byte("#!/bin/sh\necho hi\n")), []byte("#!/bin/sh\necho hi\n"), ""},
		{"gzip is decompressed", b64(gz(t, []byte("#cloud-config\n"))), []byte("#cloud-config\n"), ""},
		{"a gzip bomb is cut at the cap", b64(gz(t, huge)), huge[:embeddedMaxUserData], "exceeds"},
		{"broken gzip keeps the raw bytes", b64([]byte{0x1f, 0x8b, 1, 2}), []byte{0x1f, 0x8b, 1, 2}, "gzip"},
		{"not base64 is scanned as is", "not base64!", []byte("not base64!"), "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeUserData(tt.in)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("decoded %d bytes %.40q, want %d bytes %.40q", len(got), got, len(tt.want), tt.want)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzDecodeUserData(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(gz(f, []byte("#cloud-config\n"))))
	f.Add("aGVsbG8=")
	f.Add("H4sI")
	f.Fuzz(func(t *testing.T, in string) {
		out, _ := decodeUserData(in)
		if len(out) > embeddedMaxUserData && len(out) > len(in) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(in))
		}
	})
}
