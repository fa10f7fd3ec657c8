// Package allow holds what the user told keywarden not to report: paths to
// skip, fingerprints and key ids to ignore, and the team's own canary
// accounts, read from .keywarden.toml or .keywarden.yaml in the scanned root.
package allow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"github.com/keywarden/keywarden/internal/bounded"
	"github.com/keywarden/keywarden/internal/scan"
)

// ConfigNames are the file names looked for in a scanned root, in order.
var ConfigNames = []string{".keywarden.toml", ".keywarden.yaml", ".keywarden.yml"}

// Config is the file's shape. Unknown keys are an error, so a typo can't silently allow nothing.
type Config struct {
	Allow  List   `toml:"allow" yaml:"allow"`
	Canary Canary `toml:"canary" yaml:"canary"`
}

// Canary is the [canary] table: the team's own canary accounts, whose
// keys scan --verify reports as likely canaries without sending them to
// STS (as it does for the public canary-token accounts).
type Canary struct {
	Accounts []string `toml:"accounts" yaml:"accounts"`
}

// List is the allowlist: a finding matching any entry is not reported.
type List struct {
	Paths        []string `toml:"paths" yaml:"paths"`               // doublestar globs over slash paths relative to the root ("testdata/**", "**/*.md")
	Fingerprints []string `toml:"fingerprints" yaml:"fingerprints"` // finding fingerprints, from an earlier report
	KeyIDs       []string `toml:"key_ids" yaml:"key_ids"`           // key ids known to be fake or dead everywhere
}

// Load reads the allowlist file at path; an empty path looks for ConfigNames in
// root and returns an empty list when none is there.
func Load(root, path string) (List, error) {
	cfg, err := LoadConfig(root, path)
	return cfg.Allow, err
}

// LoadConfig reads the whole file as Load finds it: the allowlist and the
// canary accounts. No file is an empty Config.
func LoadConfig(root, path string) (Config, error) {
	if path == "" {
		found, err := find(root)
		if err != nil || found == "" {
			return Config{}, err
		}
		path = found
	}
	data, err := readBounded(path)
	if err != nil {
		return Config{}, fmt.Errorf("read allowlist %s: %w", path, err)
	}
	cfg, err := parse(path, data)
	if err != nil {
		return Config{}, fmt.Errorf("parse allowlist %s: %w", path, err)
	}
	for _, p := range cfg.Allow.Paths {
		if !doublestar.ValidatePattern(p) {
			return Config{}, fmt.Errorf("allowlist %s: bad path pattern %q", path, p)
		}
	}
	for _, a := range cfg.Canary.Accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return Config{}, fmt.Errorf("allowlist %s: [canary] accounts: %q: want a 12-digit AWS account id", path, a)
		}
	}
	return cfg, nil
}

// find returns the first config file present in root (a directory), or "".
func find(root string) (string, error) {
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return "", nil
	}
	for _, name := range ConfigNames {
		p := filepath.Join(root, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("stat %s: %w", p, err)
		}
	}
	return "", nil
}

func parse(path string, data []byte) (Config, error) {
	var cfg Config
	if strings.HasSuffix(path, ".toml") {
		md, err := toml.Decode(string(data), &cfg)
		if err != nil {
			return cfg, err
		}
		if und := md.Undecoded(); len(und) > 0 {
			return cfg, fmt.Errorf("unknown key %q", und[0].String())
		}
		return cfg, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty YAML file decodes to io.EOF: an empty config, not an error.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, err
	}
	return cfg, nil
}

// Merge returns the union of two lists (config file plus command-line additions).
func (l List) Merge(o List) List {
	return List{
		Paths:        append(append([]string(nil), l.Paths...), o.Paths...),
		Fingerprints: append(append([]string(nil), l.Fingerprints...), o.Fingerprints...),
		KeyIDs:       append(append([]string(nil), l.KeyIDs...), o.KeyIDs...),
	}
}

// SkipPath reports whether rel (slash-separated, relative to the root) is allowlisted.
func (l List) SkipPath(rel string) bool {
	rel = strings.TrimPrefix(filepath.ToSlash(rel), "./")
	for _, p := range l.Paths {
		if ok, _ := doublestar.Match(p, rel); ok {
			return true
		}
	}
	return false
}

// Allows reports whether a finding is allowlisted by fingerprint or key id.
// Paths are judged by SkipPath before content is read.
func (l List) Allows(f scan.Finding) bool {
	for _, fp := range l.Fingerprints {
		if fp == f.Fingerprint {
			return true
		}
	}
	for _, id := range l.KeyIDs {
		if id != "" && id == f.KeyID {
			return true
		}
	}
	return false
}

// maxFile bounds what Load reads: an allowlist is a few kilobytes, and
// --config /dev/zero must not exhaust memory.
const maxFile = 1 << 20

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return bounded.ReadAll(f, maxFile, "an allowlist")
}
