package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/lambda"
	"github.com/keywarden/keywarden/internal/watch"
)

// counter is a detector that counts the events it judges.
type counter struct{ n int }

func (c *counter) Observe(context.Context, *cloudtrail.Event) ([]detect.Alert, error) {
	c.n++
	return nil, nil
}

// BenchmarkHandlerObject reads one gzipped log object of 10,000 corpus
// records from moto S3 per iteration, through the whole handler and the
// pipeline's batching (with a detector that only counts).
func BenchmarkHandlerObject(b *testing.B) {
	f := newFixture(b)
	var records []json.RawMessage
	if err := json.Unmarshal(corpusRecords(b, "aws.defense-evasion.organizations-leave"), &records); err != nil {
		b.Fatal(err)
	}
	// CloudTrail writes compact JSON; the corpus is pretty-printed.
	var compact []string
	for _, r := range records {
		var buf bytes.Buffer
		if err := json.Compact(&buf, r); err != nil {
			b.Fatal(err)
		}
		compact = append(compact, buf.String())
	}
	const n = 10000
	var sb strings.Builder
	sb.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		rec := strings.Replace(compact[i%len(compact)], `"eventID":"`, fmt.Sprintf(`"eventID":"%06d-`, i), 1)
		sb.WriteString(rec)
	}
	sb.WriteString(`]}`)
	key := regionDir + "143434273843_CloudTrail_us-east-1_20240731T1400Z_bench.json.gz"
	body := gzipped(b, sb.String())
	put(b, f.s3.Client, key, body)
	proc := &counter{}
	payload := json.RawMessage(s3Notification(bucket, key))
	b.SetBytes(int64(sb.Len())) // uncompressed bytes
	b.ResetTimer()
	for b.Loop() {
		h := lambda.Handler(&watch.Pipeline{Detector: proc}, cloudtrailaws.NewS3(f.s3), &detect.MemStore{})
		if err := h(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
	if proc.n != n*b.N {
		b.Fatalf("processed %d events; want %d", proc.n, n*b.N)
	}
	b.ReportMetric(float64(proc.n)/b.Elapsed().Seconds(), "events/s")
}
