package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/canary/canaryaws"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/lambda"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/watch"
)

var canaryKey = awstest.FakeKeyID("canary", 123456789012)

// scheduledEvent is EventBridge's tick of a schedule rule, as AWS
// documents it.
const scheduledEvent = `{"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
  "source": "aws.events", "account": "123456789012", "time": "2026-12-03T10:05:00Z", "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/keywarden-canary-check"], "detail": {}}`

// alerts is a sink that keeps what it is sent.
type alerts struct{ got []detect.Alert }

func (a *alerts) Send(_ context.Context, as []detect.Alert) error {
	a.got = append(a.got, as...)
	return nil
}
func (a *alerts) Close() error { return nil }

func (a *alerts) rules() []string {
	var out []string
	for _, x := range a.got {
		out = append(out, x.Rule)
	}
	return out
}

// TestHandlerWatchesAndChecksCanaries: on moto, an EventBridge CloudTrail
// event of a canary key raises the canary alert; a schedule tick after an
// unlogged use raises the unlogged alert once (the baseline is kept in the
// function's DynamoDB table); a tick with nothing new raises nothing.
func TestHandlerWatchesAndChecksCanaries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin := iam.NewFromConfig(awstest.Fixture(cfg))
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("svc-export")}); err != nil {
		t.Fatal(err)
	}
	k, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("svc-export")})
	if err != nil {
		t.Fatal(err)
	}
	c := canary.Canary{Name: "export", Account: "123456789012", User: "svc-export", AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId),
		Placements: []canary.Placement{{Format: "tfvars", Path: "infra/prod.tfvars"}}}
	sink := &alerts{}
	p := &watch.Pipeline{Detector: detect.NewEngine(&detect.CanaryWatch{Canaries: canary.NewRegistry(c), Seen: f.store}), Sinks: []watch.Sink{sink}}
	check := &watch.CanaryPoller{Check: canary.Check{IAM: canaryaws.New(cfg), Seen: f.store},
		Load: func(ctx context.Context) ([]canary.Canary, error) {
			return canary.WithStoredLastUsed(ctx, f.store, []canary.Canary{c})
		},
		Save: func(ctx context.Context, cs []canary.Canary) error { return canary.StoreLastUsed(ctx, f.store, cs) }}
	h := lambda.CanaryHandler(p, cloudtrailaws.NewS3(f.s3), f.store, check)
	handle := func(payload string) {
		t.Helper()
		if err := h(ctx, json.RawMessage(payload)); err != nil {
			t.Fatal(err)
		}
	}

	handle(scheduledEvent)
	if len(sink.got) != 0 {
		t.Fatalf("a tick before any use: %v", sink.rules())
	}
	for _, key := range []string{awstest.FakeKeyID("someone", 123456789012), c.AccessKeyID} {
		rec := fmt.Sprintf(`{"eventVersion":"1.09","eventID":"ev-%s","eventTime":"2026-12-03T10:00:00Z","eventSource":"ec2.amazonaws.com",
			"eventName":"DescribeInstances","awsRegion":"sa-east-1","sourceIPAddress":"198.51.100.9","userAgent":"aws-cli/2.15.0",
			"errorCode":"Client.UnauthorizedOperation","recipientAccountId":"123456789012","userIdentity":{"type":"IAMUser",
			"accountId":"123456789012","userName":"other","accessKeyId":%q,"arn":"arn:aws:iam::123456789012:user/other"}}`, key, key)
		handle(eventBridgeCloudTrail(t, json.RawMessage(rec)))
	}
	if got := sink.rules(); len(got) != 1 || got[0] != "KW-CT-CANARY" || sink.got[0].Details["planted"] != "tfvars:infra/prod.tfvars" ||
		sink.got[0].Region != "sa-east-1" {
		t.Fatalf("eventbridge events of another key and of the canary: %v; want one canary alert", sink.got)
	}

	thief := awsx.WithKey(cfg, credential.Key{ID: c.AccessKeyID, Secret: secretOf(k)})
	if _, err := awsx.CallerIdentity(ctx, thief); err != nil {
		t.Fatal(err)
	}
	check.Check.Grace = 0
	handle(scheduledEvent)
	handle(scheduledEvent)
	if got := sink.rules(); len(got) != 2 || got[1] != "KW-CANARY-UNLOGGED" || sink.got[1].Details["canary"] != "export" {
		t.Errorf("two ticks after an unlogged use: %v; want one unlogged alert", got)
	}
	if cs, err := canary.WithStoredLastUsed(ctx, f.store, []canary.Canary{c}); err != nil || cs[0].LastUsed.IsZero() ||
		time.Since(cs[0].LastUsed) > time.Minute {
		t.Errorf("baseline in the table: %+v, %v", cs, err)
	}
}

func secretOf(k *iam.CreateAccessKeyOutput) secret.Secret {
	return secret.New(aws.ToString(k.AccessKey.SecretAccessKey))
}
