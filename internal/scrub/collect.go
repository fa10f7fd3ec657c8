package scrub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// limits bound the work of one scrub, so that a home with a huge ~/.config,
// a symlink into / or a multi-gigabyte log costs a warning, not the machine.
type limits struct {
	maxDepth     int   // directory levels walked below a tree place or an extra dir
	maxFiles     int   // files scanned in all
	maxBytes     int64 // bytes scanned in all (sum of file sizes)
	maxFileSize  int64 // a file found in a walked tree larger than this is not a config file
	maxNamedSize int64 // the same for files named by a place (shell history grows large)
}

// defaultLimits: a developer home's dotfiles are a few megabytes; ~/.config
// of a desktop user a few thousand files. The budgets are ten times that.
var defaultLimits = limits{
	maxDepth:     8,
	maxFiles:     50_000,
	maxBytes:     512 << 20,
	maxFileSize:  4 << 20,
	maxNamedSize: 64 << 20,
}

// skipDirs are directory names never descended into: dependencies, git
// objects (scan history with `keywarden scan --git`), caches and browser
// storage, which are large, binary and not where a person pastes a key.
var skipDirs = map[string]bool{
	"node_modules": true, ".git": true, ".hg": true, ".svn": true, "vendor": true, "__pycache__": true,
	".venv": true, "venv": true, "site-packages": true,
	"cache": true, "Cache": true, "caches": true, "Caches": true, ".cache": true, "CachedData": true,
	"Code Cache": true, "GPUCache": true, "CacheStorage": true, "ShaderCache": true, "GrShaderCache": true,
	"DawnCache": true, "DawnGraphiteCache": true, "Service Worker": true, "IndexedDB": true,
	"Crashpad": true, "logs": true, "Trash": true, "History": true,
}

// target is one file to scan: its path as the user sees it and its size.
type target struct {
	path string
	size int64
	kind sharedKind // set for AWS shared files, to attribute keys to profiles
}

// collector turns places into the list of files to scan, each real file once.
type collector struct {
	ctx   context.Context
	lim   limits
	warn  func(error)
	seen  map[string]bool // real paths already listed
	files []target
	bytes int64
	full  bool
	quiet int // files of walked trees left out for their size: warned about once per tree
}

func newCollector(ctx context.Context, lim limits, warn func(error)) *collector {
	return &collector{ctx: ctx, lim: lim, warn: warn, seen: map[string]bool{}}
}

// place adds the files a place (see Places) names. Missing paths are not an
// error: most homes have few of the places.
func (c *collector) place(p string) {
	if dir, ok := isTree(p); ok {
		c.tree(dir, false)
		return
	}
	if hasMeta(p) {
		c.glob(p)
		return
	}
	c.named(p, false)
}

// named adds one path: a regular file, or (when explicit, as the user's
// extra dirs are) a directory tree. Symlinks are followed here: one step,
// to one file or to a tree walked without following any further link.
func (c *collector) named(p string, explicit bool) {
	fi, err := os.Stat(p)
	if err != nil {
		if explicit || !isMissing(err) {
			c.warn(fmt.Errorf("stat %s: %w", p, bareErr(err)))
		}
		return
	}
	switch {
	case fi.IsDir() && explicit:
		c.tree(p, true)
	case fi.Mode().IsRegular():
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			c.warn(fmt.Errorf("resolve %s: %w", p, bareErr(err)))
			return
		}
		if pseudoFile(real) {
			c.warn(fmt.Errorf("skip %s: it links to %s, a system file", p, real))
			return
		}
		c.add(real, target{path: p, size: fi.Size(), kind: kindOf(p)}, c.lim.maxNamedSize, true)
	case explicit:
		// A pipe or device would block or never end.
		c.warn(fmt.Errorf("skip %s: not a regular file", p))
	}
}

// add lists a file unless its real path is listed already or a limit says no.
func (c *collector) add(real string, t target, maxSize int64, loud bool) {
	if c.seen[real] {
		return
	}
	c.seen[real] = true
	if t.size > maxSize {
		if loud {
			c.warn(fmt.Errorf("skip %s: %d bytes, over the %d-byte limit", t.path, t.size, maxSize))
		} else {
			c.quiet++
		}
		return
	}
	if c.full {
		return
	}
	if len(c.files) >= c.lim.maxFiles || c.bytes+t.size > c.lim.maxBytes {
		c.full = true
		c.warn(fmt.Errorf("scrub budget of %d files or %d bytes reached at %s: later places are not scanned",
			c.lim.maxFiles, c.lim.maxBytes, t.path))
		return
	}
	c.bytes += t.size
	c.files = append(c.files, t)
}

// globs expands patterns whose wildcards may be in the directory part and in
// the name: each matching directory is read once for all name patterns of
// that directory pattern, instead of once per pattern as filepath.Glob would.
func (c *collector) globs(patterns []string) {
	type group struct {
		dir   string
		names []string
	}
	var order []*group
	byDir := map[string]*group{}
	for _, p := range patterns {
		d, n := filepath.Split(p)
		g := byDir[d]
		if g == nil {
			g = &group{dir: d}
			byDir[d] = g
			order = append(order, g)
		}
		g.names = append(g.names, n)
	}
	for _, g := range order {
		dirs := []string{filepath.Clean(g.dir)}
		if hasMeta(g.dir) {
			dirs, _ = filepath.Glob(filepath.Clean(g.dir)) // only ErrBadPattern, and ours are good
		}
		for _, d := range dirs {
			if c.ctx.Err() != nil {
				return
			}
			c.matchIn(d, g.names)
		}
	}
}

// glob expands one pattern.
func (c *collector) glob(p string) { c.globs([]string{p}) }

// matchIn adds the entries of dir whose names match any of names. Entries are
// stat'ed through symlinks (one step), so a linked .env is found too.
func (c *collector) matchIn(dir string, names []string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if !isMissing(err) && !errors.Is(err, fs.ErrPermission) {
			c.warn(fmt.Errorf("read dir %s: %w", dir, bareErr(err)))
		}
		return
	}
	for _, e := range ents {
		for _, n := range names {
			if ok, _ := filepath.Match(n, e.Name()); ok {
				c.named(filepath.Join(dir, e.Name()), false)
				break
			}
		}
	}
}

// tree walks dir (following dir itself when it is a symlink, nothing below),
// adding regular files to a bounded depth.
//
// A tree the user named explicitly is walked wherever it is, except in a
// kernel file system; a place of Places is not walked when it resolves to a
// system directory.
func (c *collector) tree(dir string, explicit bool) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		if !isMissing(err) {
			c.warn(fmt.Errorf("resolve %s: %w", dir, bareErr(err)))
		}
		return
	}
	if explicit && pseudoFile(real) || !explicit && systemTree(real) {
		c.warn(fmt.Errorf("skip %s: it links to %s, a system directory", dir, real))
		return
	}
	quietBefore := c.quiet
	err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if cerr := c.ctx.Err(); cerr != nil {
			return cerr
		}
		rel, _ := filepath.Rel(real, p)
		if err != nil {
			c.warn(fmt.Errorf("read %s: %w", filepath.Join(dir, rel), bareErr(err)))
			return nil
		}
		return c.visit(d, dir, p, rel)
	})
	if err != nil && c.ctx.Err() == nil {
		c.warn(fmt.Errorf("walk %s: %w", dir, err))
	}
	// Big files in a tree are databases and logs, not settings: one line
	// says how many were left out, not one per file.
	if n := c.quiet - quietBefore; n > 0 {
		c.warn(fmt.Errorf("skip %d files under %s larger than %d bytes", n, dir, c.lim.maxFileSize))
	}
}

// visit handles one entry of a tree walk.
func (c *collector) visit(d fs.DirEntry, userDir, p, rel string) error {
	if rel == "." {
		return nil
	}
	if d.IsDir() {
		if skipDirs[d.Name()] || strings.Count(rel, string(filepath.Separator)) >= c.lim.maxDepth {
			return filepath.SkipDir
		}
		return nil
	}
	if !d.Type().IsRegular() {
		return nil // symlinks (no loops, no leaving the tree), devices, pipes, sockets
	}
	if c.full {
		return filepath.SkipAll
	}
	fi, err := d.Info()
	if err != nil {
		return nil // gone since the directory was read
	}
	disp := filepath.Join(userDir, rel)
	c.add(p, target{path: disp, size: fi.Size(), kind: kindOf(disp)}, c.lim.maxFileSize, false)
	return nil
}

func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// bareErr drops an os error's operation and path, which the caller names itself.
func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// pseudoFile reports whether a real path is in a kernel file system, whose
// "regular" files can block forever (/proc/kmsg) or never end: a symlinked
// dotfile may point anywhere, but never there.
func pseudoFile(real string) bool {
	for _, d := range []string{"/proc", "/sys", "/dev"} {
		if real == d || strings.HasPrefix(real, d+"/") {
			return true
		}
	}
	return false
}

// systemTree reports whether a tree place resolves to the root or a system
// directory: a ~/.config that links to / would have the scrub walk the
// machine, which is not the user's home and not what they asked for.
func systemTree(real string) bool {
	if pseudoFile(real) {
		return true
	}
	switch real {
	case "/", "/etc", "/usr", "/var", "/bin", "/sbin", "/lib", "/lib64", "/opt", "/boot", "/run",
		"/System", "/Library", "/private":
		return true
	}
	return false
}
