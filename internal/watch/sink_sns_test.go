package watch

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/detect"
)

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
	snsc, sqsc := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
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

	s, err := ParseSink("sns:"+aws.ToString(topic.TopicArn), SinkEnv{AWS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	alerts := []detect.Alert{testAlert("KW-CT-IAM-CREATE-USER", "alice", t0), testAlert("KW-CT-ROOT", "bob", t0)}
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
		checkAlertJSON(t, []byte(env.Message), a)
		wantAttrs := map[string]struct{ Type, Value string }{
			"severity": {"String", "high"}, "rule": {"String", a.Rule}}
		if diff := cmp.Diff(wantAttrs, env.MessageAttributes); diff != "" {
			t.Errorf("%s message attributes (-want +got):\n%s", a.Rule, diff)
		}
	}
}

func TestSNSSubjectStaysWithinSNSRules(t *testing.T) {
	a := testAlert("KW-USER-"+string(make([]byte, 200))+"é\n", "alice", t0)
	got := snsSubject(a)
	if len(got) > snsSubjectMax {
		t.Errorf("subject is %d bytes, over %d", len(got), snsSubjectMax)
	}
	for _, r := range got {
		if r < 0x20 || r >= 0x7f {
			t.Fatalf("subject has %q, not printable ASCII", r)
		}
	}
}

func TestSNSMessageDropsDetailsOverTheLimit(t *testing.T) {
	a := testAlert("KW-CT-ROOT", "alice", t0)
	a.Details = map[string]any{"blob": string(make([]byte, snsMessageMax))}
	msg, err := snsMessage(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > snsMessageMax {
		t.Errorf("message is %d bytes, over SNS's limit", len(msg))
	}
}
