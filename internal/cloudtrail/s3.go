package cloudtrail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path"
	"strings"

	"github.com/keywarden/keywarden/internal/gap"
)

// ObjectStore is the object storage a trail delivers its log files to: S3
// in AWS (cloudtrailaws.S3). The reading logic (order, read-ahead, day
// folders, digests) is this package's; a store only lists and fetches.
type ObjectStore interface {
	// List yields the objects of bucket under prefix whose keys sort after
	// startAfter ("": from the first), in key order. A listing that fails
	// yields its error, once, last.
	List(ctx context.Context, bucket, prefix, startAfter string) iter.Seq2[Object, error]
	// Get opens an object's body. An object that does not exist is an
	// error matching fs.ErrNotExist.
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// Object is one listed object.
type Object struct {
	Key  string
	Size int64 // bytes
}

// ReadS3 reads every CloudTrail log file under s3://bucket/prefix in key
// order, with ReadDir's rules for digests, names and the time window. When
// prefix is one region's folder (AWSLogs/[ORG/]ACCOUNT/CloudTrail/REGION/)
// and Since is set, the listing starts at Since's day folder, so earlier
// days are neither listed nor fetched. Objects are fetched a few ahead
// (see readAhead); the sink still sees them in key order.
func ReadS3(ctx context.Context, store ObjectStore, bucket, prefix string, opts Options, sink Sink) error {
	ra := newReadAhead(ctx, opts, sink, s3ReadAhead)
	var err error
	from, listed := startAfter(prefix, opts), 0
	for obj, listErr := range store.List(ctx, bucket, prefix, from) {
		if listErr != nil {
			err = fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, listErr)
			break
		}
		listed++
		key := obj.Key
		err = ra.read(obj.Size <= readAheadMax, func(ctx context.Context, opts Options, sink Sink) error {
			return readS3Object(ctx, store, bucket, key, opts, sink)
		})
		if err != nil {
			break
		}
	}
	if finished := ra.finish(); err == nil {
		err = finished
	}
	if err == nil && listed == 0 && from == "" { // the whole prefix was listed: it holds nothing
		opts.warn(gap.New("s3://"+bucket+"/"+prefix, errors.New("no CloudTrail log files in it: no object under this prefix")))
	}
	return stopIsDone(err)
}

// readS3Object reads one listed key, or says why not.
func readS3Object(ctx context.Context, store ObjectStore, bucket, key string, opts Options, sink Sink) error {
	name := "s3://" + bucket + "/" + key
	switch base := path.Base(key); {
	case strings.HasSuffix(key, "/"), strings.Contains(key, digestMarker+"/"), strings.Contains(base, digestMarker):
		return nil
	case !IsLogName(base):
		opts.warn(gap.New(name, errSkippedName))
		return nil
	case !opts.fileInWindow(base):
		return nil
	}
	body, err := store.Get(ctx, bucket, key)
	if err != nil {
		return fmt.Errorf("get %s: %w", name, err)
	}
	defer body.Close()
	return readStream(ctx, body, name, opts, sink)
}

// startAfter is the StartAfter key that skips the day folders before Since
// when prefix is one region's folder of CloudTrail's layout, else "".
func startAfter(prefix string, opts Options) string {
	if opts.Since.IsZero() || !isRegionPrefix(prefix) {
		return ""
	}
	dir := strings.TrimSuffix(prefix, "/") + "/"
	// Keys of Since's day sort after "DAY/" and every earlier day's before it.
	return dir + opts.Since.UTC().Format("2006/01/02") + "/"
}

// isRegionPrefix reports whether prefix ends at .../AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION.
func isRegionPrefix(prefix string) bool {
	parts := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	n := len(parts)
	if n < 4 || parts[n-2] != "CloudTrail" || parts[n-1] == "" || !isAccountID(parts[n-3]) {
		return false
	}
	for _, p := range parts[:n-3] {
		if p == "AWSLogs" {
			return true
		}
	}
	return false
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ReadFrom reads the source a user named: "s3://bucket/prefix" (through the
// store newStore opens, so this package needs no AWS configuration), "-" for
// standard input, a directory, or a file (a named pipe too: the user chose it).
func ReadFrom(ctx context.Context, source string, opts Options, newStore func(context.Context) (ObjectStore, error), sink Sink) error {
	switch {
	case strings.HasPrefix(source, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(source, "s3://"), "/")
		if bucket == "" {
			return fmt.Errorf("read %s: no bucket name", source)
		}
		if newStore == nil {
			return fmt.Errorf("read %s: no s3 client", source)
		}
		store, err := newStore(ctx)
		if err != nil {
			return fmt.Errorf("read %s: %w", source, err)
		}
		return ReadS3(ctx, store, bucket, prefix, opts, sink)
	case source == "-":
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		return ReadReader(ctx, in, "stdin", opts, sink)
	}
	info, err := os.Stat(source)
	if err != nil {
		return fmt.Errorf("read cloudtrail logs: %w", err)
	}
	if info.IsDir() {
		return ReadDir(ctx, source, opts, sink)
	}
	return ReadFile(ctx, source, opts, sink)
}
