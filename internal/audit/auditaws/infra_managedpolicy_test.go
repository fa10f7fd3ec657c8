package auditaws_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
)

// TestReadAccountJudgesAWSManagedPolicies attaches AWS's own managed
// policies, as served by moto with MOTO_IAM_LOAD_MANAGED_POLICIES: the
// reader knows AdministratorAccess by its ARN and fetches any other
// attached AWS managed policy's default version (GetPolicy then
// GetPolicyVersion), once however many users hold it.
func TestReadAccountJudgesAWSManagedPolicies(t *testing.T) {
	awstest.MotoWithManagedPolicies(t)
	cfg := loadConfig(t)
	a := &awstest.IAMAccount{T: t, IAM: iam.NewFromConfig(awstest.Fixture(cfg))}
	ctx := context.Background()
	const (
		adminARN    = "arn:aws:iam::aws:policy/AdministratorAccess"
		readOnlyARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	)
	attach := func(user, arn string) {
		a.Must(a.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)}))
	}
	for _, u := range []string{"boss", "auditor", "second-reader", "ops"} {
		a.User(u, "")
		a.Key(u, iamtypes.StatusTypeActive)
	}
	attach("boss", adminARN)
	attach("auditor", readOnlyARN)
	attach("second-reader", readOnlyARN)
	a.Must(a.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("operators")}))
	a.Must(a.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("operators"), PolicyArn: aws.String(adminARN)}))
	a.Must(a.IAM.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("operators"), UserName: aws.String("ops")}))

	inv, stats := readAccountIn(t, cfg, auditaws.Options{Regions: []string{cfg.Region}})

	admin := map[string]audit.Tri{}
	for _, u := range inv.Users {
		admin[u.Name] = u.Admin
	}
	want := map[string]audit.Tri{"boss": audit.Yes, "ops": audit.Yes, "auditor": audit.No, "second-reader": audit.No}
	if diff := cmp.Diff(want, admin); diff != "" {
		t.Errorf("admin (-want +got):\n%s\nwarnings: %q", diff, inv.Warnings)
	}
	for _, w := range inv.Warnings {
		if strings.Contains(w, "policy") || strings.Contains(w, "rights") {
			t.Errorf("warning %q: every attached policy should have been read", w)
		}
	}
	if stats.Calls["iam:GetPolicy"] != 1 || stats.Calls["iam:GetPolicyVersion"] != 1 {
		t.Errorf("GetPolicy %d, GetPolicyVersion %d calls: want one each, for ReadOnlyAccess only",
			stats.Calls["iam:GetPolicy"], stats.Calls["iam:GetPolicyVersion"])
	}
	var flagged []string
	for _, f := range audit.Run(*inv, audit.DefaultConfig(time.Now())) {
		if f.Check == "KW-KEY-ADMIN" {
			flagged = append(flagged, f.Resource)
		}
	}
	wantFlagged := []string{"arn:aws:iam::123456789012:user/boss", "arn:aws:iam::123456789012:user/ops"}
	if diff := cmp.Diff(wantFlagged, slices.Sorted(slices.Values(flagged))); diff != "" {
		t.Errorf("KW-KEY-ADMIN findings (-want +got):\n%s", diff)
	}
}
