package lambda

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFindsTheWorkInEachEnvelope(t *testing.T) {
	tests := map[string]struct {
		payload string
		objects []objectRef
		records int
		skipped int
	}{
		"s3 key is url-decoded": {
			payload: `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"logs/a+b%2Bc%3D.json.gz"}}}]}`,
			objects: []objectRef{{"b", "logs/a b+c=.json.gz"}},
		},
		"eventbridge s3 key is taken as is": {
			payload: `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"a+b.json"}}}`,
			objects: []objectRef{{"b", "a+b.json"}},
		},
		"s3 test event": {
			payload: `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-23T12:00:00.000Z","Bucket":"b"}`,
			skipped: 1,
		},
		"other eventbridge event": {
			payload: `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}`,
			skipped: 1,
		},
		"cloudtrail eventbridge event": {
			payload: `{"detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","detail":{"eventName":"ConsoleLogin"}}`,
			records: 1,
		},
		"bare cloudtrail log file": {
			payload: `{"Records":[{"eventName":"ListBuckets","eventTime":"2026-11-23T12:00:00Z"},{"eventName":"GetCallerIdentity","eventTime":"2026-11-23T12:00:01Z"}]}`,
			records: 2,
		},
		"cloudtrail sns notification": {
			payload: `{"s3Bucket":"b","s3ObjectKey":["k1.json.gz","k2.json.gz"]}`,
			objects: []objectRef{{"b", "k1.json.gz"}, {"b", "k2.json.gz"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, err := parse([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.objects, w.Objects); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if len(w.Records) != tc.records || w.Skipped != tc.skipped {
				t.Errorf("records, skipped = %d, %d; want %d, %d", len(w.Records), w.Skipped, tc.records, tc.skipped)
			}
		})
	}
}

func TestParseRejectsWhatItCannotUse(t *testing.T) {
	deep := `{"s3Bucket":"b","s3ObjectKey":["k"]}`
	for range maxDepth + 2 {
		deep = `{"Type":"Notification","Message":` + quote(deep) + `}`
	}
	tests := map[string]string{
		"not json":               `not json`,
		"an array":               `[{"Records":[]}]`,
		"empty object":           `{}`,
		"s3 record without key":  `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{}}}]}`,
		"bad escape in s3 key":   `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"%zz"}}}]}`,
		"unknown record source":  `{"Records":[{"eventSource":"aws:kinesis","kinesis":{}}]}`,
		"sns message not json":   `{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"hello"}}]}`,
		"envelopes nested deep":  deep,
		"eventbridge s3 no name": `{"detail-type":"Object Created","source":"aws.s3","detail":{"object":{"key":"k"}}}`,
	}
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := parse([]byte(payload)); !errors.Is(err, ErrUnrecognized) {
				t.Errorf("parse error = %v; want ErrUnrecognized", err)
			}
		})
	}
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func TestIsLogObject(t *testing.T) {
	tests := map[string]bool{
		"AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/23/123456789012_CloudTrail_us-east-1_20261123T1205Z_x.json.gz":            true,
		"AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/23/123456789012_CloudTrail-Digest_us-east-1_t_us-east-1_x.json.gz": false,
		"AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/23/":                                                                      false,
		"AWSLogs/123456789012/CloudTrail-Insight/x.txt":                                                                              false,
		"exports/events.jsonl": true,
	}
	for key, want := range tests {
		if got := isLogObject(key); got != want {
			t.Errorf("isLogObject(%q) = %v; want %v", key, got, want)
		}
	}
}

// FuzzParse: payloads come from whoever can invoke the function or write to
// its queue; parse must neither panic nor hang on any of them.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"k.json"}}}]}`,
		`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{\"s3Bucket\":\"b\",\"s3ObjectKey\":[\"k\"]}"}}]}`,
		`{"Records":[{"eventSource":"aws:sqs","body":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"}]}`,
		`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"X"}}`,
		`{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := parse(data)
		if err != nil && !errors.Is(err, ErrUnrecognized) {
			t.Fatalf("parse error not marked unrecognized: %v", err)
		}
		for _, o := range w.Objects {
			if err == nil && o.Bucket == "" {
				t.Fatalf("object without a bucket accepted: %+v", o)
			}
		}
	})
}
