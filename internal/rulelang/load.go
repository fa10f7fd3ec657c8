package rulelang

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/keywarden/keywarden/internal/bounded"
)

// maxRuleFile bounds what one rules file may hold.
const maxRuleFile = 4 << 20

// Load reads user rules from a file or a directory of .yml/.yaml
// files: keywarden rules files and Sigma rules side by side. Errors in
// keywarden rules fail the load (they are the user's own); Sigma rules
// outside the supported subset go to warn as *SigmaSkip and are left out,
// since users bring whole catalogues. Ids must be unique across files.
func Load(path string, warn func(error)) ([]*Rule, error) {
	files, err := ruleFiles(path)
	if err != nil {
		return nil, err
	}
	var out []*Rule
	seen := map[string]string{}
	for _, f := range files {
		rules, err := loadRuleFile(f, warn)
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			if prev, dup := seen[r.ID]; dup {
				return nil, fmt.Errorf("%s: rule id %s already defined at %s", r.Source, r.ID, prev)
			}
			seen[r.ID] = r.Source
			out = append(out, r)
		}
	}
	return out, nil
}

func ruleFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := strings.ToLower(filepath.Ext(p))
		if !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read rules %s: %w", path, err)
	}
	sort.Strings(files)
	return files, nil
}

// readRuleFile reads file up to maxRuleFile and refuses it past that,
// without reading on (--rules /dev/zero).
func readRuleFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	defer f.Close()
	data, err := bounded.ReadAll(f, maxRuleFile, "")
	if err != nil {
		return nil, fmt.Errorf("read rules %s: %w", file, err)
	}
	return data, nil
}

func loadRuleFile(file string, warn func(error)) ([]*Rule, error) {
	data, err := readRuleFile(file)
	if err != nil {
		return nil, err
	}
	if !IsSigma(data) {
		return Parse(file, data)
	}
	r, err := ParseSigma(file, data)
	var skip *SigmaSkip
	if errors.As(err, &skip) {
		if warn != nil {
			warn(skip)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []*Rule{r}, nil
}
