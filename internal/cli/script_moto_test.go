package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

// Scripts run in parallel, but the moto servers are shared (one of each kind
// per test binary, as for the Go tests): a script that calls `moto` holds
// motoMu until it ends, so scripts that need AWS take turns and the others
// run beside them.
var motoMu sync.Mutex

// scriptState is what the custom commands of one script share.
type scriptState struct {
	t       testscript.T        // the script's own test, to skip it
	srv     *awstest.MotoServer // set by `moto`
	holding bool                // this script holds motoMu
	runtime *fakeRuntime        // set by `lambdaruntime`
}

type scriptStateKey struct{}

func stateOf(ts *testscript.TestScript) *scriptState {
	return ts.Value(scriptStateKey{}).(*scriptState)
}

// scriptTB lets a script command call awstest's helpers, which take a
// testing.TB: a failure fails the script and a skip skips it (not the whole
// TestScripts), cleanups run when the script ends. Setenv sets the variable
// for the script's commands and for this process too (awstest's fixtures
// build their SDK clients from the process environment), and puts the
// process's value back when the script ends; only a script holding motoMu may
// call it, since the process environment is shared.
type scriptTB struct {
	testing.TB // TestScripts itself: only for what the overrides below do not cover
	ts         *testscript.TestScript
	st         *scriptState
}

func newScriptTB(t testing.TB, ts *testscript.TestScript) scriptTB {
	return scriptTB{TB: t, ts: ts, st: stateOf(ts)}
}

func (tb scriptTB) Helper()                      {}
func (tb scriptTB) Failed() bool                 { return false }
func (tb scriptTB) Cleanup(f func())             { tb.ts.Defer(f) }
func (tb scriptTB) Log(args ...any)              { tb.ts.Logf("%s", fmt.Sprint(args...)) }
func (tb scriptTB) Logf(format string, a ...any) { tb.ts.Logf(format, a...) }
func (tb scriptTB) Error(args ...any)            { tb.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (tb scriptTB) Errorf(f string, a ...any)    { tb.ts.Fatalf(f, a...) }
func (tb scriptTB) Fatal(args ...any)            { tb.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (tb scriptTB) Fatalf(f string, a ...any)    { tb.ts.Fatalf(f, a...) }
func (tb scriptTB) Skip(args ...any)             { tb.st.t.Skip(args...) }
func (tb scriptTB) Skipf(f string, a ...any)     { tb.st.t.Skip(fmt.Sprintf(f, a...)) }
func (tb scriptTB) SkipNow()                     { tb.st.t.Skip() }

func (tb scriptTB) TempDir() string {
	dir, err := os.MkdirTemp(filepath.Join(tb.ts.Getenv("WORK"), ".tmp"), "awstest-")
	tb.ts.Check(err)
	return dir
}

func (tb scriptTB) Setenv(key, value string) {
	if !tb.st.holding {
		tb.ts.Fatalf("setenv %s outside moto's lock", key)
	}
	old, had := os.LookupEnv(key)
	tb.ts.Defer(func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	})
	os.Setenv(key, value)
	tb.ts.Setenv(key, value)
}

// cmdMoto resets a shared moto_server and points the script's environment at
// it: AWS_ENDPOINT_URL, the region, dummy credentials (moto's admin), and
// the shared files in $HOME/.aws as a user has them. Where moto_server is
// missing the script is skipped, or fails in CI (awstest.SkipOrFail).
// usage: moto [managed|auth]   (managed: the server that knows AWS's managed
// policies; auth: the one that enforces IAM authorization, where only keys
// made by iamuser sign)
func cmdMoto(t testing.TB) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		start := awstest.Moto
		switch {
		case neg || len(args) > 1 || len(args) == 1 && args[0] != "managed" && args[0] != "auth":
			ts.Fatalf("usage: moto [managed|auth]")
		case len(args) == 1 && args[0] == "auth":
			start = awstest.MotoWithAuth
		case len(args) == 1:
			start = awstest.MotoWithManagedPolicies
		}
		st := stateOf(ts)
		if st.srv != nil {
			ts.Fatalf("moto: called twice")
		}
		motoMu.Lock()
		st.holding = true
		ts.Defer(func() { st.holding = false; motoMu.Unlock() })
		st.srv = start(newScriptTB(t, ts))
		// awstest points these at empty files; scripts write the user's.
		// (Not unset: the AWS CLI takes an empty value as a path.)
		aws := filepath.Join(ts.Getenv("HOME"), ".aws")
		ts.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(aws, "credentials"))
		ts.Setenv("AWS_CONFIG_FILE", filepath.Join(aws, "config"))
	}
}

func motoOf(ts *testscript.TestScript) *awstest.MotoServer {
	st := stateOf(ts)
	if st.srv == nil {
		ts.Fatalf("run moto first")
	}
	return st.srv
}

// cmdIAMUser creates an IAM user with one access key in moto and exports the
// key as $ID_<user> and $SECRET_<user> (write it into a file with expand).
// -admin gives the user an inline policy allowing everything.
// usage: iamuser [-admin] USER
func cmdIAMUser(t testing.TB) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		var policies []string
		if len(args) == 2 && args[0] == "-admin" {
			policies, args = []string{awstest.AdminPolicy}, args[1:]
		}
		if neg || len(args) != 1 {
			ts.Fatalf("usage: iamuser [-admin] USER")
		}
		key := motoOf(ts).CreateUserKey(newScriptTB(t, ts), args[0], policies...)
		ts.Setenv("ID_"+args[0], key.KeyID)
		ts.Setenv("SECRET_"+args[0], key.Secret.Reveal())
	}
}

// motoConfig is the SDK configuration of moto's admin, for fixtures: the
// dummy credentials `moto` set in this process's environment, moto's URL.
func motoConfig(ts *testscript.TestScript) aws.Config {
	srv := motoOf(ts)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(awstest.Region))
	ts.Check(err)
	cfg.BaseEndpoint = aws.String(srv.URL)
	return cfg
}

// cmdIAMShow prints what moto holds for an IAM user, one fact a line, for
// stdout's patterns: "key ID STATUS" (oldest first), "inline NAME",
// "attached ARN", "console yes|no".
// usage: iamshow USER
func cmdIAMShow(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: iamshow USER")
	}
	ctx, client, user := context.Background(), iam.NewFromConfig(awstest.Fixture(motoConfig(ts))), aws.String(args[0])
	keys, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
	ts.Check(err)
	slices.SortFunc(keys.AccessKeyMetadata, func(a, b iamtypes.AccessKeyMetadata) int {
		return aws.ToTime(a.CreateDate).Compare(aws.ToTime(b.CreateDate))
	})
	out := ts.Stdout()
	for _, k := range keys.AccessKeyMetadata {
		fmt.Fprintf(out, "key %s %s\n", aws.ToString(k.AccessKeyId), k.Status)
	}
	inline, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: user})
	ts.Check(err)
	for _, name := range inline.PolicyNames {
		fmt.Fprintf(out, "inline %s\n", name)
	}
	attached, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: user})
	ts.Check(err)
	for _, p := range attached.AttachedPolicies {
		fmt.Fprintf(out, "attached %s\n", aws.ToString(p.PolicyArn))
	}
	_, err = client.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: user})
	fmt.Fprintf(out, "console %s\n", map[bool]string{true: "yes", false: "no"}[err == nil])
}

// cmdIAMConsole gives an IAM user a console password in moto.
// usage: iamconsole USER
func cmdIAMConsole(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: iamconsole USER")
	}
	_, err := iam.NewFromConfig(awstest.Fixture(motoConfig(ts))).CreateLoginProfile(context.Background(), &iam.CreateLoginProfileInput{
		UserName: aws.String(args[0]), Password: aws.String("Script-" + args[0] + "-pw1!")})
	ts.Check(err)
}

// cmdS3Put uploads files into a moto bucket, creating the bucket: each FILE
// goes to PREFIX plus its path as given.
// usage: s3put s3://BUCKET/PREFIX FILE...
func cmdS3Put(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || !strings.HasPrefix(args[0], "s3://") {
		ts.Fatalf("usage: s3put s3://BUCKET/PREFIX FILE...")
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(args[0], "s3://"), "/")
	ctx := context.Background()
	client := s3.NewFromConfig(awstest.Fixture(motoConfig(ts)), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
		ts.Check(err)
	}
	for _, name := range args[1:] {
		f, err := os.Open(ts.MkAbs(name))
		ts.Check(err)
		_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + filepath.ToSlash(name)), Body: f})
		f.Close()
		ts.Check(err)
	}
}

// cmdDynamoTable creates a table with the schema of keywarden's DynamoDB
// state store in moto.
// usage: dynamotable NAME
func cmdDynamoTable(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: dynamotable NAME")
	}
	ctx := context.Background()
	ts.Check(watchaws.CreateDynamoStoreTable(ctx, dynamodb.NewFromConfig(awstest.Fixture(motoConfig(ts))), args[0]))
}

// cmdCTLookup serves the records of a CloudTrail log file ({"Records":[...]})
// from a fake LookupEvents (moto has none) for the rest of the script, and
// points AWS_ENDPOINT_URL_CLOUDTRAIL at it. The fake reads the region from
// the request's signature: the script needs credentials and a region.
// Each DENIED region answers AccessDeniedException.
// usage: ctlookup FILE [DENIED]...
func cmdCTLookup(t testing.TB) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 1 {
			ts.Fatalf("usage: ctlookup FILE [DENIED]...")
		}
		var log struct{ Records []json.RawMessage }
		ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &log))
		fixtures := make([]awstest.CloudTrailEventFixture, 0, len(log.Records))
		for _, r := range log.Records {
			fixtures = append(fixtures, awstest.CloudTrailEventFixture{Record: r})
		}
		srv := awstest.NewCloudTrailServer(newScriptTB(t, ts), fixtures)
		srv.SetRateLimit(0) // the quota has tests of its own; scripts must not wait on it
		for _, region := range args[1:] {
			srv.FailRegion(region, "AccessDeniedException", "User is not authorized to perform: cloudtrail:LookupEvents")
		}
		ts.Setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", srv.URL)
	}
}

// scriptConfig is motoConfig signed with the script's own credentials
// ($AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY: an iamuser's key where moto
// enforces authorization).
func scriptConfig(ts *testscript.TestScript) aws.Config {
	cfg := motoConfig(ts)
	if id := ts.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(id, ts.Getenv("AWS_SECRET_ACCESS_KEY"), "")
	}
	return cfg
}

// cmdSNSTopic creates an SNS topic in moto and exports its ARN as
// $TOPIC_<name>.
// usage: snstopic NAME
func cmdSNSTopic(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: snstopic NAME")
	}
	out, err := sns.NewFromConfig(awstest.Fixture(scriptConfig(ts))).CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(args[0])})
	ts.Check(err)
	ts.Setenv("TOPIC_"+args[0], aws.ToString(out.TopicArn))
}

// cmdDrillQueues prints, one a line, the SQS queues named keywarden-drill-*
// ("queue URL") and the subscriptions of TOPIC ("subscription ARN ENDPOINT"):
// what a drill's sns mode leaves behind; then "listed N" (N of them).
// usage: drillqueues TOPIC_ARN
func cmdDrillQueues(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: drillqueues TOPIC_ARN")
	}
	ctx, cfg := context.Background(), scriptConfig(ts)
	qs, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("keywarden-drill-")})
	ts.Check(err)
	for _, u := range qs.QueueUrls {
		fmt.Fprintf(ts.Stdout(), "queue %s\n", u)
	}
	subs, err := sns.NewFromConfig(cfg).ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(args[0])})
	ts.Check(err)
	for _, s := range subs.Subscriptions {
		fmt.Fprintf(ts.Stdout(), "subscription %s %s\n", aws.ToString(s.SubscriptionArn), aws.ToString(s.Endpoint))
	}
	fmt.Fprintf(ts.Stdout(), "listed %d\n", len(qs.QueueUrls)+len(subs.Subscriptions))
}
