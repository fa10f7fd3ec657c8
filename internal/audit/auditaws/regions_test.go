package auditaws_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

// readAccountIn reads the account from cfg with opts (Regions).
func readAccountIn(t *testing.T, cfg aws.Config, opts auditaws.Options) (*audit.Inventory, auditaws.ReadStats) {
	t.Helper()
	inv, stats, err := auditaws.ReadAccount(context.Background(), cfg, opts)
	if err != nil {
		t.Fatalf("ReadAccount: %v", err)
	}
	return inv, stats
}

// inRegion is cfg for another region.
func inRegion(cfg aws.Config, region string) aws.Config {
	c := cfg.Copy()
	c.Region = region
	return c
}

// regionalFixture puts, in each region, a Lambda function and an SSM
// String parameter holding a key pair, and an instance without an instance
// profile; it returns the instance ids by region.
func regionalFixture(t *testing.T, cfg aws.Config, ids map[string]string, regions ...string) map[string]string {
	t.Helper()
	instances := map[string]string{}
	for _, region := range regions {
		f := &embeddedFixture{t: t, cfg: inRegion(cfg, region), ids: ids}
		f.lambdaFunction("fn-"+region, map[string]string{
			"AWS_ACCESS_KEY_ID": f.id("lambda-" + region), "AWS_SECRET_ACCESS_KEY": awstest.FakeSecret("lambda-" + region)})
		f.must(ssm.NewFromConfig(awstest.Fixture(f.cfg)).PutParameter(context.Background(), &ssm.PutParameterInput{
			Name: aws.String("/legacy/" + region), Type: ssmtypes.ParameterTypeString,
			Value: aws.String(f.id("ssm-"+region) + " " + awstest.FakeSecret("ssm-"+region))}))
		instances[region] = f.instance([]byte("#!/bin/sh\necho hello\n"))
	}
	return instances
}

// embeddedByKey is each embedded key's "where resource", by key id.
func embeddedByKey(inv *audit.Inventory) map[string]string {
	out := map[string]string{}
	for _, e := range inv.Embedded {
		if e.Rule == scan.RuleKeyPair {
			out[e.KeyID] = e.Where + " " + e.Resource
		}
	}
	return out
}

// noProfileFindings lists the KW-EC2-NO-PROFILE failures as
// "region resource".
func noProfileFindings(inv *audit.Inventory) []string {
	var out []string
	for _, f := range audit.Run(*inv, audit.DefaultConfig(time.Now())) {
		if f.Check == "KW-EC2-NO-PROFILE" && f.Evidence["verdict"] == nil {
			out = append(out, fmt.Sprint(f.Evidence["region"], " ", f.Resource))
		}
	}
	sort.Strings(out)
	return out
}

func TestReadAccountReadsEveryEnabledRegion(t *testing.T) {
	awstest.Moto(t)
	cfg := loadConfig(t)
	ids := map[string]string{}
	instances := regionalFixture(t, cfg, ids, "us-east-1", "eu-west-1")

	inv, stats := readAccountIn(t, cfg, auditaws.Options{})

	if len(inv.Regions) < 10 || !slices.Contains(inv.Regions, "eu-west-1") || inv.RegionsIncomplete {
		t.Fatalf("regions = %v (incomplete %v): want moto's enabled regions", inv.Regions, inv.RegionsIncomplete)
	}
	for _, r := range inv.Regions {
		if strings.HasPrefix(r, "cn-") || strings.HasPrefix(r, "us-gov-") {
			t.Errorf("region %s is outside the configured region's partition", r)
		}
	}
	want := map[string]string{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		arn := "arn:aws:%s:" + region + ":123456789012:%s"
		want[ids["lambda-"+region]] = audit.WhereLambdaEnv + " " + fmt.Sprintf(arn, "lambda", "function:fn-"+region)
		want[ids["ssm-"+region]] = audit.WhereSSMString + " " + fmt.Sprintf(arn, "ssm", "parameter/legacy/"+region)
	}
	if diff := cmp.Diff(want, embeddedByKey(inv)); diff != "" {
		t.Errorf("embedded keys (-want +got):\n%s", diff)
	}
	wantFindings := []string{
		"eu-west-1 arn:aws:ec2:eu-west-1:123456789012:instance/" + instances["eu-west-1"],
		"us-east-1 arn:aws:ec2:us-east-1:123456789012:instance/" + instances["us-east-1"],
	}
	if diff := cmp.Diff(wantFindings, noProfileFindings(inv)); diff != "" {
		t.Errorf("KW-EC2-NO-PROFILE (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(inv.Regions, inv.InstanceRegions); diff != "" || len(inv.Warnings) != 0 || len(inv.EmbeddedUnread) != 0 {
		t.Errorf("instance regions (-all +read):\n%s\nwarnings %q, unread %v", diff, inv.Warnings, inv.EmbeddedUnread)
	}
	// One DescribeRegions; per region one page of each listing.
	n := len(inv.Regions)
	for op, want := range map[string]int{"ec2:DescribeRegions": 1, "ec2:DescribeInstances": n, "lambda:ListFunctions": n,
		"ecs:ListTaskDefinitions": n, "ssm:DescribeParameters": n, "ssm:GetParameters": 2, "ec2:DescribeInstanceAttribute": 2} {
		if stats.Calls[op] != want {
			t.Errorf("calls[%s] = %d, want %d (all: %v)", op, stats.Calls[op], want, stats.Calls)
		}
	}
}

func TestReadAccountRegionsNarrowsTheRead(t *testing.T) {
	awstest.Moto(t)
	cfg := loadConfig(t)
	ids := map[string]string{}
	instances := regionalFixture(t, cfg, ids, "us-east-1", "eu-west-1")

	inv, stats := readAccountIn(t, cfg, auditaws.Options{Regions: []string{"eu-west-1", "eu-west-1"}})

	if diff := cmp.Diff([]string{"eu-west-1"}, inv.Regions); diff != "" || inv.RegionsIncomplete {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
	got := embeddedByKey(inv)
	if len(got) != 2 || got[ids["lambda-eu-west-1"]] == "" || got[ids["ssm-eu-west-1"]] == "" {
		t.Errorf("embedded keys = %v: want eu-west-1's two only", got)
	}
	want := []string{"eu-west-1 arn:aws:ec2:eu-west-1:123456789012:instance/" + instances["eu-west-1"]}
	if diff := cmp.Diff(want, noProfileFindings(inv)); diff != "" {
		t.Errorf("KW-EC2-NO-PROFILE (-want +got):\n%s", diff)
	}
	for op, want := range map[string]int{"ec2:DescribeRegions": 0, "ec2:DescribeInstances": 1, "lambda:ListFunctions": 1} {
		if stats.Calls[op] != want {
			t.Errorf("calls[%s] = %d, want %d (all: %v)", op, stats.Calls[op], want, stats.Calls)
		}
	}
}

// regionDown sends every request signed for region to a closed port, as
// if that region's endpoints were unreachable; the rest go to moto.
type regionDown struct {
	region, closed string
	next           http.RoundTripper
}

func (rd regionDown) RoundTrip(req *http.Request) (*http.Response, error) {
	_, cred, _ := strings.Cut(req.Header.Get("Authorization"), "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	if parts := strings.Split(cred, "/"); len(parts) == 5 && parts[2] == rd.region {
		req = req.Clone(req.Context())
		req.URL.Host = rd.closed
	}
	return rd.next.RoundTrip(req)
}

func TestReadAccountUnreachableRegionIsWarnedAndUnread(t *testing.T) {
	awstest.Moto(t)
	cfg := loadConfig(t)
	ids := map[string]string{}
	instances := regionalFixture(t, cfg, ids, "us-east-1", "eu-west-1")
	cfg.HTTPClient = &http.Client{Transport: regionDown{region: "eu-west-1", closed: awstest.ClosedAddr(t), next: http.DefaultTransport}}
	cfg.RetryMaxAttempts = 1

	inv, stats := readAccountIn(t, cfg, auditaws.Options{Regions: []string{"us-east-1", "eu-west-1"}})

	var regional []string
	for _, w := range inv.Warnings {
		if strings.Contains(w, "eu-west-1") {
			regional = append(regional, w)
		}
	}
	if len(regional) != 1 || !strings.HasPrefix(regional[0], "region eu-west-1 not read (ec2:DescribeInstances failed") {
		t.Errorf("warnings about eu-west-1 = %q: want one saying the region was not read", regional)
	}
	if len(inv.Unread) != 1 || inv.Unread[0].Source != "region eu-west-1" ||
		!strings.HasPrefix(inv.Unread[0].Reason, "not read (ec2:DescribeInstances failed") ||
		!strings.HasSuffix(inv.Unread[0].Reason, "keys embedded in ssm-parameter unknown)") {
		t.Errorf("unread = %q: want the region, why, and what it leaves unknown", inv.Unread)
	}
	if diff := cmp.Diff([]string{"eu-west-1"}, inv.InstanceRegionsUnread); diff != "" || !slices.Equal(inv.InstanceRegions, []string{"us-east-1"}) {
		t.Errorf("instance regions read %v, unread (-want +got):\n%s", inv.InstanceRegions, diff)
	}
	wantUnread := map[string][]string{}
	for _, w := range []string{audit.WhereLambdaEnv, audit.WhereEC2UserData, audit.WhereECSTaskEnv, audit.WhereSSMString} {
		wantUnread[w] = []string{"eu-west-1"}
	}
	if diff := cmp.Diff(wantUnread, inv.EmbeddedUnreadRegions); diff != "" {
		t.Errorf("embedded unread regions (-want +got):\n%s", diff)
	}
	if got := embeddedByKey(inv); len(got) != 2 || got[ids["lambda-us-east-1"]] == "" {
		t.Errorf("embedded keys = %v: want us-east-1's two", got)
	}
	want := []string{"us-east-1 arn:aws:ec2:us-east-1:123456789012:instance/" + instances["us-east-1"]}
	if diff := cmp.Diff(want, noProfileFindings(inv)); diff != "" {
		t.Errorf("KW-EC2-NO-PROFILE (-want +got):\n%s", diff)
	}
	// The region is given up after its first call: no Lambda, ECS or SSM
	// call is made there.
	for op, want := range map[string]int{"ec2:DescribeInstances": 2, "lambda:ListFunctions": 1, "ssm:DescribeParameters": 1} {
		if stats.Calls[op] != want {
			t.Errorf("calls[%s] = %d, want %d (all: %v)", op, stats.Calls[op], want, stats.Calls)
		}
	}
	unknown := map[string]any{}
	for _, f := range audit.Run(*inv, audit.DefaultConfig(time.Now())) {
		if f.Evidence["verdict"] == "unknown" && (f.Check == "KW-EC2-NO-PROFILE" || f.Check == "KW-EMBEDDED-KEY") {
			unknown[f.Check+" "+f.Evidence["unknown"].([]string)[0]] = f.Evidence["regions_not_read"]
		}
	}
	wantUnknown := map[string]any{"KW-EC2-NO-PROFILE ec2_instances": []string{"eu-west-1"}}
	for w := range wantUnread {
		wantUnknown["KW-EMBEDDED-KEY "+w] = []string{"eu-west-1"}
	}
	if diff := cmp.Diff(wantUnknown, unknown); diff != "" {
		t.Errorf("undecided findings (-want +got):\n%s", diff)
	}
}

func TestReadAccountRegionsDeniedFallsBackToTheConfiguredRegion(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	auditor := s.CreateUserKey(t, "auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"iam:GenerateCredentialReport","iam:GetCredentialReport","iam:GetAccountAuthorizationDetails",
		"ec2:DescribeInstances","ec2:DescribeInstanceAttribute","lambda:ListFunctions","ecs:ListTaskDefinitions",
		"ssm:DescribeParameters","ssm:GetParameters"],"Resource":"*"}]}`)
	t.Setenv("AWS_ACCESS_KEY_ID", auditor.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", auditor.Secret.Reveal())
	inv, stats := readAccountIn(t, loadConfig(t), auditaws.Options{})

	if diff := cmp.Diff([]string{awstest.Region}, inv.Regions); diff != "" || !inv.RegionsIncomplete {
		t.Errorf("regions incomplete=%v (-want +got):\n%s", inv.RegionsIncomplete, diff)
	}
	var about []string
	for _, w := range inv.Warnings {
		if strings.Contains(w, "ec2:DescribeRegions") {
			about = append(about, w)
		}
	}
	if len(about) != 1 || !strings.Contains(about[0], "denied") || !strings.Contains(about[0], "regions other than "+awstest.Region) {
		t.Errorf("warnings = %q: want one saying DescribeRegions was denied", inv.Warnings)
	}
	if !slices.ContainsFunc(inv.Unread, func(g audit.Gap) bool {
		return g.Source == "ec2:DescribeRegions" && strings.Contains(g.Reason, "regions other than "+awstest.Region)
	}) {
		t.Errorf("unread = %q: want the regions not listed", inv.Unread)
	}
	if !slices.Equal(inv.InstanceRegions, []string{awstest.Region}) || stats.Calls["ec2:DescribeInstances"] != 1 {
		t.Errorf("instance regions = %v, DescribeInstances calls = %d: want the configured region's, once",
			inv.InstanceRegions, stats.Calls["ec2:DescribeInstances"])
	}
	undecided := 0
	for _, f := range audit.Run(*inv, audit.DefaultConfig(time.Now())) {
		regions, _ := f.Evidence["regions_not_read"].([]string)
		if f.Evidence["verdict"] == "unknown" && slices.Contains(regions, "every region other than "+awstest.Region) {
			undecided++
		}
	}
	if undecided != 7 { // instance profiles, each of the four embedded-key places, Access Analyzer, its analyzers' tags
		t.Errorf("undecided findings naming the other regions = %d, want 7", undecided)
	}
}

// TestReadAccountEmptyAccountEveryRegion measures the regional read of an
// empty account over every region moto lists:
// go test ./internal/audit/auditaws -run EmptyAccountEveryRegion -v.
func TestReadAccountEmptyAccountEveryRegion(t *testing.T) {
	awstest.Moto(t)
	cfg := loadConfig(t)
	start := time.Now()
	inv, stats := readAccountIn(t, cfg, auditaws.Options{})
	wall := time.Since(start)
	regional := 0
	for op, n := range stats.Calls {
		if !strings.HasPrefix(op, "iam:") && !strings.HasPrefix(op, "sts:") && !strings.HasPrefix(op, "cloudtrail:") &&
			!strings.HasPrefix(op, "account:") {
			regional += n
		}
	}
	t.Logf("empty account, %d regions: %d calls (%d regional), wall %v", len(inv.Regions), stats.Total, regional,
		wall.Round(time.Millisecond))
	if want := 1 + 5*len(inv.Regions); regional != want {
		t.Errorf("regional calls = %d, want 1 DescribeRegions + 5 listings x %d regions = %d (%v)", regional,
			len(inv.Regions), want, stats.Calls)
	}
}
