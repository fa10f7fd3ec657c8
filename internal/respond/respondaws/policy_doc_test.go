package respondaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
)

// trailBucket matches the documented policy's S3 resources.
const trailBucket = "aws-cloudtrail-logs-123456789012-drill"

// TestDocumentedRespondPolicyIsEnough runs every respond step, against moto
// with IAM enforcement on, as a user holding docs/policies/respond.json: no
// step may be denied. Moto matches actions, not resources or conditions, so
// the policy is first reduced to its Allow statements on "*" (forMoto); the
// Deny on the responder itself cannot be checked here. The same policy
// without iam:PutUserPolicy is denied, which shows the check can fail.
func TestDocumentedRespondPolicyIsEnough(t *testing.T) {
	policy := forMoto(t, readDoc(t, "docs/policies/respond.json"))
	tests := []struct {
		name, policy string
		wantDenied   []string
	}{
		{"the documented policy", policy, nil},
		{"without iam:PutUserPolicy", strings.Replace(policy, `"iam:PutUserPolicy",`, "", 1), []string{"revoke sessions"}},
		{"without cloudtrail:LookupEvents", strings.Replace(policy, `"cloudtrail:LookupEvents",`, "", 1), []string{"lookup events"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := awstest.MotoWithAuth(t)
			boss := s.CreateUserKey(t, "boss", awstest.AdminPolicy)
			alice := s.CreateUserKey(t, "alice", awstest.AdminPolicy)
			responder := s.CreateUserKey(t, "responder", tt.policy)
			signAs(t, boss)
			prepareIncident(t)
			signAs(t, responder)
			var denied []string
			for _, st := range respondSteps(t, alice.KeyID) {
				err := st.run()
				if err != nil {
					t.Logf("%s: %v", st.name, err)
				}
				switch {
				case isDeniedAnyhow(err):
					denied = append(denied, st.name)
				case err != nil && !st.mayFail:
					t.Errorf("%s: %v", st.name, err)
				}
			}
			if !slices.Equal(denied, tt.wantDenied) {
				t.Errorf("denied steps = %q, want %q", denied, tt.wantDenied)
			}
		})
	}
}

type respondStep struct {
	name string
	run  func() error
	// mayFail: moto answers with an error after authorising the call (it
	// lacks LookupEvents and, on this server, AWS managed policies).
	mayFail bool
}

// respondSteps is every call respond makes, in playbook order, then undo.
func respondSteps(t *testing.T, keyID string) []respondStep {
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.RetryMaxAttempts = 1 // moto's "not implemented" is a 500
	responder := respondaws.New(cfg)
	ignore := func(_ any, err error) error { return err }
	return []respondStep{
		{name: "identify", run: func() error { return ignore(responder.KeyOwner(ctx, keyID)) }},
		{name: "assess", run: func() error { return ignore(responder.UserPolicies(ctx, "alice")) }},
		{name: "console status", run: func() error {
			return ignore(iam.NewFromConfig(cfg).GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")}))
		}},
		{name: "deactivate", run: func() error { return responder.SetActive(ctx, "alice", keyID, false) }},
		{name: "revoke sessions", run: func() error { return responder.PutRevokeSessions(ctx, "alice", time.Now()) }},
		{name: "quarantine", mayFail: true, run: func() error { return responder.AttachQuarantine(ctx, "alice") }},
		{name: "disable console", run: func() error { return ignore(responder.DisableConsole(ctx, "alice")) }},
		{name: "regions", run: func() error {
			return ignore(ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{}))
		}},
		{name: "lookup events", mayFail: true, run: func() error {
			return ignore(cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}))
		}},
		{name: "read trail logs", run: func() error { return readTrailLogs(ctx, cfg) }},
		{name: "replace", run: func() error { // rotate's call, made by cli's replaceKey
			return ignore(iam.NewFromConfig(cfg).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))
		}},
		{name: "undo reactivate", run: func() error { return responder.SetActive(ctx, "alice", keyID, true) }},
		{name: "undo revoke", run: func() error { return responder.DeleteRevokeSessions(ctx, "alice") }},
		{name: "undo quarantine", run: func() error { return responder.DetachQuarantine(ctx, "alice") }},
	}
}

func readTrailLogs(ctx context.Context, cfg aws.Config) error {
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(trailBucket)})
	if err != nil {
		return err
	}
	if len(list.Contents) == 0 {
		return errors.New("no log object listed")
	}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(trailBucket), Key: list.Contents[0].Key})
	if err != nil {
		return err
	}
	return obj.Body.Close()
}

// prepareIncident gives alice a console password and puts a log file in the
// trail bucket.
func prepareIncident(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(awstest.Fixture(cfg)).CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{
		UserName: aws.String("alice"), Password: aws.String(awstest.FakeSecret("alice-console"))}); err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(awstest.Fixture(cfg), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(trailBucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(trailBucket),
		Key: aws.String("AWSLogs/123456789012/CloudTrail/us-east-1/2025/03/09/log.json.gz"), Body: strings.NewReader("{}")}); err != nil {
		t.Fatal(err)
	}
}

func signAs(t *testing.T, k awstest.UserKey) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", k.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", k.Secret.Reveal())
}

// isDeniedAnyhow tells a denial however moto words it: the IAM codes, or a
// bare 403 where a JSON client could not read moto's XML error.
func isDeniedAnyhow(err error) bool {
	var re *smithyhttp.ResponseError
	return awsx.IsDenied(err) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden)
}

// forMoto keeps the Allow statements of a policy, on every resource and
// without conditions, and checks nothing else was lost.
func forMoto(t *testing.T, policy string) string {
	t.Helper()
	var doc struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatalf("docs/policies/respond.json: %v", err)
	}
	var kept []map[string]any
	for _, st := range doc.Statement {
		if st["Effect"] != "Allow" {
			continue
		}
		delete(st, "Condition")
		st["Resource"] = "*"
		kept = append(kept, st)
	}
	doc.Statement = kept
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
