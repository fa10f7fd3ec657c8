// Package cloudtrailaws reads CloudTrail through AWS: a trail's log objects
// in S3 (a cloudtrail.ObjectStore) and CloudTrail's LookupEvents.
package cloudtrailaws

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// S3API is the part of *s3.Client the store uses.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3 is a trail's object store in Amazon S3.
type S3 struct{ client S3API }

var _ cloudtrail.ObjectStore = (*S3)(nil)

// NewS3 returns the store behind client (awsx.S3Client builds one).
func NewS3(client S3API) *S3 { return &S3{client: client} }

// S3Opener is cloudtrail.ReadFrom's opener of s3:// sources: a store with
// the client awsx.S3Client builds from cfg.
func S3Opener(cfg aws.Config) func(context.Context) (cloudtrail.ObjectStore, error) {
	return func(context.Context) (cloudtrail.ObjectStore, error) { return NewS3(awsx.S3Client(cfg)), nil }
}

// List yields bucket's objects under prefix after startAfter, a page of
// ListObjectsV2 at a time: the next page is asked for only when the caller
// has taken the last one's objects.
func (s *S3) List(ctx context.Context, bucket, prefix, startAfter string) iter.Seq2[cloudtrail.Object, error] {
	return func(yield func(cloudtrail.Object, error) bool) {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
		if startAfter != "" {
			in.StartAfter = aws.String(startAfter)
		}
		pages := s3.NewListObjectsV2Paginator(s.client, in)
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(cloudtrail.Object{}, err)
				return
			}
			for _, obj := range page.Contents {
				if !yield(cloudtrail.Object{Key: aws.ToString(obj.Key), Size: aws.ToInt64(obj.Size)}, nil) {
					return
				}
			}
		}
	}
}

// Get opens an object's body; S3's NoSuchKey matches fs.ErrNotExist.
func (s *S3) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var missing *types.NoSuchKey
		if errors.As(err, &missing) {
			return nil, notExist{err}
		}
		return nil, err
	}
	return out.Body, nil
}

// notExist keeps S3's error and its message, and matches fs.ErrNotExist.
type notExist struct{ err error }

func (e notExist) Error() string        { return e.err.Error() }
func (e notExist) Unwrap() error        { return e.err }
func (e notExist) Is(target error) bool { return target == fs.ErrNotExist }
