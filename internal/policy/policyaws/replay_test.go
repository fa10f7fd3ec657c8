package policyaws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/policy/policyaws"
	"github.com/keywarden/keywarden/internal/state"
)

const (
	account = "123456789012" // moto's
	inBkt   = "orders-in"
	outBkt  = "reports-out"
	ledger  = "private-ledger" // never touched by the workload
	queue   = "jobs"
	topic   = "alerts"
	table   = "orders"
	role    = "app-worker"
	allowed = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// world is an account on moto with IAM enforcement on: an admin whose key
// runs keywarden, and the workload's user app with broad rights (a customer
// managed allow-all copy, since moto's auth server loads no AWS managed
// policies, and an inline policy of its own).
type world struct {
	admin, app aws.Config
	appUser    awstest.UserKey
	ami        string
	queueURL   string
	topicARN   string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv := awstest.MotoWithAuth(t)
	ctx := context.Background()
	base, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin := srv.CreateUserKey(t, "keywarden-admin", allowed)
	app := srv.CreateUserKey(t, "app", `{"Version":"2012-10-17","Statement":[{"Sid":"Data","Effect":"Allow","Action":["s3:*","sqs:*"],"Resource":"*"}]}`)
	w := &world{admin: key(base, admin), app: key(base, app), appUser: app}
	c := awsx.IAM(awstest.Fixture(w.admin))
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("broad"), PolicyDocument: aws.String(allowed)})
	if err != nil {
		t.Fatal(err)
	}
	must(t, err2(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("app"), PolicyArn: p.Policy.Arn})))
	w.setup(t, ctx)
	return w
}

func key(cfg aws.Config, k awstest.UserKey) aws.Config {
	return awsx.WithKey(cfg, credential.Key{ID: k.KeyID, Secret: k.Secret})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func err2[T any](_ T, err error) error { return err }

// setup makes the resources the workload uses, as the admin.
func (w *world) setup(t *testing.T, ctx context.Context) {
	admin := awstest.Fixture(w.admin) // a create retried after a lost answer is no duplicate
	s3c := s3.NewFromConfig(admin, func(o *s3.Options) { o.UsePathStyle = true })
	for _, b := range []string{inBkt, outBkt, ledger} {
		must(t, err2(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})))
	}
	must(t, err2(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(ledger), Key: aws.String("2026.csv"), Body: strings.NewReader("x")})))
	q, err := sqs.NewFromConfig(admin).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queue)})
	must(t, err)
	w.queueURL = aws.ToString(q.QueueUrl)
	tp, err := sns.NewFromConfig(admin).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(topic)})
	must(t, err)
	w.topicARN = aws.ToString(tp.TopicArn)
	must(t, err2(dynamodb.NewFromConfig(admin).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	})))
	ic := awsx.IAM(admin)
	must(t, err2(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})))
	must(t, err2(ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(role)})))
	must(t, err2(ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(role), RoleName: aws.String(role)})))
	imgs, err := ec2.NewFromConfig(w.admin).DescribeImages(ctx, &ec2.DescribeImagesInput{})
	must(t, err)
	if len(imgs.Images) == 0 {
		t.Fatal("moto serves no AMI")
	}
	w.ami = aws.ToString(imgs.Images[0].ImageId)
}

// call is one call of the workload: the CloudTrail event it leaves (source,
// name, request parameters, resources) and the call itself.
type call struct {
	source, name string
	params       map[string]any
	resources    []string // ARNs CloudTrail names in resources[]
	do           func(ctx context.Context, cfg aws.Config) error
}

func arnS3(b, k string) string {
	if k == "" {
		return "arn:aws:s3:::" + b
	}
	return "arn:aws:s3:::" + b + "/" + k
}

// workload is the realistic sequence: read an order, write a report in a
// second bucket, queue and take a job, publish an alert, keep a DynamoDB
// row, start a worker instance with a role (the PassRole), and ask STS who
// it is (a call that needs no permission).
func (w *world) workload() []call {
	s3c := func(cfg aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	}
	var receipt string
	return []call{
		{"sts.amazonaws.com", "GetCallerIdentity", nil, nil, func(ctx context.Context, c aws.Config) error {
			return err2(sts.NewFromConfig(c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
		}},
		{"s3.amazonaws.com", "PutObject", map[string]any{"bucketName": inBkt, "key": "2026/12/o-1.json"}, []string{arnS3(inBkt, "2026/12/o-1.json"), arnS3(inBkt, "")}, func(ctx context.Context, c aws.Config) error {
			return err2(s3c(c).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(inBkt), Key: aws.String("2026/12/o-1.json"), Body: strings.NewReader(`{"id":1}`)}))
		}},
		{"s3.amazonaws.com", "ListObjects", map[string]any{"bucketName": inBkt, "list-type": "2", "prefix": "2026"}, []string{arnS3(inBkt, "")}, func(ctx context.Context, c aws.Config) error {
			return err2(s3c(c).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(inBkt), Prefix: aws.String("2026")}))
		}},
		{"s3.amazonaws.com", "GetObject", map[string]any{"bucketName": inBkt, "key": "2026/12/o-1.json"}, []string{arnS3(inBkt, "2026/12/o-1.json"), arnS3(inBkt, "")}, func(ctx context.Context, c aws.Config) error {
			out, err := s3c(c).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(inBkt), Key: aws.String("2026/12/o-1.json")})
			if err == nil {
				out.Body.Close()
			}
			return err
		}},
		{"s3.amazonaws.com", "HeadObject", map[string]any{"bucketName": inBkt, "key": "2026/12/o-1.json"}, []string{arnS3(inBkt, "2026/12/o-1.json"), arnS3(inBkt, "")}, func(ctx context.Context, c aws.Config) error {
			return err2(s3c(c).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(inBkt), Key: aws.String("2026/12/o-1.json")}))
		}},
		{"s3.amazonaws.com", "PutObject", map[string]any{"bucketName": outBkt, "key": "daily/2026-12-03.csv"}, []string{arnS3(outBkt, "daily/2026-12-03.csv"), arnS3(outBkt, "")}, func(ctx context.Context, c aws.Config) error {
			return err2(s3c(c).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(outBkt), Key: aws.String("daily/2026-12-03.csv"), Body: strings.NewReader("a,b\n")}))
		}},
		{"sqs.amazonaws.com", "SendMessage", map[string]any{"queueUrl": w.queueURL}, nil, func(ctx context.Context, c aws.Config) error {
			return err2(sqs.NewFromConfig(c).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(w.queueURL), MessageBody: aws.String("job")}))
		}},
		{"sqs.amazonaws.com", "ReceiveMessage", map[string]any{"queueUrl": w.queueURL}, nil, func(ctx context.Context, c aws.Config) error {
			out, err := sqs.NewFromConfig(c).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.queueURL), MaxNumberOfMessages: 1})
			if err == nil && len(out.Messages) > 0 {
				receipt = aws.ToString(out.Messages[0].ReceiptHandle)
			}
			return err
		}},
		{"sqs.amazonaws.com", "DeleteMessage", map[string]any{"queueUrl": w.queueURL}, nil, func(ctx context.Context, c aws.Config) error {
			if receipt == "" {
				return fmt.Errorf("no message received to delete")
			}
			return err2(sqs.NewFromConfig(c).DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.queueURL), ReceiptHandle: aws.String(receipt)}))
		}},
		{"sns.amazonaws.com", "Publish", map[string]any{"topicArn": w.topicARN}, nil, func(ctx context.Context, c aws.Config) error {
			return err2(sns.NewFromConfig(c).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(w.topicARN), Message: aws.String("order 1 late")}))
		}},
		{"dynamodb.amazonaws.com", "PutItem", map[string]any{"tableName": table}, nil, func(ctx context.Context, c aws.Config) error {
			return err2(dynamodb.NewFromConfig(c).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
				Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "o-1"}}}))
		}},
		{"dynamodb.amazonaws.com", "GetItem", map[string]any{"tableName": table}, nil, func(ctx context.Context, c aws.Config) error {
			return err2(dynamodb.NewFromConfig(c).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
				Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "o-1"}}}))
		}},
		{"dynamodb.amazonaws.com", "Query", map[string]any{"tableName": table}, nil, func(ctx context.Context, c aws.Config) error {
			return err2(dynamodb.NewFromConfig(c).Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table),
				KeyConditionExpression:    aws.String("id = :v"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: "o-1"}}}))
		}},
		{"ec2.amazonaws.com", "RunInstances", map[string]any{"iamInstanceProfile": map[string]any{"name": role}}, nil, func(ctx context.Context, c aws.Config) error {
			return err2(ec2.NewFromConfig(c).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(w.ami), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				InstanceType: ec2types.InstanceTypeT3Micro, IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String(role)}}))
		}},
		{"ec2.amazonaws.com", "DescribeInstances", nil, nil, func(ctx context.Context, c aws.Config) error {
			return err2(ec2.NewFromConfig(c).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}))
		}},
	}
}

// outside is a call the workload never made: reading another bucket.
func outside(ctx context.Context, c aws.Config) error {
	out, err := s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(ledger), Key: aws.String("2026.csv")})
	if err == nil {
		out.Body.Close()
	}
	return err
}

// outsideAction is a call of an action the workload never used.
func outsideAction(ctx context.Context, c aws.Config) error {
	return err2(awsx.IAM(c).ListUsers(ctx, &iam.ListUsersInput{}))
}

// trail writes the CloudTrail records the calls leave, in the documented
// record shape (eventVersion 1.08), for the principal's access key.
func trail(t *testing.T, calls []call, u awstest.UserKey, at time.Time) []byte {
	var recs []map[string]any
	for i, c := range calls {
		r := map[string]any{
			"eventVersion": "1.08", "eventSource": c.source, "eventName": c.name, "awsRegion": awstest.Region,
			"eventTime": at.Add(time.Duration(i) * time.Second).UTC().Format(time.RFC3339), "eventType": "AwsApiCall",
			"sourceIPAddress": "203.0.113.7", "recipientAccountId": account, "eventID": fmt.Sprintf("ev-%04d", i),
			"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": u.ARN,
				"accountId": account, "accessKeyId": u.KeyID, "userName": u.User},
			"requestParameters": c.params,
		}
		for _, a := range c.resources {
			r["resources"] = append(asList(r["resources"]), map[string]any{"ARN": a, "accountId": account})
		}
		recs = append(recs, r)
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	must(t, err)
	return b
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// suggestFrom is what `policy suggest` makes of the trail: the real
// engine over the CloudTrail records the test wrote from the calls made.
func suggestFrom(t *testing.T, records []byte, w *world, at time.Time) policy.Suggestion {
	t.Helper()
	o, err := policy.NewObserved(policy.DefaultThreshold)
	must(t, err)
	must(t, cloudtrail.ReadReader(context.Background(), bytes.NewReader(records), "trail.json", cloudtrail.Options{},
		func(e cloudtrail.Event) error { o.Add(e); return nil }))
	s, err := o.Suggest(policy.Options{Principal: policy.Principal{Type: "user", Name: w.appUser.User, ARN: w.appUser.ARN,
		Account: account, KeyID: w.appUser.KeyID}, Since: at.Add(-time.Hour), Until: at.Add(time.Hour)})
	must(t, err)
	return s
}

// motoBlind are the services whose calls moto authorizes against Resource
// "*" only (its responses name a resource for S3, SQS, IAM roles and STS
// AssumeRole alone): a statement naming a concrete ARN of theirs never
// matches there, though it does in AWS.
var motoBlind = map[string]bool{"sns": true, "dynamodb": true, "ec2": true}

// motoView is doc as moto can enforce it: motoBlind services' statements
// on "*". Their concrete resources are checked against the suggested
// document itself (iampolicy.AllowsCertainly) by the replay.
func motoView(t *testing.T, doc json.RawMessage) json.RawMessage {
	var d map[string]any
	must(t, json.Unmarshal(doc, &d))
	for _, s := range d["Statement"].([]any) {
		st := s.(map[string]any)
		actions, blind := []any{st["Action"]}, true
		if l, ok := st["Action"].([]any); ok {
			actions = l
		}
		for _, a := range actions {
			name, _ := a.(string)
			blind = blind && motoBlind[strings.SplitN(name, ":", 2)[0]]
		}
		if blind {
			st["Resource"] = "*"
		}
	}
	b, err := json.Marshal(d)
	must(t, err)
	return b
}

func denied(err error) bool { return err != nil && awsx.IsDenied(err) }

// The replay proof: the broad user's workload runs, its trail becomes a
// suggestion, apply swaps the user's policies for it, and the workload
// replayed to 1,000 calls is never denied while a call outside it is; undo
// brings the broad rights back.
func TestReplayOnEnforcedMotoDeniesNothingObservedAndEverythingElse(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	calls := w.workload()
	for _, c := range calls {
		must(t, c.do(ctx, w.app))
	}
	must(t, outside(ctx, w.app))
	must(t, outsideAction(ctx, w.app))
	at := time.Now().UTC()
	s := suggestFrom(t, trail(t, calls, w.appUser, at), w, at)
	suggested, err := iampolicy.Parse(string(s.Policy))
	must(t, err)

	e := engine(t, w.admin)
	before, err := e.IAM.Current(ctx, s.Principal)
	must(t, err)
	grantedBefore := grantedActions(t, before)
	s.Policy = motoView(t, s.Policy)
	a, err := e.Apply(ctx, s, policy.ApplyOptions{KeepDays: 30})
	must(t, err)
	after, err := e.IAM.Current(ctx, s.Principal)
	must(t, err)
	if len(after.Attached) != 1 || after.Attached[0].ARN != a.ARN || len(after.Inline) != 0 {
		t.Fatalf("after apply the user holds %+v, want only %s", after, a.ARN)
	}

	made, refused := 0, 0
	for made < 1000 {
		for _, c := range calls {
			if made == 1000 {
				break
			}
			made++
			if err := c.do(ctx, w.app); err != nil {
				refused++
				t.Errorf("replayed %s %s: %v", c.source, c.name, err)
			}
		}
	}
	// moto cannot see the resources of motoBlind calls: hold them to the suggested document.
	for _, act := range s.Actions {
		if !motoBlind[strings.SplitN(act.Action, ":", 2)[0]] {
			continue
		}
		for _, r := range act.Resources {
			if !iampolicy.AllowsCertainly(iampolicy.Only(suggested), act.Action, r) {
				t.Errorf("the suggested document denies %s on %s", act.Action, r)
			}
		}
	}
	if err := outside(ctx, w.app); !denied(err) {
		t.Errorf("reading %s after apply: %v, want AccessDenied", ledger, err)
	}
	if err := outsideAction(ctx, w.app); !denied(err) {
		t.Errorf("iam:ListUsers after apply: %v, want AccessDenied", err)
	}
	scoped := 0
	for _, st := range suggested.Statements {
		if !slices.Contains(st.Resource, "*") {
			scoped++
		}
	}
	t.Logf("replay: %d calls, %d denied (%.1f per 1,000); actions granted before: %s, after: %d; statements scoped to named resources: %d of %d",
		made, refused, float64(refused)*1000/float64(made), grantedBefore, len(s.Actions), scoped, len(suggested.Statements))

	if _, err := e.Undo(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	back, err := e.IAM.Current(ctx, s.Principal)
	must(t, err)
	same(t, before, back)
	must(t, outside(ctx, w.app))
	must(t, outsideAction(ctx, w.app))
	if _, exists, err := e.IAM.PolicyExists(ctx, a.Name); err != nil || exists {
		t.Errorf("after undo policy %s exists=%v (%v)", a.Name, exists, err)
	}
}

// grantedActions says what the snapshot grants: "*" (every action) or the
// sorted patterns.
func grantedActions(t *testing.T, c policy.Current) string {
	eff, err := c.Effective()
	must(t, err)
	var out []string
	for _, r := range eff.Allow {
		out = append(out, r.Statement.Action...)
	}
	sort.Strings(out)
	return "every action (" + strings.Join(out, ", ") + ")"
}

func engine(t *testing.T, admin aws.Config) *policy.Engine {
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return &policy.Engine{IAM: policyaws.New(admin), DB: db, Now: time.Now}
}

// same fails unless b is a exactly (attachments, default versions, inline
// documents byte for byte, groups).
func same(t *testing.T, a, b policy.Current) {
	t.Helper()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("policies not put back:\nbefore %s\nafter  %s", ja, jb)
	}
}
