package detect

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// BenchmarkEngineInvictus: the whole catalogue plus bursts and baselines
// over the invictus events (already decoded), reported per event.
func BenchmarkEngineInvictus(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(awstest.CorpusPath(b, "cloudtrail/invictus-aws-dataset"), "*.json"))
	var events []cloudtrail.Event
	for _, f := range files {
		events = append(events, readArray(b, f)...)
	}
	stateful := []Detector{AccessDeniedBurst(&MemStore{}), ReconBurst(&MemStore{}), SESVolume(&MemStore{}, 500), &Baseline{Store: &MemStore{}}}
	en := NewEngine(append(stateful, Dispatch(AttackBursts(&MemStore{})...))...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := en.Observe(context.Background(), &events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineS3DataEvents: the same detectors over S3 data events
// (PutObject, GetObject, DeleteObject of one key on a few buckets), the
// busiest events of a trail that logs them, reported per event.
func BenchmarkEngineS3DataEvents(b *testing.B) {
	var events []cloudtrail.Event
	for i := range 300 {
		name := []string{"PutObject", "GetObject", "PutObject", "DeleteObject"}[i%4]
		bucket := []string{"data", "logs", "site"}[i%3]
		req := fmt.Sprintf(`{"bucketName":%q,"Host":"%s.s3.us-east-1.amazonaws.com","key":"dir/f%d.json","x-id":%q}`, bucket, bucket, i, name)
		events = append(events, s3Call(b, "AKIAIOSFODNN7EXAMPLE", time.Duration(i)*time.Second, name, bucket, req, ""))
	}
	stateful := []Detector{AccessDeniedBurst(&MemStore{}), ReconBurst(&MemStore{}), SESVolume(&MemStore{}, 500), &Baseline{Store: &MemStore{}}}
	en := NewEngine(append(stateful, Dispatch(AttackBursts(&MemStore{})...))...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := en.Observe(context.Background(), &events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
	}
}
