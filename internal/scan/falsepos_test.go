package scan

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
)

// TestFindFalsePositives lists text that looks like keys and is not.
func TestFindFalsePositives(t *testing.T) {
	sha1hex := func(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	b40 := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return base64.StdEncoding.EncodeToString(h[:])[:40]
	}
	realSecret := awstest.FakeSecret("fp")
	tests := []struct{ name, text string }{
		{"git sha1 under a secret name", "aws_secret_access_key = " + sha1hex("a") + "\n"},
		{"git log", "commit " + sha1hex("b") + "\nAuthor: A <a@example.com>\n"},
		{"upper-case hex digest", "secret_key: " + strings.ToUpper(sha1hex("c")) + "\n"},
		{"unnamed 40-char base64 blob", "checksum = " + b40("d") + "\n"},
		{"40-char blob under another name", "github_token = " + b40("e") + "\n"},
		{"sha512 integrity", `"integrity": "sha512-` + base64.StdEncoding.EncodeToString(make([]byte, 64)) + `"`},
		{"uuids", "id: 123e4567-e89b-12d3-a456-426614174000\nsecret_key: 123e4567-e89b-12d3-a456-426614174000\n"},
		{"aws documentation pair", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"},
		{"documentation id beside a random secret", "aws_access_key_id = AKIAI44QH8DHBEXAMPLE\naws_secret_access_key = " + realSecret + "\n"},
		{"look-alike prefix beside a secret", "aws_access_key_id = AKIV" + awstest.FakeKeyID("fp", 1)[4:] + "\naws_secret_access_key = " + realSecret + "\n"},
		{"placeholder id", "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX\n"},
		{"ascending placeholder id", "aws_access_key_id = AKIA1234567890ABCDEF\n"},
		{"placeholder secret", "aws_secret_access_key = YOUR_SECRET_ACCESS_KEY_HERE_1234567890ab\naws_secret_access_key = abcdefghijABCDEFGHIJ0123456789abcdefghij\n"},
		{"repeated-character secret", "aws_secret_access_key = " + strings.Repeat("aB3/", 10) + "\n"},
		{"iam unique ids", `{"UserId": "AIDA` + awstest.FakeKeyID("u", 1)[4:] + `", "RoleId": "AROA` + awstest.FakeKeyID("r", 1)[4:] + `", "Arn": "arn:aws:iam::123456789012:role/x"}`},
		{"unique ids beside a secret-shaped value", "AIPA" + awstest.FakeKeyID("p", 1)[4:] + " ANPA" + awstest.FakeKeyID("q", 1)[4:] + " " + b40("x") + "\n"},
		{"id glued to letters", "xAKIA" + awstest.FakeKeyID("g", 1)[4:] + " " + awstest.FakeKeyID("g", 2) + "Z\n"},
		{"java identifier", "aws_secret_access_key = AbstractSingletonProxyFactoryBeanHolder\n"},
		{"file path", "secret_key: src/main/java/com/example/aws/SecretKeyLoader/x\n"},
		{"s3-compatible (minio) key pair in go", "config[\"access_key_id\"] = \"Q3AM" + awstest.FakeKeyID("minio", 1)[4:] + "\"\nconfig[\"secret_access_key\"] = \"" + realSecret + "\"\n"},
		{"s3-compatible key pair in shell", "export MINIO_ACCESS_KEY=7WAS" + awstest.FakeKeyID("wasabi", 1)[4:] + "\nexport AWS_SECRET_ACCESS_KEY=" + realSecret + "\n"},
		{"pem line", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX1\n" + b40("pem") + "\n-----END CERTIFICATE-----\n"},
	}
	d := NewDetector()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ms := d.Find([]byte(tt.text)); len(ms) != 0 {
				t.Errorf("got %d matches, want none: %+v", len(ms), flatten(ms))
			}
		})
	}
}

// TestFindAllowComment drops what sits on a line marked keywarden:allow.
func TestFindAllowComment(t *testing.T) {
	id, sec := awstest.FakeKeyID("allow", 123456789012), awstest.FakeSecret("allow")
	tests := []struct {
		name string
		text string
		want []got
	}{
		{"allowed id", "key = " + id + " # keywarden:allow\n", nil},
		{"allowed pair on one line", `new BasicAWSCredentials("` + id + `", "` + sec + `"); // keywarden:allow`, nil},
		{"allowed secret line leaves the id", "aws_access_key_id = " + id + "\naws_secret_access_key = " + sec + " # keywarden:allow\n",
			[]got{{Rule: RuleKeyID, KeyID: id}}},
		{"marker elsewhere does not hide", "# keywarden:allow\nkey = " + id + "\n", []got{{Rule: RuleKeyID, KeyID: id}}},
	}
	d := NewDetector()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, flatten(d.Find([]byte(tt.text)))); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFindPositions checks 1-based line, byte column and offset at the first
// part of the credential.
func TestFindPositions(t *testing.T) {
	id, sec := awstest.FakeKeyID("pos", 123456789012), awstest.FakeSecret("pos")
	tests := []struct {
		name              string
		text              string
		line, col, offset int
	}{
		{"id first", "# creds\n[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\n", 3, 21, 38},
		{"secret first", "x\naws_secret_access_key=" + sec + "\naws_access_key_id=" + id + "\n", 2, 23, 24},
		{"multibyte before", "é = 1\nkey: " + id + "\n", 2, 6, 12},
		{"crlf lines", "a\r\nb\r\nkey: " + id + "\r\n", 3, 6, 11},
	}
	d := NewDetector()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := d.Find([]byte(tt.text))
			if len(ms) != 1 {
				t.Fatalf("got %d matches, want 1", len(ms))
			}
			m := ms[0]
			if m.Line != tt.line || m.Column != tt.col || m.Offset != int64(tt.offset) {
				t.Errorf("position = line %d col %d offset %d, want %d %d %d", m.Line, m.Column, m.Offset, tt.line, tt.col, tt.offset)
			}
		})
	}
}

// TestFindManyKeys keeps every key of a long file, in order.
func TestFindManyKeys(t *testing.T) {
	var b strings.Builder
	var want []string
	for i := 0; i < 200; i++ {
		id := awstest.FakeKeyID(fmt.Sprint(i), 300000000000+uint64(i)*1000003)
		fmt.Fprintf(&b, "line %d of filler text with some words\nkey%d = %s\n", i, i, id)
		want = append(want, id)
	}
	var gotIDs []string
	for _, m := range NewDetector().Find([]byte(b.String())) {
		gotIDs = append(gotIDs, m.KeyID)
	}
	if diff := cmp.Diff(want, gotIDs); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}
