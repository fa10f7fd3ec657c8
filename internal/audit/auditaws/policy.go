package auditaws

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/iampolicy"
)

// authDetails is what GetAccountAuthorizationDetails said about users,
// groups and customer managed policies.
type authDetails struct {
	users   map[string]userDetail // by user name
	names   []string              // user names in the order IAM listed them
	catalog iampolicy.Catalog
	roles   []roleDetail // in the order IAM listed them
	// customer lists the customer managed policies, with their default
	// version, in the order IAM listed them.
	customer []audit.ManagedPolicy
}

// roleDetail is a role, its trust policy (URL-encoded, as IAM returns it)
// and its tags.
type roleDetail struct {
	name, arn, trust string
	attached         []string
	tags             map[string]string
}

type userDetail struct {
	arn     string
	created time.Time
	set     iampolicy.PolicySet
	tags    map[string]string
}

// authorizationDetails pages through GetAccountAuthorizationDetails for
// users, groups and customer managed policies. AWS managed policies are left
// out: every account sees all of them (over a thousand); the few attached
// ones are fetched by awsManaged.
func (r *accountReader) authorizationDetails(ctx context.Context) (*authDetails, error) {
	d := &authDetails{users: map[string]userDetail{}, catalog: iampolicy.Catalog{
		Groups: map[string]iampolicy.GroupPolicies{}, Managed: map[string]string{},
	}}
	pages := iam.NewGetAccountAuthorizationDetailsPaginator(r.iam, &iam.GetAccountAuthorizationDetailsInput{
		// Roles ride along for their trust policies (KW-ROLE-TRUST-NO-EXTID).
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeGroup, iamtypes.EntityTypeLocalManagedPolicy,
			iamtypes.EntityTypeRole},
		// The largest page IAM allows (default 100): fewer calls.
		MaxItems: aws.Int32(1000),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, r.required("iam:GetAccountAuthorizationDetails", err)
		}
		d.addPage(page)
	}
	return d, nil
}

func (d *authDetails) addPage(page *iam.GetAccountAuthorizationDetailsOutput) {
	for _, u := range page.UserDetailList {
		name := aws.ToString(u.UserName)
		set := iampolicy.PolicySet{
			Inline: inlinePolicies(u.UserPolicyList), Attached: attachedARNs(u.AttachedManagedPolicies),
			Groups: slices.Clone(u.GroupList),
		}
		if u.PermissionsBoundary != nil {
			set.Boundary = aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn)
		}
		if _, seen := d.users[name]; !seen {
			d.names = append(d.names, name)
		}
		d.users[name] = userDetail{arn: aws.ToString(u.Arn), created: aws.ToTime(u.CreateDate), set: set, tags: iamTags(u.Tags)}
	}
	for _, rl := range page.RoleDetailList {
		d.roles = append(d.roles, roleDetail{
			name: aws.ToString(rl.RoleName), arn: aws.ToString(rl.Arn), trust: aws.ToString(rl.AssumeRolePolicyDocument),
			attached: attachedARNs(rl.AttachedManagedPolicies), tags: iamTags(rl.Tags),
		})
	}
	for _, g := range page.GroupDetailList {
		d.catalog.Groups[aws.ToString(g.GroupName)] = iampolicy.GroupPolicies{
			Inline: inlinePolicies(g.GroupPolicyList), Attached: attachedARNs(g.AttachedManagedPolicies),
		}
	}
	for _, p := range page.Policies {
		for _, v := range p.PolicyVersionList {
			if v.IsDefaultVersion {
				d.catalog.Managed[aws.ToString(p.Arn)] = aws.ToString(v.Document)
				arn := aws.ToString(p.Arn)
				d.customer = append(d.customer, audit.ManagedPolicy{
					// moto leaves PolicyName out; the ARN ends with it.
					Name: cmp.Or(aws.ToString(p.PolicyName), arn[strings.LastIndex(arn, "/")+1:]), ARN: arn,
					Attachments: int(aws.ToInt32(p.AttachmentCount)), Document: aws.ToString(v.Document),
				})
			}
		}
	}
}

// iamTags is an IAM entity's tags by key (empty, never nil: read and none).
func iamTags(list []iamtypes.Tag) map[string]string {
	tags := make(map[string]string, len(list))
	for _, t := range list {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags
}

func inlinePolicies(list []iamtypes.PolicyDetail) []iampolicy.InlinePolicy {
	out := make([]iampolicy.InlinePolicy, 0, len(list))
	for _, p := range list {
		out = append(out, iampolicy.InlinePolicy{Name: aws.ToString(p.PolicyName), Document: aws.ToString(p.PolicyDocument)})
	}
	return out
}

func attachedARNs(list []iamtypes.AttachedPolicy) []string {
	out := make([]string, 0, len(list))
	for _, p := range list {
		out = append(out, aws.ToString(p.PolicyArn))
	}
	return out
}

// awsManaged fetches the default version of each attached AWS managed
// policy: two calls per distinct policy, however many users hold it.
// Failures leave the policy out of the catalog, which makes the holders'
// admin verdict unknown rather than "no".
func (r *accountReader) awsManaged(ctx context.Context, d *authDetails) {
	sets := make([]iampolicy.PolicySet, 0, len(d.users))
	for _, u := range d.users {
		sets = append(sets, u.set)
	}
	for _, arn := range audit.UncataloguedPolicies(d.catalog, sets) {
		pol, err := r.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil {
			r.optional("iam:GetPolicy", "rights granted by "+arn, err)
			continue
		}
		ver, err := r.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{
			PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId,
		})
		if err != nil {
			r.optional("iam:GetPolicyVersion", "rights granted by "+arn, err)
			continue
		}
		d.catalog.Managed[arn] = aws.ToString(ver.PolicyVersion.Document)
	}
}

// applyPolicies fills Admin, Dangerous and Groups for every user: the
// audit judges the policies read (audit.JudgeUserPolicies).
func (r *accountReader) applyPolicies(ctx context.Context, d *authDetails) {
	r.awsManaged(ctx, d)
	for i := range r.inv.Users {
		u := &r.inv.Users[i]
		det, ok := d.users[u.Name]
		if !ok {
			r.warn("user %s is in the credential report but not in the authorization details (deleted since?): its rights are unknown", u.Name)
			continue
		}
		for _, w := range audit.JudgeUserPolicies(u, det.set, d.catalog) {
			r.warn("%s", w)
		}
		u.DetailsRead, u.Tags = true, det.tags
		u.DirectPolicies = slices.Clone(det.set.Attached)
		for _, p := range det.set.Inline {
			u.DirectPolicies = append(u.DirectPolicies, "inline:"+p.Name)
		}
	}
	r.inv.CustomerPolicies, r.inv.CustomerPoliciesRead = d.customer, true
	for _, name := range slices.Sorted(maps.Keys(d.catalog.Groups)) {
		r.inv.Groups = append(r.inv.Groups, audit.Group{Name: name, Attached: slices.Clone(d.catalog.Groups[name].Attached)})
	}
	r.inv.GroupsRead = true
}

// addMissingUsers adds users created after the credential report was
// generated. Their password and MFA facts stay unknown; keyIDs lists their
// keys.
func (r *accountReader) addMissingUsers(d *authDetails) {
	inReport := make(map[string]bool, len(r.inv.Users))
	for _, u := range r.inv.Users {
		inReport[u.Name] = true
	}
	for _, name := range d.names {
		if inReport[name] {
			continue
		}
		det := d.users[name]
		r.inv.Users = append(r.inv.Users, audit.User{Name: name, ARN: det.arn, Created: audit.At(det.created)})
		r.unreported = append(r.unreported, name)
		r.warn("user %s is newer than the credential report: its password, MFA and key use are unknown", name)
		if r.inv.AccountID == "" {
			r.inv.AccountID = arnAccount(det.arn)
		}
	}
}

// arnAccount is the account id field of an ARN, "" when malformed.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
