package cloudtrail

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/gap"
)

// digestMarker names CloudTrail's digest files and folders: signatures over
// log files, not records.
const digestMarker = "CloudTrail-Digest"

// ReadDir reads every CloudTrail file under dir, in name order (which is
// time order within one region of CloudTrail's AWSLogs/ACCOUNT/CloudTrail/
// REGION/YYYY/MM/DD/ layout). Digest files are skipped silently; files that
// are not JSON by name, and files that are not regular, are warned about.
// With Since or Until, files whose CloudTrail name shows they were delivered
// outside the window are not opened. With more than one core, small files
// are decoded ahead (see readAhead); the sink still sees events in order.
// A tree that holds no file at all is warned about: it holds no CloudTrail.
func ReadDir(ctx context.Context, dir string, opts Options, sink Sink) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("read cloudtrail directory: %w", err)
	}
	ra := newReadAhead(ctx, opts, sink, cpuReadAhead())
	files := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			ra.warn(gap.New(p, bareErr(err)))
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == digestMarker || opts.dayOutsideWindow(p)) {
				files++ // left out on purpose: not an empty tree
				return filepath.SkipDir
			}
			return nil
		}
		files++
		return ra.read(smallFile(d), func(ctx context.Context, opts Options, sink Sink) error {
			return readDirEntry(ctx, p, d, opts, sink)
		})
	})
	if finished := ra.finish(); err == nil {
		err = finished
	}
	if err = stopIsDone(err); err != nil {
		return fmt.Errorf("read cloudtrail directory %s: %w", dir, err)
	}
	if files == 0 {
		opts.warn(gap.New(dir, errors.New("no CloudTrail log files in it: the directory is empty")))
	}
	return nil
}

// bareErr drops an os error's operation and path, which the gap names.
func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// smallFile reports whether d is a regular file small enough to read ahead.
func smallFile(d fs.DirEntry) bool {
	info, err := d.Info()
	return err == nil && info.Mode().IsRegular() && info.Size() <= readAheadMax
}

// readDirEntry reads one file met by ReadDir, or says why not.
func readDirEntry(ctx context.Context, p string, d fs.DirEntry, opts Options, sink Sink) error {
	name := d.Name()
	switch {
	case strings.Contains(name, digestMarker):
		return nil
	case !IsLogName(name):
		opts.warn(gap.New(p, errSkippedName))
		return nil
	case !opts.fileInWindow(name):
		return nil
	}
	info, err := os.Stat(p) // follows a symlink to the file it names

	if err != nil {
		opts.warn(gap.New(p, bareErr(err)))
		return nil
	}
	if !info.Mode().IsRegular() { // a FIFO or device would block or never end
		opts.warn(gap.New(p, errors.New("skipped: not a regular file")))
		return nil
	}
	err = readFile(ctx, p, opts, sink)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		opts.warn(gap.New(p, bareErr(err))) // gone or unreadable since the listing: the rest still counts
		return nil
	}
	return err
}

// errSkippedName is the reason a file whose name is not a log file's is not read.
var errSkippedName = errors.New("skipped: not a JSON file")

// IsLogName reports whether a file or key name is one the readers take:
// .json, .jsonl or .ndjson, optionally gzip-compressed (.gz).
func IsLogName(name string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".gz")
	for _, ext := range []string{".json", ".jsonl", ".ndjson"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// FileTime returns the delivery time in a CloudTrail log file name,
// ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz; ok is false for
// names of another shape.
func FileTime(name string) (t time.Time, ok bool) {
	parts := strings.Split(path.Base(filepath.ToSlash(name)), "_")
	if len(parts) < 5 || parts[1] != "CloudTrail" {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T1504Z", parts[3])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// deliveryLag bounds how long after an event CloudTrail delivers the file
// holding it (AWS states about 5 minutes on average, 15 at most; kept wide).
const deliveryLag = 2 * time.Hour

// fileInWindow reports whether a log file may hold events in the window.
// A file holds only events from before its delivery time, and from at most
// deliveryLag before it.
func (o Options) fileInWindow(name string) bool {
	t, ok := FileTime(name)
	if !ok {
		return true
	}
	if !o.Since.IsZero() && t.Before(o.Since) {
		return false
	}
	return o.Until.IsZero() || !t.Add(-deliveryLag).After(o.Until)
}

// dayOutsideWindow reports whether p is a YYYY/MM/DD folder of CloudTrail's
// layout whose files were all delivered outside the window.
func (o Options) dayOutsideWindow(p string) bool {
	if o.Since.IsZero() && o.Until.IsZero() {
		return false
	}
	day, ok := folderDay(filepath.ToSlash(p))
	if !ok {
		return false
	}
	if !o.Since.IsZero() && day.AddDate(0, 0, 1).Before(o.Since) {
		return true
	}
	return !o.Until.IsZero() && day.Add(-deliveryLag).After(o.Until)
}

// folderDay parses a path ending in .../CloudTrail/REGION/YYYY/MM/DD.
func folderDay(p string) (time.Time, bool) {
	parts := strings.Split(strings.TrimSuffix(p, "/"), "/")
	n := len(parts)
	if n < 5 || parts[n-5] != "CloudTrail" {
		return time.Time{}, false
	}
	day, err := time.Parse("2006/01/02", strings.Join(parts[n-3:], "/"))
	return day, err == nil
}
