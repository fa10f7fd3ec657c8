package auditaws_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// infra builds trails, roles and instances in moto through the real SDK.
type infra struct {
	t   *testing.T
	cfg aws.Config
	ct  *cloudtrail.Client
	ec2 *ec2.Client
	iam *iam.Client
}

func newInfra(t *testing.T) *infra {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &infra{t: t, cfg: cfg, ct: cloudtrail.NewFromConfig(awstest.Fixture(cfg)), ec2: ec2.NewFromConfig(awstest.Fixture(cfg)), iam: iam.NewFromConfig(awstest.Fixture(cfg))}
}

func (f *infra) must(_ any, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// trail creates a trail delivering to a new bucket, logging if asked.
func (f *infra) trail(name string, multiRegion, logging bool) string {
	f.t.Helper()
	ctx := context.Background()
	bucket := "trail-logs-" + name
	s3c := s3.NewFromConfig(awstest.Fixture(f.cfg), func(o *s3.Options) { o.UsePathStyle = true })
	f.must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}))
	out, err := f.ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String(name), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(multiRegion)})
	f.must(out, err)
	if logging {
		f.must(f.ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(name)}))
	}
	return aws.ToString(out.TrailARN)
}

func (f *infra) role(name, principal, condition string) {
	f.t.Helper()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal +
		`"},"Action":"sts:AssumeRole"` + condition + `}]}`
	f.must(f.iam.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)}))
}

// instance runs an instance, with the named instance profile unless "".
func (f *infra) instance(profile string) string {
	f.t.Helper()
	ctx := context.Background()
	images, err := f.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	f.must(images, err)
	if len(images.Images) == 0 {
		f.t.Fatal("moto lists no amazon images")
	}
	in := &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro}
	if profile != "" {
		f.must(f.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(profile)}))
		in.IamInstanceProfile = &ec2types.IamInstanceProfileSpecification{Name: aws.String(profile)}
	}
	out, err := f.ec2.RunInstances(ctx, in)
	f.must(out, err)
	return aws.ToString(out.Instances[0].InstanceId)
}

// infraFindings keeps the infrastructure checks' findings as
// "CHECK severity resource"; the trail settings checks (validation, KMS)
// have their own test (practices_test.go).
func infraFindings(fs []audit.Finding) []string {
	out := []string{}
	for _, f := range fs {
		if f.Check == "KW-CT-MULTI-REGION" || strings.HasPrefix(f.Check, "KW-ROLE-TRUST") || strings.HasPrefix(f.Check, "KW-EC2-") {
			out = append(out, f.Check+" "+f.Severity.String()+" "+f.Resource)
		}
	}
	slices.Sort(out)
	return out
}

func TestReadAccountReadsTrailsRolesAndInstances(t *testing.T) {
	awstest.Moto(t)
	f := newInfra(t)
	mainARN := f.trail("main", true, true)
	localARN := f.trail("local", false, false)
	f.role("partner", "arn:aws:iam::444455556666:root", "")
	f.role("vendor", "444455556666", `,"Condition":{"StringEquals":{"sts:ExternalId":"v-1"}}`)
	f.role("self", "arn:aws:iam::123456789012:root", "")
	withProfile := f.instance("web")
	bare := f.instance("")
	gone := f.instance("")
	f.must(f.ec2.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}))

	inv, stats := readAccount(t)

	wantTrails := []audit.Trail{
		{Name: "local", ARN: localARN, HomeRegion: awstest.Region, Logging: audit.No, Bucket: "trail-logs-local", TagsRead: true, Tags: map[string]string{}},
		{Name: "main", ARN: mainARN, HomeRegion: awstest.Region, MultiRegion: true, Logging: audit.Yes, Bucket: "trail-logs-main",
			TagsRead: true, Tags: map[string]string{}},
	}
	gotTrails := slices.Clone(inv.Trails)
	slices.SortFunc(gotTrails, func(a, b audit.Trail) int { return strings.Compare(a.Name, b.Name) })
	for i := range gotTrails { // selectors are judged by the check; here only that they were read
		if !gotTrails[i].SelectorsKnown {
			t.Errorf("trail %s: selectors not read", gotTrails[i].Name)
		}
		gotTrails[i].SelectorsKnown, gotTrails[i].EventSelectors, gotTrails[i].AdvancedSelectors = false, nil, nil
	}
	if diff := cmp.Diff(wantTrails, gotTrails); diff != "" || !inv.TrailsRead {
		t.Errorf("trails read=%v (-want +got):\n%s", inv.TrailsRead, diff)
	}
	wantRoles := []audit.Role{
		{Name: "partner", ARN: "arn:aws:iam::123456789012:role/partner", TrustKnown: true,
			ForeignNoExternalID: []string{"arn:aws:iam::444455556666:root"}, Tags: map[string]string{}},
		{Name: "self", ARN: "arn:aws:iam::123456789012:role/self", TrustKnown: true, Tags: map[string]string{}},
		{Name: "vendor", ARN: "arn:aws:iam::123456789012:role/vendor", TrustKnown: true, Tags: map[string]string{}},
	}
	gotRoles := slices.Clone(inv.Roles)
	slices.SortFunc(gotRoles, func(a, b audit.Role) int { return strings.Compare(a.Name, b.Name) })
	if diff := cmp.Diff(wantRoles, gotRoles); diff != "" || !inv.RolesRead {
		t.Errorf("roles read=%v (-want +got):\n%s", inv.RolesRead, diff)
	}
	profiles := map[string]bool{}
	for _, in := range inv.Instances {
		profiles[in.ID] = in.Profile != ""
		if in.Region != awstest.Region || in.State != "running" {
			t.Errorf("instance %+v: want running in %s", in, awstest.Region)
		}
	}
	if diff := cmp.Diff(map[string]bool{withProfile: true, bare: false}, profiles); diff != "" || !inv.InstancesRead {
		t.Errorf("instances read=%v, profile? (-want +got):\n%s", inv.InstancesRead, diff)
	}
	if len(inv.Warnings) != 0 {
		t.Errorf("warnings: %q", inv.Warnings)
	}
	// One DescribeTrails; status and selectors per distinct trail; roles
	// ride in the authorization details page (no per-role calls).
	for op, want := range map[string]int{"cloudtrail:DescribeTrails": 1, "cloudtrail:GetTrailStatus": 2,
		"cloudtrail:GetEventSelectors": 2, "cloudtrail:ListTags": 1, "iam:GetAccountAuthorizationDetails": 1} {
		if stats.Calls[op] != want {
			t.Errorf("%s called %d times, want %d (%v)", op, stats.Calls[op], want, stats.Calls)
		}
	}

	got := infraFindings(audit.Run(*inv, audit.DefaultConfig(time.Now())))
	want := []string{
		"KW-EC2-NO-PROFILE medium arn:aws:ec2:us-east-1:123456789012:instance/" + bare,
		"KW-ROLE-TRUST-NO-EXTID medium arn:aws:iam::123456789012:role/partner",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestReadAccountJudgesTrailSettings(t *testing.T) {
	const noTrail = "KW-CT-MULTI-REGION high arn:aws:iam::123456789012:root"
	tests := []struct {
		name  string
		setup func(f *infra)
		want  []string
	}{
		{"no trail fails", func(*infra) {}, []string{noTrail}},
		{"single-region logging trail fails", func(f *infra) { f.trail("local", false, true) }, []string{noTrail}},
		{"multi-region trail not logging fails", func(f *infra) { f.trail("main", true, false) }, []string{noTrail}},
		{"multi-region logging trail with default selectors passes", func(f *infra) { f.trail("main", true, true) }, []string{}},
		{"multi-region trail logging write-only management events fails", func(f *infra) {
			f.trail("main", true, true)
			f.must(f.ct.PutEventSelectors(context.Background(), &cloudtrail.PutEventSelectorsInput{
				TrailName: aws.String("main"), EventSelectors: []cttypes.EventSelector{
					{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(true)}}}))
		}, []string{noTrail}},
		{"multi-region trail with an advanced management selector passes", func(f *infra) {
			f.trail("main", true, true)
			f.must(f.ct.PutEventSelectors(context.Background(), &cloudtrail.PutEventSelectorsInput{
				TrailName: aws.String("main"), AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
					Name: aws.String("management"), FieldSelectors: []cttypes.AdvancedFieldSelector{
						{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}}}}))
		}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awstest.Moto(t)
			f := newInfra(t)
			tt.setup(f)
			inv, _ := readAccount(t)
			if diff := cmp.Diff(tt.want, infraFindings(audit.Run(*inv, audit.DefaultConfig(time.Now())))); diff != "" {
				t.Errorf("findings (-want +got):\n%s\ntrails: %+v", diff, inv.Trails)
			}
		})
	}
}

func TestReadAccountInfraDeniedIsUnknown(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	auditor := s.CreateUserKey(t, "auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"iam:GenerateCredentialReport","iam:GetCredentialReport","iam:GetAccountAuthorizationDetails",
		"iam:GetAccountSummary","iam:ListAccessKeys"],"Resource":"*"}]}`)
	t.Setenv("AWS_ACCESS_KEY_ID", auditor.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", auditor.Secret.Reveal())
	inv, _ := readAccount(t)
	if inv.TrailsRead || inv.InstancesRead || !inv.RolesRead {
		t.Errorf("read trails=%v instances=%v roles=%v: want only roles", inv.TrailsRead, inv.InstancesRead, inv.RolesRead)
	}
	warnings := strings.Join(inv.Warnings, "\n")
	for _, action := range []string{"cloudtrail:DescribeTrails denied", "ec2:DescribeInstances denied"} {
		if !strings.Contains(warnings, action) {
			t.Errorf("warnings %q: want one saying %s", inv.Warnings, action)
		}
	}
	var unknown []string
	for _, f := range audit.Run(*inv, audit.DefaultConfig(time.Now())) {
		if (f.Check == "KW-CT-MULTI-REGION" || f.Check == "KW-EC2-NO-PROFILE") && f.Evidence["verdict"] == "unknown" {
			unknown = append(unknown, f.Check)
		}
	}
	slices.Sort(unknown)
	if diff := cmp.Diff([]string{"KW-CT-MULTI-REGION", "KW-EC2-NO-PROFILE"}, unknown); diff != "" {
		t.Errorf("unknown findings (-want +got):\n%s", diff)
	}
}

func TestReadAccountJudgesS3DataEvents(t *testing.T) {
	const (
		write = "KW-CT-S3-WRITE-EVENTS"
		read  = "KW-CT-S3-READ-EVENTS"
	)
	objects := func(rw cttypes.ReadWriteType, value string) func(f *infra) {
		return func(f *infra) {
			f.trail("main", true, true)
			f.must(f.ct.PutEventSelectors(context.Background(), &cloudtrail.PutEventSelectorsInput{
				TrailName: aws.String("main"), EventSelectors: []cttypes.EventSelector{{
					ReadWriteType: rw, IncludeManagementEvents: aws.Bool(true),
					DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{value}}}}}}))
		}
	}
	tests := []struct {
		name  string
		setup func(f *infra)
		want  []string
	}{
		{"default selectors log no data events", func(f *infra) { f.trail("main", true, true) }, []string{read, write}},
		{"every bucket, reads and writes", objects(cttypes.ReadWriteTypeAll, "arn:aws:s3"), []string{}},
		{"every bucket, writes only", objects(cttypes.ReadWriteTypeWriteOnly, "arn:aws:s3:::"), []string{read}},
		{"one bucket only", objects(cttypes.ReadWriteTypeAll, "arn:aws:s3:::trail-logs-main/"), []string{read, write}},
		{"advanced selector for every bucket's objects", func(f *infra) {
			f.trail("main", true, true)
			f.must(f.ct.PutEventSelectors(context.Background(), &cloudtrail.PutEventSelectorsInput{
				TrailName: aws.String("main"), AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
					Name: aws.String("objects"), FieldSelectors: []cttypes.AdvancedFieldSelector{
						{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
						{Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}}}}}}))
		}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awstest.Moto(t)
			f := newInfra(t)
			tt.setup(f)
			inv, _ := readAccount(t)
			got := []string{}
			for _, fd := range audit.Run(*inv, audit.DefaultConfig(time.Now())) {
				if fd.Check == write || fd.Check == read {
					got = append(got, fd.Check)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\ntrails: %+v", diff, inv.Trails)
			}
		})
	}
}

func TestReadAccountReadsTags(t *testing.T) {
	awstest.Moto(t)
	f := newInfra(t)
	ctx := context.Background()
	tagged := f.trail("tagged", true, true)
	f.must(f.ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(tagged),
		TagsList: []cttypes.Tag{{Key: aws.String("owner"), Value: aws.String("security")}}}))
	bare := f.trail("bare", false, true)
	f.role("deploy", "arn:aws:iam::123456789012:root", "")
	f.must(f.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("deploy"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("ci")}}}))
	f.role("bare", "arn:aws:iam::123456789012:root", "")
	inv, stats := readAccount(t)
	tags := map[string]map[string]string{}
	for _, tr := range inv.Trails {
		if !tr.TagsRead {
			t.Errorf("trail %s: tags not read", tr.ARN)
		}
		tags[tr.ARN] = tr.Tags
	}
	for _, r := range inv.Roles {
		tags[r.ARN] = r.Tags
	}
	want := map[string]map[string]string{
		tagged: {"owner": "security"}, bare: {},
		"arn:aws:iam::123456789012:role/deploy": {"team": "ci"}, "arn:aws:iam::123456789012:role/bare": {},
	}
	if diff := cmp.Diff(want, tags, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	// One ListTags for both trails of the region; role tags ride in the
	// authorization details.
	if stats.Calls["cloudtrail:ListTags"] != 1 {
		t.Errorf("cloudtrail:ListTags called %d times, want 1 (%v)", stats.Calls["cloudtrail:ListTags"], stats.Calls)
	}
	var got []string
	for _, fd := range audit.Run(*inv, audit.DefaultConfig(time.Now())) {
		if fd.Check == "KW-CT-UNTAGGED" || fd.Check == "KW-ROLE-UNTAGGED" {
			got = append(got, fd.Check+" "+fd.Resource)
		}
	}
	if diff := cmp.Diff([]string{"KW-CT-UNTAGGED " + bare, "KW-ROLE-UNTAGGED arn:aws:iam::123456789012:role/bare"}, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
