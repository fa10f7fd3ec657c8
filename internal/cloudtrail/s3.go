package cloudtrail

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the part of *s3.Client the S3 reader uses.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// ReadS3 reads every CloudTrail log file under s3://bucket/prefix in key
// order, with ReadDir's rules for digests, names and the time window. When
// prefix is one region's folder (AWSLogs/[ORG/]ACCOUNT/CloudTrail/REGION/)
// and Since is set, the listing starts at Since's day folder, so earlier
// days are neither listed nor fetched. Objects are fetched a few ahead
// (see readAhead); the sink still sees them in key order.
func ReadS3(ctx context.Context, client S3API, bucket, prefix string, opts Options, sink Sink) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if start := startAfter(prefix, opts); start != "" {
		in.StartAfter = aws.String(start)
	}
	ra := newReadAhead(ctx, opts, sink, s3ReadAhead)
	err := listAndRead(ctx, client, in, func(key string, size int64) error {
		return ra.read(size <= readAheadMax, func(ctx context.Context, opts Options, sink Sink) error {
			return readS3Object(ctx, client, bucket, key, opts, sink)
		})
	})
	if finished := ra.finish(); err == nil {
		err = finished
	}
	return stopIsDone(err)
}

// listAndRead lists in's keys and calls read on each, in key order.
func listAndRead(ctx context.Context, client S3API, in *s3.ListObjectsV2Input, read func(key string, size int64) error) error {
	pages := s3.NewListObjectsV2Paginator(client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", aws.ToString(in.Bucket), aws.ToString(in.Prefix), err)
		}
		for _, obj := range page.Contents {
			if err := read(aws.ToString(obj.Key), aws.ToInt64(obj.Size)); err != nil {
				return err
			}
		}
	}
	return nil
}

// readS3Object reads one listed key, or says why not.
func readS3Object(ctx context.Context, client S3API, bucket, key string, opts Options, sink Sink) error {
	name := "s3://" + bucket + "/" + key
	switch base := path.Base(key); {
	case strings.HasSuffix(key, "/"), strings.Contains(key, digestMarker+"/"), strings.Contains(base, digestMarker):
		return nil
	case !IsLogName(base):
		opts.warn(fmt.Errorf("%s: skipped: not a JSON file", name))
		return nil
	case !opts.fileInWindow(base):
		return nil
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get %s: %w", name, err)
	}
	defer out.Body.Close()
	return readStream(ctx, out.Body, name, opts, sink)
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
// client newS3 makes, so this package needs no AWS configuration), "-" for
// standard input, a directory, or a file (a named pipe too: the user chose it).
func ReadFrom(ctx context.Context, source string, opts Options, newS3 func(context.Context) (S3API, error), sink Sink) error {
	switch {
	case strings.HasPrefix(source, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(source, "s3://"), "/")
		if bucket == "" {
			return fmt.Errorf("read %s: no bucket name", source)
		}
		if newS3 == nil {
			return fmt.Errorf("read %s: no s3 client", source)
		}
		client, err := newS3(ctx)
		if err != nil {
			return fmt.Errorf("read %s: %w", source, err)
		}
		return ReadS3(ctx, client, bucket, prefix, opts, sink)
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
