package watchaws_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/watch"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

// alert is an alert as a rule raises it; seed varies the key.
func alert(rule, seed string) detect.Alert {
	return detect.Alert{Rule: rule, Severity: severity.High, Title: "IAM user created",
		Technique: "T1136.003", EventID: "ev-" + seed, EventTime: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		EventSource: "iam.amazonaws.com", EventName: "CreateUser", AccountID: "123456789012", Region: "us-east-1",
		AccessKeyID: awstest.FakeKeyID(seed, 123456789012), Principal: "arn:aws:iam::123456789012:user/" + seed,
		SourceIP: "203.0.113.9", UserAgent: "aws-cli/2.15", Details: map[string]any{}}
}

// snsEnvelope is what SNS delivers to an SQS subscriber without raw delivery.
type snsEnvelope struct {
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

func TestSNSSinkPublishesOneMessagePerAlertToSubscribers(t *testing.T) {
	awstest.Moto(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snsc, sqsc := sns.NewFromConfig(awstest.Fixture(cfg)), sqs.NewFromConfig(awstest.Fixture(cfg))
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("keywarden-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}

	cfg.Region = "eu-west-1" // the topic's region wins
	s, err := watch.ParseSink("sns:"+aws.ToString(topic.TopicArn), watch.SinkEnv{SNS: watchaws.SNSPublisher(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	alerts := []detect.Alert{alert("KW-CT-IAM-CREATE-USER", "alice"), alert("KW-CT-ROOT", "bob")}
	if err := s.Send(ctx, alerts); err != nil {
		t.Fatal(err)
	}

	got := map[string]snsEnvelope{}
	for range 5 { // moto delivers at once; a few receives collect both
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var env snsEnvelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("SQS body is not an SNS envelope: %v: %s", err, aws.ToString(m.Body))
			}
			got[env.Subject] = env
		}
		if len(got) == len(alerts) {
			break
		}
	}
	if len(got) != len(alerts) {
		t.Fatalf("queue received %d distinct messages, want %d: %v", len(got), len(alerts), got)
	}
	for _, a := range alerts {
		subject := "[keywarden] HIGH " + a.Rule
		env, ok := got[subject]
		if !ok {
			t.Errorf("no message with subject %q", subject)
			continue
		}
		want, _ := json.Marshal(a)
		if env.Message != string(want) {
			t.Errorf("%s message:\n%s\nwant the alert's JSON:\n%s", a.Rule, env.Message, want)
		}
		wantAttrs := map[string]struct{ Type, Value string }{
			"severity": {"String", "high"}, "rule": {"String", a.Rule}}
		if diff := cmp.Diff(wantAttrs, env.MessageAttributes); diff != "" {
			t.Errorf("%s message attributes (-want +got):\n%s", a.Rule, diff)
		}
	}
}
