package auditaws_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
)

const starPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// TestReadAccountReadsPracticeFacts reads, from moto, the facts the
// practice checks judge: user tags and the policies attached to users
// directly (authorization details), customer managed policies with their
// attachment counts, the managed policies attached to groups and roles,
// and each trail's log file validation and KMS key
// (DescribeTrails).
func TestReadAccountReadsPracticeFacts(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	ctx := context.Background()
	a.User("vendor", scopedPolicy)
	a.Must(a.IAM.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("vendor"),
		Tags: []iamtypes.Tag{{Key: aws.String("third-party"), Value: aws.String("true")}}}))
	a.Key("vendor", iamtypes.StatusTypeActive)
	a.User("grouped", "")
	a.GroupWithInline("ops", scopedPolicy, "grouped")
	star := a.ManagedPolicy("everything", starPolicy)
	a.Attach("vendor", star)
	a.ManagedPolicy("unused-everything", starPolicy)
	a.Must(a.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: aws.String(star)}))

	f := newInfra(t)
	f.role("shell", "arn:aws:iam::444455556666:root", "")
	a.Must(a.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("shell"), PolicyArn: aws.String(star)}))
	plain := f.trail("plain", true, true)
	// moto keeps the key id a trail names without asking KMS (the module
	// has no KMS client); AWS would check the key exists.
	keyARN := "arn:aws:kms:" + awstest.Region + ":123456789012:key/11111111-2222-3333-4444-555555555555"
	logGroupARN := "arn:aws:logs:" + awstest.Region + ":123456789012:log-group:trail:*"
	sealedARN := f.trail("sealed", true, true)
	f.must(f.ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("sealed"),
		EnableLogFileValidation: aws.Bool(true), KmsKeyId: aws.String(keyARN),
		CloudWatchLogsLogGroupArn: aws.String(logGroupARN), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/trail-logs")}))

	inv, _ := readAccount(t)

	byName := map[string]audit.User{}
	for _, u := range inv.Users {
		byName[u.Name] = u
	}
	vendor, grouped := byName["vendor"], byName["grouped"]
	if !vendor.DetailsRead || !grouped.DetailsRead {
		t.Fatalf("details read: vendor %v, grouped %v; want both", vendor.DetailsRead, grouped.DetailsRead)
	}
	if diff := cmp.Diff(map[string]string{"third-party": "true"}, vendor.Tags); diff != "" {
		t.Errorf("vendor's tags (-want +got):\n%s", diff)
	}
	direct := slices.Sorted(slices.Values(vendor.DirectPolicies))
	if diff := cmp.Diff([]string{star, "inline:inline"}, direct); diff != "" {
		t.Errorf("vendor's direct policies (-want +got):\n%s", diff)
	}
	if len(grouped.DirectPolicies) != 0 {
		t.Errorf("grouped has rights through its group only, got direct %v", grouped.DirectPolicies)
	}

	attachments := map[string]int{}
	for _, p := range inv.CustomerPolicies {
		attachments[p.Name] = p.Attachments
	}
	if !inv.CustomerPoliciesRead || attachments["everything"] != 3 || attachments["unused-everything"] != 0 {
		t.Errorf("customer policies read=%v, attachments %v; want everything=3 (user, group, role), unused-everything=0", inv.CustomerPoliciesRead, attachments)
	}

	// Who holds which managed policy: what KW-CLOUDSHELL-FULL looks for.
	if i := slices.IndexFunc(inv.Groups, func(g audit.Group) bool { return g.Name == "ops" }); !inv.GroupsRead || i < 0 ||
		!slices.Equal(inv.Groups[i].Attached, []string{star}) {
		t.Errorf("groups read=%v %+v; want ops with %s attached", inv.GroupsRead, inv.Groups, star)
	}
	if i := slices.IndexFunc(inv.Roles, func(r audit.Role) bool { return r.Name == "shell" }); i < 0 ||
		!slices.Equal(inv.Roles[i].Attached, []string{star}) {
		t.Errorf("roles %+v; want shell with %s attached", inv.Roles, star)
	}

	trails := map[string]audit.Trail{}
	for _, tr := range inv.Trails {
		trails[tr.ARN] = tr
	}
	if tr := trails[plain]; tr.LogFileValidation || tr.KMSKeyID != "" {
		t.Errorf("plain trail: validation %v, KMS %q; want neither", tr.LogFileValidation, tr.KMSKeyID)
	}
	if tr := trails[sealedARN]; !tr.LogFileValidation || tr.KMSKeyID != keyARN || tr.LogGroupARN != logGroupARN {
		t.Errorf("sealed trail: validation %v, KMS %q, log group %q; want all three", tr.LogFileValidation, tr.KMSKeyID, tr.LogGroupARN)
	}
	if tr := trails[plain]; tr.LogGroupARN != "" {
		t.Errorf("plain trail: log group %q, want none", tr.LogGroupARN)
	}

	got := map[string]bool{}
	for _, fd := range audit.Run(*inv, audit.DefaultConfig(inv.ReportGeneratedAt)) {
		got[fd.Check+" "+fd.Resource] = true
	}
	for _, want := range []string{
		"KW-THIRD-PARTY-KEY " + vendor.ARN, "KW-USER-POLICY-DIRECT " + vendor.ARN, "KW-POLICY-ADMIN-STAR " + star,
		"KW-CT-LOG-VALIDATION " + plain, "KW-CT-KMS " + plain, "KW-CT-NO-CLOUDWATCH " + plain,
	} {
		if !got[want] {
			t.Errorf("no finding %s", want)
		}
	}
	for _, not := range []string{"KW-USER-POLICY-DIRECT " + grouped.ARN, "KW-CT-LOG-VALIDATION " + sealedARN, "KW-CT-KMS " + sealedARN,
		"KW-CT-NO-CLOUDWATCH " + sealedARN} {
		if got[not] {
			t.Errorf("unexpected finding %s", not)
		}
	}
}

// TestReadAccountReadsAccountSettings reads, from moto, the password
// policy, the virtual MFA devices and the server certificates, and that an
// account with no password policy is read as having none.
func TestReadAccountReadsAccountSettings(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	a.User("dev", "")

	inv, _ := readAccount(t)
	if !inv.PasswordPolicyRead || inv.PasswordPolicy != nil {
		t.Errorf("no password policy: read=%v policy=%+v; want read, nil", inv.PasswordPolicyRead, inv.PasswordPolicy)
	}
	if inv.RootVirtualMFA != audit.No || !inv.ServerCertsRead || len(inv.ServerCerts) != 0 {
		t.Errorf("root virtual MFA %v, certificates read=%v %v; want no, read, none", inv.RootVirtualMFA, inv.ServerCertsRead, inv.ServerCerts)
	}

	ctx := context.Background()
	a.Must(a.IAM.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(14), PasswordReusePrevention: aws.Int32(24), MaxPasswordAge: aws.Int32(90),
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, RequireSymbols: true, RequireNumbers: false}))
	a.Must(a.IAM.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("dev")}))
	a.Must(a.IAM.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("dev"),
		SerialNumber: aws.String("arn:aws:iam::123456789012:mfa/dev"), AuthenticationCode1: aws.String("123456"),
		AuthenticationCode2: aws.String("654321")}))

	inv, _ = readAccount(t)
	want := &audit.PasswordPolicy{MinimumLength: 14, RequireUppercase: true, RequireLowercase: true, RequireSymbols: true,
		ReusePrevention: 24, MaxAgeDays: 90}
	if diff := cmp.Diff(want, inv.PasswordPolicy); diff != "" {
		t.Errorf("password policy (-want +got):\n%s", diff)
	}
	if inv.RootVirtualMFA != audit.No {
		t.Errorf("a user's virtual device is not the root's: root virtual MFA %v, want no", inv.RootVirtualMFA)
	}
	var weak []string
	for _, f := range audit.Run(*inv, audit.DefaultConfig(inv.ReportGeneratedAt)) {
		if strings.HasPrefix(f.Check, "KW-PASSWORD-") && f.Check != "KW-PASSWORD-UNUSED" {
			weak = append(weak, f.Check)
		}
	}
	if diff := cmp.Diff([]string{"KW-PASSWORD-NUMBERS"}, weak); diff != "" {
		t.Errorf("password policy findings (-want +got):\n%s", diff)
	}
}

// TestReadAccountReadsSupportRoles: a role with AWS's AWSSupportAccess is
// listed (moto serves AWS's managed policies here); before it, none is.
func TestReadAccountReadsSupportRoles(t *testing.T) {
	awstest.MotoWithManagedPolicies(t)
	a := awstest.NewIAMAccount(t)
	a.User("dev", "")
	inv, _ := readAccount(t)
	if !inv.SupportRolesRead || len(inv.SupportRoles) != 0 {
		t.Errorf("before: support roles read=%v %v; want read, none", inv.SupportRolesRead, inv.SupportRoles)
	}
	f := newInfra(t)
	f.role("support", "arn:aws:iam::123456789012:root", "")
	a.Must(a.IAM.AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: aws.String("support"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSSupportAccess")}))
	inv, _ = readAccount(t)
	if !inv.SupportRolesRead || !slices.Equal(inv.SupportRoles, []string{"support"}) {
		t.Errorf("after: support roles read=%v %v; want [support]", inv.SupportRolesRead, inv.SupportRoles)
	}
}
