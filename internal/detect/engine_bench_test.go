package detect

import (
	"context"
	"path/filepath"
	"testing"

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
