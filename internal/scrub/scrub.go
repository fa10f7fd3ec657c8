package scrub

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/source"
)

// Found is one plaintext key pair (or lone secret / key id) in a file.
type Found struct {
	Path string // the file as reached from home (a symlink keeps its own name); "a.zip!member" inside archives
	Rule string // scan.Rule: aws-access-key-pair, aws-session-credentials, aws-access-key-id, aws-secret-key
	Line int    // 1-based line of the first part of the key

	AccessKeyID     string
	SecretAccessKey secret.Secret // empty for a lone key id
	// Profile is, for AWS shared files, the profile the SDK reads this key
	// in; Profiles lists every such profile when several share the key
	// (Profile is the first). Empty elsewhere, and for a key the SDK does
	// not read (a shadowed duplicate line).
	Profile  string
	Profiles []string
	// Importable: a long-term key id with its secret, which the store can
	// take. Session credentials expire and lone halves grant nothing.
	Importable bool
}

// String describes the finding for people; the secret only ever appears
// redacted, as secret.Secret prints itself.
func (f Found) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %s", f.Path, f.Line, f.Rule)
	if f.AccessKeyID != "" {
		fmt.Fprintf(&b, " %s", f.AccessKeyID)
	}
	if !f.SecretAccessKey.IsZero() {
		fmt.Fprintf(&b, " secret %s", f.SecretAccessKey.Redacted())
	}
	if f.Profile != "" {
		fmt.Fprintf(&b, " profile %s", f.Profile)
	}
	if f.Importable {
		b.WriteString(" (importable)")
	}
	return b.String()
}

// Scan scans the places under home (see Places) and then the explicit files
// and directories in extra, and returns what it found, de-duplicated by key
// id and path, sorted by path and line. home may be empty to scan extra
// only. Missing places are fine; unreadable ones, files over the size limit
// and a spent budget are reported to warn (never with a secret in them), and
// the scan goes on. warn is called from one goroutine at a time and may be
// nil. The error is only the context's.
func Scan(ctx context.Context, home string, extra []string, warn func(error)) ([]Found, error) {
	return scanWith(ctx, home, extra, warn, defaultLimits)
}

func scanWith(ctx context.Context, home string, extra []string, warn func(error), lim limits) ([]Found, error) {
	warn = serialized(warn)
	c := newCollector(ctx, lim, warn)
	if home != "" {
		collectPlaces(c, Places(home))
	}
	for _, p := range extra {
		c.named(p, true)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	findings := scanFiles(ctx, c.files, warn)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results(c.files, findings), nil
}

// collectPlaces lists the files of places in order; runs of glob patterns
// are expanded together so each directory is read once.
func collectPlaces(c *collector, places []string) {
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			c.globs(batch)
			batch = batch[:0]
		}
	}
	for _, p := range places {
		if _, tree := isTree(p); !tree && hasMeta(p) {
			batch = append(batch, p)
			continue
		}
		flush()
		c.place(p)
	}
	flush()
}

// serialized makes warn safe to call from the scanning workers.
func serialized(warn func(error)) func(error) {
	if warn == nil {
		return func(error) {}
	}
	var mu sync.Mutex
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		warn(err)
	}
}

// scanFiles runs the scanner over each file with internal/source, which
// sniffs archives, skips binaries and streams big files, on as many workers
// as there are CPUs.
func scanFiles(ctx context.Context, files []target, warn func(error)) []scan.Finding {
	col := &scan.Collector{}
	env := scan.Env{Detector: scan.NewDetector(), Sink: col, Stats: &scan.Stats{}, Warn: warn}
	jobs := make(chan target)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for t := range jobs {
				if err := source.ScanFS(ctx, t.path, source.FSOptions{Workers: 1}, env); err != nil && ctx.Err() == nil {
					warn(err)
				}
			}
		})
	}
	for _, t := range files {
		if ctx.Err() != nil {
			break
		}
		jobs <- t
	}
	close(jobs)
	wg.Wait()
	return col.Findings()
}

// results turns findings into Founds: attributed to profiles in shared
// files, one per key id (or secret) and path, sorted by path and line.
func results(files []target, findings []scan.Finding) []Found {
	byDisp := make(map[string]target, len(files))
	for _, t := range files {
		byDisp[path.Clean(filepath.ToSlash(t.path))] = t
	}
	profiles := map[string][]profileKey{}
	best := map[string]Found{}
	for _, f := range findings {
		if f.Rule != scan.RuleKeyPair && f.Rule != scan.RuleSession && f.Rule != scan.RuleKeyID && f.Rule != scan.RuleSecretKey {
			continue
		}
		fd := Found{Path: f.Path, Rule: string(f.Rule), Line: f.Line, AccessKeyID: f.KeyID,
			SecretAccessKey: f.Secret, Importable: f.Rule == scan.RuleKeyPair}
		if t, ok := byDisp[f.Path]; ok {
			fd.Path = t.path
			if t.kind != notShared {
				ps, seen := profiles[t.path]
				if !seen {
					ps = sharedProfiles(t.path, t.kind)
					profiles[t.path] = ps
				}
				fd.Profiles = profilesOf(ps, f)
				if len(fd.Profiles) > 0 {
					fd.Profile = fd.Profiles[0]
				}
			}
		}
		key := fd.Path + "\x00" + fd.AccessKeyID
		if fd.AccessKeyID == "" {
			key += "\x00" + f.SecretSHA256
		}
		if old, ok := best[key]; !ok || better(fd, old) {
			best[key] = fd
		}
	}
	out := make([]Found, 0, len(best))
	for _, fd := range best {
		out = append(out, fd)
	}
	slices.SortFunc(out, func(a, b Found) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.AccessKeyID, b.AccessKeyID), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.SecretAccessKey.SHA256(), b.SecretAccessKey.SHA256()))
	})
	return out
}

// better chooses between two finds of one key in one file (a key exported
// twice in .bashrc, pasted a hundred times in a history file): the one the
// SDK reads in a profile, then a full pair over a half, then the first line.
func better(a, b Found) bool {
	if (a.Profile != "") != (b.Profile != "") {
		return a.Profile != ""
	}
	if a.Importable != b.Importable {
		return a.Importable
	}
	if ra, rb := a.SecretAccessKey.IsZero(), b.SecretAccessKey.IsZero(); ra != rb {
		return !ra
	}
	return a.Line < b.Line
}

// Importable lists the profiles of AWS shared files whose keys the store
// can take — every profile sharing such a key, since each must be pointed
// at the store — in order of the findings, and counts the findings it
// cannot take (keys elsewhere, session credentials, lone halves).
func Importable(found []Found) (profiles []string, outside int) {
	for _, f := range found {
		if !f.Importable || len(f.Profiles) == 0 {
			outside++
			continue
		}
		for _, p := range f.Profiles {
			if !slices.Contains(profiles, p) {
				profiles = append(profiles, p)
			}
		}
	}
	return profiles, outside
}
