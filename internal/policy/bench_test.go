package policy

import (
	"fmt"
	"testing"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// manyEvents is n events of one user over a realistic spread: objects under
// a few hundred prefixes of five buckets, functions, tables, queues,
// secrets, a call that needs nothing and a denied one.
func manyEvents(b *testing.B, n int) []cloudtrail.Event {
	kinds := []func(i int) cloudtrail.Event{
		func(i int) cloudtrail.Event {
			return event(b, "s3.amazonaws.com", "GetObject", fmt.Sprintf(`{"bucketName":"bucket-%d","key":"logs/%d/part-%d.gz"}`, i%5, i%200, i%5000))
		},
		func(i int) cloudtrail.Event {
			return event(b, "s3.amazonaws.com", "PutObject", fmt.Sprintf(`{"bucketName":"bucket-%d","key":"out/%d.json"}`, i%5, i%3000))
		},
		func(i int) cloudtrail.Event {
			return event(b, "s3.amazonaws.com", "ListObjectsV2", fmt.Sprintf(`{"bucketName":"bucket-%d","prefix":"logs/"}`, i%5))
		},
		func(i int) cloudtrail.Event {
			return event(b, "lambda.amazonaws.com", "GetFunction20150331v2", fmt.Sprintf(`{"functionName":"fn-%d"}`, i%20))
		},
		func(i int) cloudtrail.Event {
			return event(b, "ec2.amazonaws.com", "DescribeInstances", `{"filterSet":{}}`)
		},
		func(i int) cloudtrail.Event {
			return event(b, "dynamodb.amazonaws.com", "PutItem", fmt.Sprintf(`{"tableName":"t-%d"}`, i%10))
		},
		func(i int) cloudtrail.Event {
			return event(b, "sqs.amazonaws.com", "SendMessage", fmt.Sprintf(`{"queueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/q-%d"}`, i%10))
		},
		func(i int) cloudtrail.Event {
			return event(b, "secretsmanager.amazonaws.com", "GetSecretValue", fmt.Sprintf(`{"secretId":"app/s-%d"}`, i%10))
		},
		func(i int) cloudtrail.Event { return event(b, "sts.amazonaws.com", "GetCallerIdentity", ``) },
		func(i int) cloudtrail.Event {
			return event(b, "iam.amazonaws.com", "CreateUser", fmt.Sprintf(`{"userName":"u%d"}`, i%7), `,"errorCode":"AccessDenied"`)
		},
	}
	out := make([]cloudtrail.Event, n)
	for i := range out {
		out[i] = kinds[i%len(kinds)](i)
	}
	return out
}

// BenchmarkSuggestMillionEvents maps and aggregates 1 M decoded events and
// builds the policy (decoding the records is cloudtrail's, measured there).
func BenchmarkSuggestMillionEvents(b *testing.B) {
	evs := manyEvents(b, 1_000_000)
	b.ResetTimer()
	for b.Loop() {
		if s := suggestAll(b, evs); len(s.Actions) != 8 {
			b.Fatalf("%d actions", len(s.Actions))
		}
	}
}

// BenchmarkSuggestMillionDistinctObjects is the worst case: 1 M reads of
// distinct objects (1,000 prefixes of 1,000 objects), so no call repeats
// and every object is kept until the prefixes are generalised.
func BenchmarkSuggestMillionDistinctObjects(b *testing.B) {
	evs := make([]cloudtrail.Event, 1_000_000)
	for i := range evs {
		evs[i] = event(b, "s3.amazonaws.com", "GetObject", fmt.Sprintf(`{"bucketName":"data","key":"p%d/o%d"}`, i/1000, i%1000))
	}
	b.ResetTimer()
	for b.Loop() {
		if s := suggestAll(b, evs); len(s.Actions) != 1 || len(s.Actions[0].Resources) != 1 {
			b.Fatalf("%+v", s.Actions)
		}
	}
}

// suggestAll observes evs and suggests the policy: one benchmark round.
func suggestAll(b *testing.B, evs []cloudtrail.Event) Suggestion {
	o, err := NewObserved(0)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range evs {
		o.Add(e)
	}
	s, err := o.Suggest(Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}
