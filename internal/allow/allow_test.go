package allow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/scan"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFindsTomlInRoot(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, ".keywarden.toml", "[allow]\npaths = [\"testdata/**\"]\nfingerprints = [\"abc\"]\nkey_ids = [\"AKIDX\"]\n")
	got, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	want := List{Paths: []string{"testdata/**"}, Fingerprints: []string{"abc"}, KeyIDs: []string{"AKIDX"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestLoadReadsYaml(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, ".keywarden.yaml", "allow:\n  paths:\n    - \"**/*.md\"\n")
	got, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !got.SkipPath("docs/a.md") || got.SkipPath("main.go") {
		t.Errorf("yaml paths not applied: %+v", got)
	}
}

func TestLoadWithoutConfigIsEmpty(t *testing.T) {
	got, err := Load(t.TempDir(), "")
	if err != nil || len(got.Paths)+len(got.Fingerprints)+len(got.KeyIDs) != 0 {
		t.Fatalf("Load = %+v, %v; want empty list", got, err)
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		"unknown key":  "[allow]\npath = [\"x\"]\n",
		"bad toml":     "[allow\n",
		"bad glob":     "[allow]\npaths = [\"a/[b\"]\n",
		"unknown yaml": "allow:\n  pathz: [x]\n",
	}
	tests["past the size bound"] = "# " + strings.Repeat("x", 1<<20) + "\n"
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			ext := ".toml"
			if strings.Contains(name, "yaml") {
				ext = ".yaml"
			}
			p := write(t, dir, "cfg"+ext, body)
			if _, err := Load(dir, p); err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("Load(%q) error = %v; want an error naming the file", body, err)
			}
		})
	}
}

func TestSkipPathMatchesGlobs(t *testing.T) {
	l := List{Paths: []string{"testdata/**", "**/*.example", "vendor/*"}}
	tests := map[string]bool{
		"testdata/a/b.env": true,
		"./testdata/x":     true,
		"cfg/prod.example": true,
		"vendor/x.go":      true,
		"vendor/sub/x.go":  false,
		"src/testdata.go":  false,
		"deploy/prod.env":  false,
	}
	for path, want := range tests {
		if got := l.SkipPath(path); got != want {
			t.Errorf("SkipPath(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestAllowsByFingerprintOrKeyID(t *testing.T) {
	l := List{Fingerprints: []string{"fp1"}, KeyIDs: []string{"AKID1"}}
	tests := []struct {
		f    scan.Finding
		want bool
	}{
		{scan.Finding{Fingerprint: "fp1", KeyID: "other"}, true},
		{scan.Finding{Fingerprint: "fp2", KeyID: "AKID1"}, true},
		{scan.Finding{Fingerprint: "fp2", KeyID: "AKID2"}, false},
		{scan.Finding{Fingerprint: "fp2"}, false},
	}
	for _, tt := range tests {
		if got := l.Allows(tt.f); got != tt.want {
			t.Errorf("Allows(%+v) = %v, want %v", tt.f, got, tt.want)
		}
	}
}

// TestLoadOfADeviceIsBounded: --config /dev/zero is refused, not read
// until memory runs out.
func TestLoadOfADeviceIsBounded(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	if _, err := Load(t.TempDir(), "/dev/zero"); err == nil || !strings.Contains(err.Error(), "read allowlist /dev/zero: larger than 1 MiB, not an allowlist") {
		t.Errorf("Load(/dev/zero) error = %v; want it refused as too large", err)
	}
}

func TestLoadConfigReadsTheCanaryAccounts(t *testing.T) {
	for name, body := range map[string]string{
		".keywarden.toml": "[allow]\nkey_ids = [\"x\"]\n[canary]\naccounts = [\"123456789012\", \"210987654321\"]\n",
		".keywarden.yaml": "canary:\n  accounts: [\"123456789012\", \"210987654321\"]\n",
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(dir, "")
		if err != nil || len(cfg.Canary.Accounts) != 2 || cfg.Canary.Accounts[1] != "210987654321" {
			t.Errorf("%s: %+v, %v", name, cfg, err)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".keywarden.toml"), []byte("[canary]\naccounts = [\"12345678901a\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), `"12345678901a": want a 12-digit AWS account id`) {
		t.Errorf("a bad account: %v", err)
	}
}
