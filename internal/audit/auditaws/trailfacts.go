package auditaws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
)

// trailFacts reads what the trails point at: each trail bucket's ACL,
// policy, Block Public Access and access logging, and each log group's
// metric filters, the alarms on their metrics and the alarms' SNS
// subscribers. Every read is optional: a failure warns, names the gap, and
// leaves the bucket's or group's facts unknown.
func (r *accountReader) trailFacts(ctx context.Context) {
	r.mu.Lock()
	trails := slices.Clone(r.inv.Trails)
	r.mu.Unlock()
	buckets, groups := map[string]audit.Bucket{}, map[string]audit.LogGroup{}
	for _, t := range trails {
		if _, seen := buckets[t.Bucket]; t.Bucket != "" && !seen {
			buckets[t.Bucket] = r.bucket(ctx, t.Bucket)
		}
		if _, seen := groups[t.LogGroupARN]; t.LogGroupARN != "" && !seen {
			groups[t.LogGroupARN] = r.logGroup(ctx, t.LogGroupARN)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inv.TrailBuckets, r.inv.LogGroups = buckets, groups
}

// S3's groups that make a grant public.
const (
	allUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	authUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
)

// bucket reads a trail bucket's facts in the bucket's own region (S3
// answers only there): one GetBucketLocation, then the ACL, the policy,
// the Block Public Access settings and the logging status.
func (r *accountReader) bucket(ctx context.Context, name string) audit.Bucket {
	b := audit.Bucket{Name: name}
	what := "whether trail bucket " + name + " is public and logged"
	loc, err := awsx.S3Client(r.configIn("")).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
	if err != nil {
		r.optional("s3:GetBucketLocation", what, err)
		b.Unread = "s3:GetBucketLocation: " + awsx.ErrorCode(err)
		return b
	}
	client := awsx.S3Client(r.configIn(bucketRegion(loc.LocationConstraint)))
	acl, err := client.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(name)})
	if err != nil {
		r.optional("s3:GetBucketAcl", "whether trail bucket "+name+"'s ACL is public", err)
	} else {
		b.ACLRead = true
		for _, g := range acl.Grants {
			if g.Grantee == nil {
				continue
			}
			if uri := aws.ToString(g.Grantee.URI); uri == allUsers || uri == authUsers {
				b.PublicGrants = append(b.PublicGrants, uri[strings.LastIndex(uri, "/")+1:]+":"+string(g.Permission))
			}
		}
	}
	pol, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(name)})
	switch {
	case awsx.ErrorCode(err) == "NoSuchBucketPolicy":
		b.PolicyRead = true
	case err != nil:
		r.optional("s3:GetBucketPolicy", "whether trail bucket "+name+"'s policy is public", err)
	default:
		b.PolicyRead, b.Policy = true, aws.ToString(pol.Policy)
	}
	block, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(name)})
	switch {
	case awsx.ErrorCode(err) == "NoSuchPublicAccessBlockConfiguration":
		b.BlockRead = true
	case err != nil:
		r.optional("s3:GetBucketPublicAccessBlock", "trail bucket "+name+"'s Block Public Access settings", err)
	default:
		b.BlockRead = true
		if c := block.PublicAccessBlockConfiguration; c != nil {
			b.Block = audit.PublicAccessBlock{BlockPublicACLs: aws.ToBool(c.BlockPublicAcls), IgnorePublicACLs: aws.ToBool(c.IgnorePublicAcls),
				BlockPublicPolicy: aws.ToBool(c.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets)}
		}
	}
	logging, err := client.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(name)})
	if err != nil {
		r.optional("s3:GetBucketLogging", "whether trail bucket "+name+" logs access", err)
	} else {
		b.Logging = audit.TriOf(logging.LoggingEnabled != nil)
		if logging.LoggingEnabled != nil {
			b.LogTarget = aws.ToString(logging.LoggingEnabled.TargetBucket)
		}
	}
	return b
}

// bucketRegion is the region GetBucketLocation names: none means
// us-east-1, and "EU" is S3's old name for eu-west-1.
func bucketRegion(c s3types.BucketLocationConstraint) string {
	switch c {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return string(c)
}

// logGroup reads a trail's log group in its region: its metric filters,
// the alarms on each filter's metric, and the confirmed subscribers of the
// SNS topics those alarms notify. A group in another account (an
// organization trail's) is left unread: audit that account.
func (r *accountReader) logGroup(ctx context.Context, arn string) audit.LogGroup {
	region, name := audit.SplitLogGroupARN(arn)
	g := audit.LogGroup{ARN: arn, Name: name, Region: region}
	if acct := strings.Split(arn, ":"); len(acct) > 4 && r.inv.AccountID != "" && acct[4] != r.inv.AccountID {
		g.Unread = "in account " + acct[4] + ": audit that account"
		r.unread("log group "+arn, "in another account: its metric filters and alarms (CIS section 4) are judged by auditing account "+acct[4])
		return g
	}
	cfg := r.configIn(region)
	filters := cloudwatchlogs.NewDescribeMetricFiltersPaginator(cloudwatchlogs.NewFromConfig(cfg),
		&cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(name)})
	for filters.HasMorePages() {
		page, err := filters.NextPage(ctx)
		if err != nil {
			r.optional("logs:DescribeMetricFilters", "the metric filters of "+arn, err)
			g.Unread = "logs:DescribeMetricFilters: " + awsx.ErrorCode(err)
			return g
		}
		for _, f := range page.MetricFilters {
			mf := audit.MetricFilter{Name: aws.ToString(f.FilterName), Pattern: aws.ToString(f.FilterPattern)}
			for _, t := range f.MetricTransformations {
				mf.Metrics = append(mf.Metrics, audit.Metric{Namespace: aws.ToString(t.MetricNamespace), Name: aws.ToString(t.MetricName)})
			}
			g.Filters = append(g.Filters, mf)
		}
	}
	if err := r.alarms(ctx, cfg, &g); err != nil {
		g.Unread = err.Error()
	}
	return g
}

// alarms reads the alarms on the group's filter metrics (one
// DescribeAlarmsForMetric per metric) and the subscribers of their topics.
func (r *accountReader) alarms(ctx context.Context, cfg aws.Config, g *audit.LogGroup) error {
	cw := cloudwatch.NewFromConfig(cfg, queryProtocol)
	var seen []audit.Metric
	for _, f := range g.Filters {
		for _, m := range f.Metrics {
			if slices.Contains(seen, m) {
				continue
			}
			seen = append(seen, m)
			out, err := cw.DescribeAlarmsForMetric(ctx, &cloudwatch.DescribeAlarmsForMetricInput{
				MetricName: aws.String(m.Name), Namespace: aws.String(m.Namespace)})
			if err != nil {
				r.optional("cloudwatch:DescribeAlarmsForMetric", "the alarms on the metric filters of "+g.ARN, err)
				return fmt.Errorf("cloudwatch:DescribeAlarmsForMetric: %s", awsx.ErrorCode(err))
			}
			for _, a := range out.MetricAlarms {
				g.Alarms = append(g.Alarms, audit.Alarm{Name: aws.ToString(a.AlarmName), Metric: m,
					Actions: a.AlarmActions, Enabled: aws.ToBool(a.ActionsEnabled)})
			}
		}
	}
	g.Subscribers = map[string]int{}
	for _, a := range g.Alarms {
		for _, topic := range a.Actions {
			if _, done := g.Subscribers[topic]; done || !strings.Contains(topic, ":sns:") {
				continue
			}
			if n, ok := r.subscribers(ctx, topic); ok {
				g.Subscribers[topic] = n
			}
		}
	}
	return nil
}

// queryProtocol has CloudWatch spoken to in its awsQuery protocol rather
// than the SDK's default, CBOR: AWS serves both, and the emulators the
// audit is tested against (moto) and older private endpoints serve Query
// only.
func queryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(smithy.NewServiceSchema(nil, cloudWatchAPIVersion))
}

// cloudWatchAPIVersion is the CloudWatch API version awsQuery requests name.
const cloudWatchAPIVersion = "2010-08-01"

// subscribers counts the confirmed subscriptions of an SNS topic, asked
// in the topic's region; false when they could not be listed.
func (r *accountReader) subscribers(ctx context.Context, topic string) (int, bool) {
	region := ""
	if parts := strings.Split(topic, ":"); len(parts) > 3 {
		region = parts[3]
	}
	pages := sns.NewListSubscriptionsByTopicPaginator(sns.NewFromConfig(r.configIn(region)),
		&sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.optional("sns:ListSubscriptionsByTopic", "who alarm topic "+topic+" notifies", err)
			return 0, false
		}
		for _, s := range page.Subscriptions {
			if arn := aws.ToString(s.SubscriptionArn); arn != "PendingConfirmation" && arn != "Deleted" && arn != "" {
				n++
			}
		}
	}
	return n, true
}
