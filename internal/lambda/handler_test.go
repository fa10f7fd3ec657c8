package lambda_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/lambda"
	"github.com/keywarden/keywarden/internal/watch"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const (
	bucket    = "org-trail"
	regionDir = "AWSLogs/o-a1b2c3d4e5/143434273843/CloudTrail/us-east-1/2024/07/31/"
	digestKey = "AWSLogs/o-a1b2c3d4e5/143434273843/CloudTrail-Digest/us-east-1/2024/07/31/143434273843_CloudTrail-Digest_us-east-1_trail_us-east-1_20240731T1400Z.json.gz"
)

// recorder is a detector that keeps the events it was given, and fails
// (as one whose store is down) while failures is positive.
type recorder struct {
	events   []cloudtrail.Event
	failures int
}

func (r *recorder) Observe(_ context.Context, e *cloudtrail.Event) ([]detect.Alert, error) {
	if r.failures > 0 {
		r.failures--
		return nil, errors.New("store unavailable")
	}
	r.events = append(r.events, *e)
	return nil, nil
}

func (r *recorder) ids() []string {
	var out []string
	for _, e := range r.events {
		out = append(out, e.EventID)
	}
	slices.Sort(out)
	return out
}

// countingS3 records the keys fetched.
type countingS3 struct {
	*s3.Client
	gets []string
}

func (c *countingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.gets = append(c.gets, aws.ToString(in.Key))
	return c.Client.GetObject(ctx, in, optFns...)
}

type fixture struct {
	s3    *countingS3
	store *watchaws.DynamoStore
	proc  *recorder // the pipeline's detector
	// logs maps each uploaded log object's key to its records' event ids.
	logs map[string][]string
}

func (f *fixture) handle(t *testing.T, payload string) error {
	t.Helper()
	if !json.Valid([]byte(payload)) {
		t.Fatalf("test payload is not valid json:\n%s", payload)
	}
	return f.handler()(context.Background(), json.RawMessage(payload))
}

func (f *fixture) handler() func(context.Context, json.RawMessage) error {
	return lambda.Handler(&watch.Pipeline{Detector: f.proc}, cloudtrailaws.NewS3(f.s3), f.store)
}

// newFixture fills a moto bucket with gzipped CloudTrail log files made of
// stratus-red-team detonation records (and a digest), and creates the state
// table in moto DynamoDB.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	awstest.Moto(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(awstest.Fixture(cfg), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	f := &fixture{s3: &countingS3{Client: client}, proc: &recorder{}, logs: map[string][]string{}}
	for i, name := range []string{"aws.defense-evasion.cloudtrail-stop", "aws.defense-evasion.organizations-leave"} {
		records := corpusRecords(t, name)
		key := regionDir + "143434273843_CloudTrail_us-east-1_20240731T131" + string(rune('0'+i)) + "Z_" + strings.ReplaceAll(name, ".", "") + ".json.gz"
		put(t, client, key, gzipped(t, `{"Records":`+string(records)+`}`))
		f.logs[key] = recordIDs(t, records)
	}
	put(t, client, digestKey, gzipped(t, `{"awsAccountId":"143434273843"}`))
	db := dynamodb.NewFromConfig(awstest.Fixture(cfg))
	if err := watchaws.CreateDynamoStoreTable(context.Background(), db, "keywarden-state"); err != nil {
		t.Fatal(err)
	}
	f.store = watchaws.NewDynamoStoreClient(db, "keywarden-state")
	return f
}

func corpusRecords(t testing.TB, name string) json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(awstest.CorpusPath(t, "cloudtrail/stratus-detonation-logs"), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func recordIDs(t testing.TB, records json.RawMessage) []string {
	t.Helper()
	var recs []struct {
		EventID string `json:"eventID"`
	}
	if err := json.Unmarshal(records, &recs); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.EventID)
	}
	return ids
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func put(t testing.TB, client *s3.Client, key string, body []byte) {
	t.Helper()
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func (f *fixture) keys() []string {
	var keys []string
	for k := range f.logs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (f *fixture) allIDs() []string {
	var ids []string
	for _, v := range f.logs {
		ids = append(ids, v...)
	}
	slices.Sort(ids)
	return ids
}

func TestHandlerReadsAnnouncedLogObjectsOnceInEveryEnvelope(t *testing.T) {
	tests := map[string]func(keys []string) string{
		"s3 notification": func(keys []string) string { return s3Notification(bucket, keys...) },
		"s3 via sns":      func(keys []string) string { return snsWrapped(s3Notification(bucket, keys...)) },
		"s3 via sqs": func(keys []string) string {
			return sqsWrapped(s3Notification(bucket, keys[0]), s3Notification(bucket, keys[1]))
		},
		"s3 via sns via sqs": func(keys []string) string {
			return sqsWrapped(snsToSQSBody(s3Notification(bucket, keys...)))
		},
		"cloudtrail's sns notification": func(keys []string) string {
			return snsWrapped(cloudTrailSNSNotification(bucket, keys...))
		},
		"eventbridge object created in sqs": func(keys []string) string {
			return sqsWrapped(eventBridgeObjectCreated(bucket, keys[0]), eventBridgeObjectCreated(bucket, keys[1]))
		},
	}
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			p := payload(f.keys())
			if err := f.handle(t, p); err != nil {
				t.Fatalf("first delivery: %v", err)
			}
			if diff := cmp.Diff(f.allIDs(), f.proc.ids()); diff != "" {
				t.Errorf("events processed (-want +got):\n%s", diff)
			}
			if err := f.handle(t, p); err != nil {
				t.Fatalf("second delivery: %v", err)
			}
			if got := len(f.proc.events); got != len(f.allIDs()) {
				t.Errorf("after the second delivery %d events were processed; want %d (no repeats)", got, len(f.allIDs()))
			}
			if diff := cmp.Diff(f.keys(), f.s3.gets); diff != "" {
				t.Errorf("objects fetched over both deliveries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerSkipsDigestsAndFilesThatAreNotLogs(t *testing.T) {
	f := newFixture(t)
	err := f.handle(t, s3Notification(bucket, digestKey, regionDir, regionDir+"README.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.proc.events) != 0 || len(f.s3.gets) != 0 {
		t.Errorf("processed %d events and fetched %v; want nothing", len(f.proc.events), f.s3.gets)
	}
}

func TestHandlerRetriesAnObjectWhoseProcessingFailed(t *testing.T) {
	f := newFixture(t)
	f.proc.failures = 1
	key := f.keys()[0]
	if err := f.handle(t, s3Notification(bucket, key)); err == nil || !strings.Contains(err.Error(), "store unavailable") {
		t.Fatalf("first delivery error = %v; want the processor's", err)
	}
	if _, done, err := f.store.Get(context.Background(), lambda.ObjectsNamespace, bucket+"/"+key); err != nil || done {
		t.Fatalf("marker after a failure: done=%v err=%v; want none", done, err)
	}
	if err := f.handle(t, s3Notification(bucket, key)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if diff := cmp.Diff(f.logs[key], f.proc.ids()); diff != "" {
		t.Errorf("events processed by the retry (-want +got):\n%s", diff)
	}
}

func TestHandlerErrors(t *testing.T) {
	f := newFixture(t)
	if err := f.handle(t, s3Notification("no-such-bucket", regionDir+"x.json.gz")); err == nil {
		t.Error("an unreadable bucket gave no error; Lambda would not retry")
	}
	if err := f.handle(t, s3Notification(bucket, regionDir+"deleted.json.gz")); err != nil {
		t.Errorf("a deleted object: %v; want it skipped (a retry cannot read it)", err)
	}
	for _, payload := range []string{`{}`, `{"hello":"world"}`, `[1,2]`, `{"Records":[{"eventSource":"aws:kinesis"}]}`} {
		if err := f.handle(t, payload); err != nil {
			t.Errorf("payload %s: %v; want it dropped", payload, err)
		}
	}
	if len(f.proc.events) != 0 {
		t.Errorf("processed %d events; want none", len(f.proc.events))
	}
}

// TestHandlerServesThroughTheLambdaLibrary invokes the handler the way the
// runtime does (aws-lambda-go's reflection wrapper over the raw payload), so
// its signature and error reporting are what Start hands to Lambda.
func TestHandlerServesThroughTheLambdaLibrary(t *testing.T) {
	f := newFixture(t)
	h := awslambda.NewHandler(f.handler())
	if _, err := h.Invoke(context.Background(), []byte(s3Notification(bucket, f.keys()...))); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.allIDs(), f.proc.ids()); diff != "" {
		t.Errorf("events processed (-want +got):\n%s", diff)
	}
	f.proc.failures = 1
	if _, err := h.Invoke(context.Background(), []byte(s3Notification(bucket, regionDir+"gone.json"))); err != nil {
		t.Errorf("invoke for a deleted object: %v; want it skipped", err)
	}
	put(t, f.s3.Client, regionDir+"new.json", []byte(`{"Records":[{"eventID":"e-new","eventName":"ListBuckets","eventTime":"2024-07-31T13:20:00Z"}]}`))
	if _, err := h.Invoke(context.Background(), []byte(s3Notification(bucket, regionDir+"new.json"))); err == nil || !strings.Contains(err.Error(), "store unavailable") {
		t.Errorf("invoke with a failing processor: err = %v; want it reported to Lambda", err)
	}
}
