package auditaws_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	aatypes "github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
)

// findingsOf runs the audit's checks on inv and keys them "CHECK resource",
// with " unknown" for an undecided one.
func findingsOf(inv *audit.Inventory) map[string]bool {
	got := map[string]bool{}
	for _, f := range audit.Run(*inv, audit.DefaultConfig(inv.ReportGeneratedAt)) {
		k := f.Check + " " + f.Resource
		if f.Evidence["verdict"] == "unknown" {
			k += " unknown"
		}
		got[k] = true
	}
	return got
}

// logsTrail makes trail name multi-region, logging, and delivering to a
// new log group; it returns the group's ARN.
func (f *infra) logsTrail(name string) string {
	f.t.Helper()
	ctx := context.Background()
	f.trail(name, true, true)
	logs := cloudwatchlogs.NewFromConfig(awstest.Fixture(f.cfg))
	f.must(logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)}))
	arn := "arn:aws:logs:" + awstest.Region + ":123456789012:log-group:" + name + ":*"
	f.must(f.ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(name), CloudWatchLogsLogGroupArn: aws.String(arn),
		CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/trail-logs")}))
	return arn
}

// watch adds a metric filter with pattern to group, and an alarm on its
// metric notifying topic ("" for none).
func (f *infra) watch(group, metric, pattern, topic string) {
	f.t.Helper()
	ctx := context.Background()
	logs := cloudwatchlogs.NewFromConfig(awstest.Fixture(f.cfg))
	f.must(logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(group),
		FilterName: aws.String(metric), FilterPattern: aws.String(pattern),
		MetricTransformations: []logstypes.MetricTransformation{{MetricName: aws.String(metric), MetricNamespace: aws.String("CISBenchmark"),
			MetricValue: aws.String("1")}}}))
	in := &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(metric), MetricName: aws.String(metric), Namespace: aws.String("CISBenchmark"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, ActionsEnabled: aws.Bool(true)}
	if topic != "" {
		in.AlarmActions = []string{topic}
	}
	// moto speaks CloudWatch's Query protocol only (the SDK's default is CBOR).
	query := func(o *cloudwatch.Options) { o.Protocol = awsquery.New(smithy.NewServiceSchema(nil, "2010-08-01")) }
	f.must(cloudwatch.NewFromConfig(awstest.Fixture(f.cfg), query).PutMetricAlarm(ctx, in))
}

// TestReadAccountReadsTheTrailsLogGroup: the metric filters of a logging
// multi-region trail's group, the alarms on their metrics and the alarms'
// subscribers decide the monitoring checks. Root use is watched (a filter
// in the benchmark's form, spelled otherwise, an alarm to a topic with a
// subscriber); unauthorized calls have a filter whose alarm notifies a topic
// nobody subscribed to; CloudTrail changes a filter missing StopLogging.
func TestReadAccountReadsTheTrailsLogGroup(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	a.User("dev", "")
	f := newInfra(t)
	ctx := context.Background()
	group := f.logsTrail("main")
	snsc := sns.NewFromConfig(awstest.Fixture(f.cfg))
	heard, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("security")})
	f.must(heard, err)
	f.must(snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: heard.TopicArn, Protocol: aws.String("email"),
		Endpoint: aws.String("security@example.com")}))
	unheard, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("nobody")})
	f.must(unheard, err)
	f.watch("main", "root", `{$.userIdentity.type="Root"&&$.eventType!="AwsServiceEvent"&&$.userIdentity.invokedBy NOT EXISTS}`,
		aws.ToString(heard.TopicArn))
	f.watch("main", "denied", `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`, aws.ToString(unheard.TopicArn))
	f.watch("main", "trail", `{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }`,
		aws.ToString(heard.TopicArn))

	inv, stats := readAccount(t)
	g, ok := inv.LogGroups[group]
	if !ok || g.Unread != "" || len(g.Filters) != 3 || len(g.Alarms) != 3 || g.Name != "main" || g.Region != awstest.Region {
		t.Fatalf("log group %s: %+v (read %v)", group, g, ok)
	}
	if g.Subscribers[aws.ToString(heard.TopicArn)] != 1 || g.Subscribers[aws.ToString(unheard.TopicArn)] != 0 {
		t.Errorf("subscribers %v, want 1 on security, 0 on nobody", g.Subscribers)
	}
	got := findingsOf(inv)
	root := "arn:aws:iam::123456789012:root"
	for _, id := range []string{"KW-MON-UNAUTHORIZED-API", "KW-MON-CLOUDTRAIL-CONFIG", "KW-MON-IAM-POLICY"} {
		if !got[id+" "+root] {
			t.Errorf("no %s finding", id)
		}
	}
	if got["KW-MON-ROOT-USE "+root] || got["KW-MON-ROOT-USE "+root+" unknown"] {
		t.Error("root use is watched, yet reported")
	}
	if stats.Calls["cloudwatch logs:DescribeMetricFilters"] != 1 || stats.Calls["cloudwatch:DescribeAlarmsForMetric"] != 3 ||
		stats.Calls["sns:ListSubscriptionsByTopic"] != 2 {
		t.Errorf("calls %v: want 1 DescribeMetricFilters, 3 DescribeAlarmsForMetric, 2 ListSubscriptionsByTopic", stats.Calls)
	}
}

// TestReadAccountReadsTheTrailBucket: a trail bucket's ACL, policy, Block
// Public Access and logging, read from moto; public through its ACL or its
// policy, private behind the block, logged or not.
func TestReadAccountReadsTheTrailBucket(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	a.User("dev", "")
	f := newInfra(t)
	ctx := context.Background()
	f.trail("open", true, true)
	f.trail("closed", true, true)
	s3c := s3.NewFromConfig(awstest.Fixture(f.cfg), func(o *s3.Options) { o.UsePathStyle = true })
	f.must(s3c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("trail-logs-open"), ACL: s3types.BucketCannedACLPublicRead}))
	f.must(s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("trail-logs-open"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::trail-logs-open/*"}]}`)}))
	f.must(s3c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("trail-logs-closed"), ACL: s3types.BucketCannedACLPublicRead}))
	f.must(s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("trail-logs-closed"),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true),
			IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
	f.must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("access-logs")}))
	f.must(s3c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("access-logs"), ACL: "log-delivery-write"}))
	f.must(s3c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String("trail-logs-closed"),
		BucketLoggingStatus: &s3types.BucketLoggingStatus{LoggingEnabled: &s3types.LoggingEnabled{
			TargetBucket: aws.String("access-logs"), TargetPrefix: aws.String("trail/")}}}))

	inv, _ := readAccount(t)
	open, closed := inv.TrailBuckets["trail-logs-open"], inv.TrailBuckets["trail-logs-closed"]
	if !open.ACLRead || !slices.Contains(open.PublicGrants, "AllUsers:READ") || !strings.Contains(open.Policy, "Anyone") ||
		!open.BlockRead || open.Block != (audit.PublicAccessBlock{}) || open.Logging != audit.No {
		t.Errorf("open bucket: %+v", open)
	}
	if !closed.BlockRead || !closed.Block.IgnorePublicACLs || !closed.Block.RestrictPublicBuckets || !closed.PolicyRead ||
		closed.Policy != "" || closed.Logging != audit.Yes || closed.LogTarget != "access-logs" {
		t.Errorf("closed bucket: %+v", closed)
	}
	got := findingsOf(inv)
	for k, want := range map[string]bool{
		"KW-CT-BUCKET-PUBLIC arn:aws:s3:::trail-logs-open": true, "KW-CT-BUCKET-PUBLIC arn:aws:s3:::trail-logs-closed": false,
		"KW-CT-BUCKET-NO-LOGGING arn:aws:s3:::trail-logs-open": true, "KW-CT-BUCKET-NO-LOGGING arn:aws:s3:::trail-logs-closed": false,
	} {
		if got[k] != want {
			t.Errorf("%s: %v, want %v", k, got[k], want)
		}
	}
}

// TestReadAccountReadsSecurityContactAndAnalyzers: no security contact is
// a finding until one is put; a region without an analyzer is a finding
// until one is created (the Access Analyzer stand-in: moto serves none);
// a denied listing is a gap and an unknown finding, never a pass.
func TestReadAccountReadsSecurityContactAndAnalyzers(t *testing.T) {
	srv := awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	a.User("dev", "")
	f := newInfra(t)
	ctx := context.Background()
	root := "arn:aws:iam::123456789012:root"
	analyzer := "arn:aws:access-analyzer:" + awstest.Region + ":123456789012:analyzer"

	inv, _ := readAccount(t)
	got := findingsOf(inv)
	if inv.SecurityContact != audit.No || !got["KW-NO-SECURITY-CONTACT "+root] {
		t.Errorf("no contact: %v, findings %v", inv.SecurityContact, got)
	}
	if !got["KW-ACCESS-ANALYZER-OFF "+analyzer] {
		t.Errorf("no analyzer: findings %v", got)
	}

	f.must(account.NewFromConfig(awstest.Fixture(f.cfg)).PutAlternateContact(ctx, &account.PutAlternateContactInput{
		AlternateContactType: accounttypes.AlternateContactTypeSecurity, Name: aws.String("Security team"),
		Title: aws.String("Security"), EmailAddress: aws.String("security@example.com"), PhoneNumber: aws.String("+15555550100")}))
	f.must(accessanalyzer.NewFromConfig(awstest.Fixture(f.cfg)).CreateAnalyzer(ctx, &accessanalyzer.CreateAnalyzerInput{
		AnalyzerName: aws.String("external"), Type: aatypes.TypeAccount}))
	inv, _ = readAccount(t)
	got = findingsOf(inv)
	if inv.SecurityContact != audit.Yes || got["KW-NO-SECURITY-CONTACT "+root] || got["KW-ACCESS-ANALYZER-OFF "+analyzer] {
		t.Errorf("contact %v, findings %v: want neither finding", inv.SecurityContact, got)
	}
	// ListAnalyzers returns the tags (IAM.23): the untagged one fails.
	f.must(accessanalyzer.NewFromConfig(awstest.Fixture(f.cfg)).CreateAnalyzer(ctx, &accessanalyzer.CreateAnalyzerInput{
		AnalyzerName: aws.String("tagged"), Type: aatypes.TypeAccount, Tags: map[string]string{"owner": "security"}}))
	inv, _ = readAccount(t)
	got = findingsOf(inv)
	if !got["KW-ANALYZER-UNTAGGED "+analyzer+"/external"] || got["KW-ANALYZER-UNTAGGED "+analyzer+"/tagged"] {
		t.Errorf("findings %v: want KW-ANALYZER-UNTAGGED for external only", got)
	}

	srv.DenyAccessAnalyzer(awstest.Region)
	inv, _ = readAccount(t)
	got = findingsOf(inv)
	if !got["KW-ACCESS-ANALYZER-OFF "+root+" unknown"] || !slices.Equal(inv.AnalyzerRegionsUnread, []string{awstest.Region}) {
		t.Errorf("denied: unread %v, findings %v; want an unknown finding", inv.AnalyzerRegionsUnread, got)
	}
	if !slices.ContainsFunc(inv.Unread, func(g audit.Gap) bool {
		return g.Source == "region "+awstest.Region && strings.Contains(g.Reason, "access-analyzer:ListAnalyzers denied")
	}) {
		t.Errorf("denied: gaps %v, want the region's naming access-analyzer:ListAnalyzers", inv.Unread)
	}
}

// TestTrailFactReadsNeedTheDocumentedPolicy: against moto with IAM
// enforcement on, the documented policy reads a trail's bucket and log
// group in full; without s3:GetBucketAcl and logs:DescribeMetricFilters the
// reads are named as not read and their checks are unknown, never passed.
func TestTrailFactReadsNeedTheDocumentedPolicy(t *testing.T) {
	// moto names two actions otherwise than IAM does: CloudWatch's by its
	// signing name (monitoring:), and S3's bucket-level Block Public Access
	// read, whose ?publicAccessBlock it does not map, s3:ListBucket (IAM:
	// s3:GetBucketPublicAccessBlock). The documented policy keeps IAM's
	// names; moto gets its own beside them.
	policy := strings.Replace(readDoc(t, "docs/policies/audit.json"), `"sns:ListSubscriptionsByTopic"`,
		`"sns:ListSubscriptionsByTopic", "monitoring:DescribeAlarmsForMetric", "s3:ListBucket"`, 1)
	s := awstest.MotoWithAuth(t)
	admin := s.CreateUserKey(t, "admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	t.Setenv("AWS_ACCESS_KEY_ID", admin.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", admin.Secret.Reveal())
	f := newInfra(t)
	group := f.logsTrail("main")
	snsc := sns.NewFromConfig(awstest.Fixture(f.cfg))
	topic, err := snsc.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("security")})
	f.must(topic, err)
	f.must(snsc.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"),
		Endpoint: aws.String("security@example.com")}))
	f.watch("main", "root", audit.MonitorPatterns()["KW-MON-ROOT-USE"], aws.ToString(topic.TopicArn))

	short := policy
	for _, action := range []string{`"s3:GetBucketAcl",`, `"logs:DescribeMetricFilters",`, `"cloudtrail:ListTags",`} {
		short = strings.Replace(short, action, "", 1)
	}
	for _, tt := range []struct {
		name, user, policy string
		denied             bool
	}{{"the documented policy", "auditor", policy, false}, {"without the ACL, filter and tag reads", "auditor-short", short, true}} {
		t.Run(tt.name, func(t *testing.T) {
			auditor := s.CreateUserKey(t, tt.user, tt.policy)
			t.Setenv("AWS_ACCESS_KEY_ID", auditor.KeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", auditor.Secret.Reveal())
			inv, _ := readAccount(t)
			var sources []string
			for _, g := range inv.Unread {
				sources = append(sources, g.Source)
			}
			got := findingsOf(inv)
			bucket := "arn:aws:s3:::trail-logs-main"
			root := "arn:aws:iam::123456789012:root"
			if !tt.denied {
				if g := inv.LogGroups[group]; g.Unread != "" || len(g.Filters) != 1 || len(g.Alarms) != 1 {
					t.Errorf("log group %+v, want its filter and alarm", g)
				}
				if b := inv.TrailBuckets["trail-logs-main"]; !b.ACLRead || !b.PolicyRead || !b.BlockRead || b.Logging == audit.Unknown {
					t.Errorf("bucket %+v, want every fact read (warnings %q)", b, inv.Warnings)
				}
				if len(inv.Trails) != 1 || !inv.Trails[0].TagsRead {
					t.Errorf("trails %+v: want the trail's tags read", inv.Trails)
				}
				if got["KW-MON-ROOT-USE "+root] || got["KW-MON-ROOT-USE "+root+" unknown"] || got["KW-CT-BUCKET-PUBLIC "+bucket+" unknown"] {
					t.Errorf("findings %v: root use is watched and the bucket readable", got)
				}
				return
			}
			for _, want := range []string{"s3:GetBucketAcl", "logs:DescribeMetricFilters", "cloudtrail:ListTags"} {
				if !slices.Contains(sources, want) {
					t.Errorf("not read %v, want %s", sources, want)
				}
			}
			for _, want := range []string{"KW-CT-BUCKET-PUBLIC " + bucket + " unknown", "KW-MON-ROOT-USE " + root + " unknown",
				"KW-CT-UNTAGGED " + inv.Trails[0].ARN + " unknown"} {
				if !got[want] {
					t.Errorf("no %s: %v", want, got)
				}
			}
		})
	}
}
