package cli

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
)

// intrusion is an exposed key in moto that did what an intruder does: create a
// user, give it a key, make it administrator. The CloudTrail records of
// those calls are served by a LookupEvents fake and written as a log file.
type intrusion struct {
	srv      *awstest.MotoServer
	exposed  awstest.UserKey
	backdoor string // the key the intruder made
	records  []map[string]any
	logs     string
	start    time.Time
}

func newIntrusion(t *testing.T) *intrusion {
	t.Helper()
	srv := awstest.MotoWithManagedPolicies(t)
	srv.SetEnv(t)
	srv.Reset(t)
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	d := &intrusion{srv: srv, exposed: srv.CreateUserKey(t, "deploy"), start: time.Now().UTC().Add(-time.Hour)}
	// The intruder's calls, signed with the exposed key.
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	as := iam.NewFromConfig(awstest.Fixture(cfg))
	if _, err := as.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backdoor")}); err != nil {
		t.Fatal(err)
	}
	k, err := as.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("backdoor")})
	if err != nil {
		t.Fatal(err)
	}
	d.backdoor = aws.ToString(k.AccessKey.AccessKeyId)
	admin := "arn:aws:iam::aws:policy/AdministratorAccess"
	if _, err := as.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("backdoor"), PolicyArn: aws.String(admin)}); err != nil {
		t.Fatal(err)
	}
	d.record("CreateUser", map[string]any{"userName": "backdoor"},
		map[string]any{"user": map[string]any{"userName": "backdoor", "arn": "arn:aws:iam::123456789012:user/backdoor"}})
	d.record("CreateAccessKey", map[string]any{"userName": "backdoor"},
		map[string]any{"accessKey": map[string]any{"accessKeyId": d.backdoor, "userName": "backdoor", "status": "Active"}})
	d.record("AttachUserPolicy", map[string]any{"userName": "backdoor", "policyArn": admin}, nil)
	d.writeLogs(t)
	return d
}

func (d *intrusion) record(name string, req, resp map[string]any) {
	n := len(d.records)
	source := "iam.amazonaws.com"
	if name == "GetSessionToken" {
		source = "sts.amazonaws.com"
	}
	d.records = append(d.records, map[string]any{
		"eventVersion": "1.08", "eventID": "drill-" + name, "eventTime": d.start.Add(time.Duration(n) * time.Minute).Format(time.RFC3339),
		"eventSource": source, "eventName": name, "awsRegion": "us-east-1", "eventType": "AwsApiCall",
		"sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15.0 Python/3.11", "recipientAccountId": "123456789012",
		"userIdentity": map[string]any{"type": "IAMUser", "accountId": "123456789012", "userName": "deploy",
			"arn": "arn:aws:iam::123456789012:user/deploy", "accessKeyId": d.exposed.KeyID},
		"requestParameters": req, "responseElements": resp,
	})
}

// writeLogs writes the records as one gzipped CloudTrail log file in the
// AWSLogs layout.
func (d *intrusion) writeLogs(t *testing.T) {
	d.logs = t.TempDir()
	day := d.start.Format("2006/01/02")
	dir := filepath.Join(d.logs, "AWSLogs", "123456789012", "CloudTrail", "us-east-1", filepath.FromSlash(day))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "123456789012_CloudTrail_us-east-1_"+d.start.Format("20060102T1504Z")+"_drill.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if err := json.NewEncoder(zw).Encode(map[string]any{"Records": d.records}); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	f.Close()
}

// uploadLogs copies the log files into a moto S3 bucket and returns the
// s3:// prefix of their region folder.
func (d *intrusion) uploadLogs(t *testing.T) string {
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(awstest.Fixture(cfg), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(d.logs, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(d.logs, path)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String(filepath.ToSlash(rel)), Body: f})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return "s3://trail/AWSLogs/123456789012/CloudTrail/us-east-1/"
}

func (d *intrusion) fixtures(t *testing.T) []awstest.CloudTrailEventFixture {
	var out []awstest.CloudTrailEventFixture
	for _, r := range d.records {
		raw, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		at, _ := time.Parse(time.RFC3339, r["eventTime"].(string))
		out = append(out, awstest.CloudTrailEventFixture{EventID: r["eventID"].(string), EventName: r["eventName"].(string),
			EventSource: "iam.amazonaws.com", Region: "us-east-1", AccessKeyID: d.exposed.KeyID, Username: "deploy", Time: at, Record: raw})
	}
	return out
}

// respondJSON is the part of the JSON report the drill checks.
type respondJSON struct {
	Incident string `json:"incident"`
	Actions  []struct {
		Kind    string `json:"kind"`
		Applied bool   `json:"applied"`
	} `json:"actions"`
	Review struct {
		Events  int `json:"events"`
		Created []struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
		} `json:"created"`
		Flags []struct {
			Rule string `json:"rule"`
		} `json:"red_flags"`
	} `json:"review"`
}

func TestRespondDrillContainsReviewsAndUndoes(t *testing.T) {
	d := newIntrusion(t)
	ct := awstest.NewCloudTrailServer(t, d.fixtures(t))
	ct.SetEnv(t)
	for _, source := range []struct {
		name string
		args []string
	}{{"LookupEvents", []string{"--regions", "us-east-1"}}, {"log files", []string{"--no-lookup", "--logs", d.logs}},
		{"logs in S3", []string{"--no-lookup", "--logs", d.uploadLogs(t)}}} {
		t.Run(source.name, func(t *testing.T) {
			stdout, stderr, code := runMain(t, append([]string{"respond", d.exposed.KeyID, "--format", "json"}, source.args...)...)
			if code != ExitOK {
				t.Fatalf("plan: exit %d\n%s", code, stderr)
			}
			var plan respondJSON
			if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
				t.Fatalf("plan is not json: %v\n%s", err, stdout)
			}
			if plan.Incident != "" || d.keyActive(t) != true {
				t.Fatal("without --apply nothing may change")
			}
			got := map[string]bool{}
			for _, c := range plan.Review.Created {
				got[c.Kind+" "+c.ID] = true
			}
			if plan.Review.Events != 3 || !got["iam-user backdoor"] || !got["access-key "+d.backdoor] {
				t.Errorf("review: want 3 events, the user backdoor and its key created; got %d events, %v", plan.Review.Events, got)
			}
			flags := map[string]bool{}
			for _, f := range plan.Review.Flags {
				flags[f.Rule] = true
			}
			if !flags["KW-CT-IAM-CREATE-USER"] || !flags["KW-CT-IAM-ADMIN-ATTACHED"] {
				t.Errorf("red flags: want user creation and admin attached, got %v", flags)
			}
		})
	}

	before := time.Now().UTC().Truncate(time.Second)
	stdout, stderr, code := runMain(t, "respond", d.exposed.KeyID, "--apply", "--regions", "us-east-1", "--format", "json")
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s", code, stderr)
	}
	var rep respondJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Incident == "" {
		t.Fatalf("apply: want an incident id: %v\n%s", err, stdout)
	}
	if d.keyActive(t) {
		t.Error("the exposed key is still active")
	}
	deny := d.denyBefore(t)
	if deny.Before(before) || deny.After(time.Now().Add(time.Second)) {
		t.Errorf("the session deny is for sessions before %v, want the time of the response (%v)", deny, before)
	}
	if !d.userExists(t, "deploy") {
		t.Error("respond must never delete the key's user")
	}

	if _, stderr, code := runMain(t, "respond", "undo", rep.Incident); code != ExitOK {
		t.Fatalf("undo: exit %d\n%s", code, stderr)
	}
	if !d.keyActive(t) || !d.denyBefore(t).IsZero() {
		t.Error("undo must reactivate the key and remove the deny policy")
	}
	if _, stderr, code := runMain(t, "respond", "undo", rep.Incident); code != ExitError || !strings.Contains(stderr, "nothing to undo") {
		t.Errorf("a second undo: want exit 2 'nothing to undo', got %d %s", code, stderr)
	}
}

func (d *intrusion) admin(t *testing.T) *respondaws.IAM {
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return respondaws.New(cfg)
}

func (d *intrusion) keyActive(t *testing.T) bool {
	owner, err := d.admin(t).KeyOwner(context.Background(), d.exposed.KeyID)
	if err != nil {
		t.Fatalf("the exposed key: %v", err)
	}
	return owner.Status == "Active"
}

func (d *intrusion) denyBefore(t *testing.T) time.Time {
	before, ok, err := d.admin(t).RevokeSessionsPolicy(context.Background(), "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return time.Time{}
	}
	return before
}

func (d *intrusion) userExists(t *testing.T, name string) bool {
	_, err := d.admin(t).UserPolicies(context.Background(), name)
	return err == nil
}

func TestRespondFollowsATemporaryKeyAndReplaces(t *testing.T) {
	d := newIntrusion(t)
	asia := awstest.FakeSessionKeyID("minted", 123456789012)
	d.record("GetSessionToken", map[string]any{"durationSeconds": 3600},
		map[string]any{"credentials": map[string]any{"accessKeyId": asia, "expiration": "Nov 23, 2026, 11:45:22 PM", "sessionToken": "x"}})
	n := len(d.records)
	d.records = append(d.records, map[string]any{"eventID": "drill-by-session", "eventTime": d.start.Add(time.Duration(n) * time.Minute).Format(time.RFC3339),
		"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets", "awsRegion": "us-east-1",
		"userIdentity": map[string]any{"type": "IAMUser", "accessKeyId": asia, "userName": "deploy", "accountId": "123456789012"}})
	d.writeLogs(t)
	health := filepath.Join(t.TempDir(), "health.json")
	event := `{"source":"aws.health","detail-type":"AWS Health Event","detail":{"eventTypeCode":"AWS_RISK_CREDENTIALS_EXPOSED","affectedEntities":[{"entityValue":"` + asia + `"}]}}`
	if err := os.WriteFile(health, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	env := filepath.Join(t.TempDir(), "app.env")
	stdout, stderr, code := runMain(t, "respond", "--health-event", health, "--no-lookup", "--logs", d.logs,
		"--apply", "--replace-to", "envfile:"+env, "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep struct {
		MintedBy    string `json:"minted_by"`
		Replacement string `json:"replacement_key_id"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.MintedBy != d.exposed.KeyID || d.keyActive(t) {
		t.Errorf("the temporary key's parent %s must be found and contained; got minted_by %q", d.exposed.KeyID, rep.MintedBy)
	}
	data, _ := os.ReadFile(env)
	if rep.Replacement == "" || !strings.Contains(string(data), "AWS_ACCESS_KEY_ID="+rep.Replacement) {
		t.Errorf("the replacement key must be delivered: %q\n%s", rep.Replacement, data)
	}
}
