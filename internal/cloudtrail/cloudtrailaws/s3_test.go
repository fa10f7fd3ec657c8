package cloudtrailaws_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
)

// countingS3 records what the reader asked S3 for.
type countingS3 struct {
	*s3.Client
	mu          sync.Mutex // objects are fetched a few at a time
	gets        []string
	startAfters []string
}

func (c *countingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.mu.Lock()
	c.startAfters = append(c.startAfters, aws.ToString(in.StartAfter))
	c.mu.Unlock()
	return c.Client.ListObjectsV2(ctx, in, optFns...)
}

func (c *countingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.mu.Lock()
	c.gets = append(c.gets, aws.ToString(in.Key))
	c.mu.Unlock()
	return c.Client.GetObject(ctx, in, optFns...)
}

// logFile is a gzipped CloudTrail log file of one CreateUser record, with
// CloudTrail's name for a file delivered at at.
func logFile(t *testing.T, at time.Time, id string) (name, body string) {
	t.Helper()
	rec := fmt.Sprintf(`{"eventID":%q,"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":"CreateUser"}`,
		id, at.Add(-4*time.Minute).Format(time.RFC3339))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(`{"Records":[` + rec + `]}`)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return "123456789012_CloudTrail_us-east-1_" + at.Format("20060102T1504Z") + "_" + id + ".json.gz", buf.String()
}

// trailBucket fills a moto bucket with four days of gzipped log files (two
// a day), a digest and a stray object, and returns a client for it.
func trailBucket(t *testing.T) *s3.Client {
	awstest.Moto(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(awstest.Fixture(cfg), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	put := func(key, body string) {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	region := "AWSLogs/123456789012/CloudTrail/us-east-1/"
	for d := 20; d <= 23; d++ {
		for _, hour := range []int{3, 15} {
			at := time.Date(2026, 11, d, hour, 5, 0, 0, time.UTC)
			name, body := logFile(t, at, at.Format("02T15"))
			put(region+at.Format("2006/01/02/")+name, body)
		}
	}
	put("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/21/123456789012_CloudTrail-Digest_us-east-1_x.json.gz", "{}")
	put(region+"2026/11/22/README", "not logs")
	return client
}

func TestReadS3(t *testing.T) {
	client := trailBucket(t)
	region := "AWSLogs/123456789012/CloudTrail/us-east-1/"
	since := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		prefix     string
		opts       cloudtrail.Options
		ids        []string
		gets       int
		startAfter string
		warns      int
	}{
		"whole bucket": {
			"", cloudtrail.Options{},
			[]string{"20T03", "20T15", "21T03", "21T15", "22T03", "22T15", "23T03", "23T15"}, 8, "", 1,
		},
		"since at the region level starts at its day": {
			region, cloudtrail.Options{Since: since},
			[]string{"22T15", "23T03", "23T15"}, 3, region + "2026/11/22/", 1,
		},
		"region prefix without slash": {
			strings.TrimSuffix(region, "/"), cloudtrail.Options{Since: since},
			[]string{"22T15", "23T03", "23T15"}, 3, region + "2026/11/22/", 1,
		},
		"since above the region level skips by file name": {
			"AWSLogs/", cloudtrail.Options{Since: since},
			[]string{"22T15", "23T03", "23T15"}, 3, "", 1,
		},
		"until": {
			region, cloudtrail.Options{Until: time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)},
			[]string{"20T03", "20T15"}, 2, "", 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			counting := &countingS3{Client: client}
			var ids []string
			warns := 0
			tc.opts.Warn = func(error) { warns++ }
			err := cloudtrail.ReadS3(context.Background(), cloudtrailaws.NewS3(counting), "trail", tc.prefix, tc.opts, func(ev cloudtrail.Event) error {
				ids = append(ids, ev.EventID)
				return nil
			})
			if err != nil {
				t.Fatalf("ReadS3: %v", err)
			}
			if diff := cmp.Diff(tc.ids, ids); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if len(counting.gets) != tc.gets {
				t.Errorf("GetObject called %d times (%q), want %d", len(counting.gets), counting.gets, tc.gets)
			}
			if len(counting.startAfters) == 0 || counting.startAfters[0] != tc.startAfter {
				t.Errorf("listing StartAfter = %q, want %q", counting.startAfters, tc.startAfter)
			}
			if warns != tc.warns {
				t.Errorf("%d warnings, want %d (the README)", warns, tc.warns)
			}
		})
	}
}

func TestReadFromS3(t *testing.T) {
	client := trailBucket(t)
	n := 0
	newStore := func(context.Context) (cloudtrail.ObjectStore, error) { return cloudtrailaws.NewS3(client), nil }
	err := cloudtrail.ReadFrom(context.Background(), "s3://trail/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/23/",
		cloudtrail.Options{}, newStore, func(cloudtrail.Event) error { n++; return nil })
	if err != nil || n != 2 {
		t.Errorf("ReadFrom(s3 day folder) = %v after %d events, want nil after 2", err, n)
	}
}

func TestS3GetOfAMissingObjectIsNotExist(t *testing.T) {
	store := cloudtrailaws.NewS3(trailBucket(t))
	_, err := store.Get(context.Background(), "trail", "AWSLogs/gone.json.gz")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "NoSuchKey") {
		t.Errorf("Get(missing object) = %v; want S3's NoSuchKey, matching fs.ErrNotExist", err)
	}
	if _, err := store.Get(context.Background(), "no-such-bucket", "k"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get(missing bucket) = %v; want an error that is not a missing object", err)
	}
}

func TestS3ListStopsWhenTheCallerDoes(t *testing.T) {
	var keys []string
	for obj, err := range cloudtrailaws.NewS3(trailBucket(t)).List(context.Background(), "trail", "AWSLogs/123456789012/CloudTrail/", "") {
		if err != nil {
			t.Fatal(err)
		}
		if keys = append(keys, obj.Key); len(keys) == 2 {
			break
		}
	}
	if len(keys) != 2 || !strings.HasSuffix(keys[0], "_20T03.json.gz") || !strings.HasSuffix(keys[1], "_20T15.json.gz") {
		t.Errorf("first two keys %q; want the first day's files in key order", keys)
	}
}
