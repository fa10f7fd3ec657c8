package auditaws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
)

// accountSettings reads the account-wide IAM settings the practice checks
// judge: the password policy, whether the root user's MFA is a virtual
// device, and the server certificates. Each read is optional: a failure
// warns and leaves its facts unread.
func (r *accountReader) accountSettings(ctx context.Context) {
	r.passwordPolicy(ctx)
	r.rootVirtualMFA(ctx)
	r.serverCerts(ctx)
	r.supportRoles(ctx)
	r.securityContact(ctx)
}

// securityContact asks whether a SECURITY alternate contact is registered;
// AWS answers ResourceNotFoundException when none is.
func (r *accountReader) securityContact(ctx context.Context) {
	_, err := account.NewFromConfig(r.configIn("")).GetAlternateContact(ctx, &account.GetAlternateContactInput{
		AlternateContactType: accounttypes.AlternateContactTypeSecurity})
	switch {
	case awsx.ErrorCode(err) == "ResourceNotFoundException":
		r.inv.SecurityContact = audit.No
	case err != nil:
		r.optional("account:GetAlternateContact", "whether a security contact is registered", err)
	default:
		r.inv.SecurityContact = audit.Yes
	}
}

// supportRoles lists the roles AWS's AWSSupportAccess policy is attached
// to (CIS asks for one, to open and manage support cases).
func (r *accountReader) supportRoles(ctx context.Context) {
	partition := "aws"
	if len(r.inv.Users) > 0 {
		if p := strings.SplitN(r.inv.Users[0].ARN, ":", 3); len(p) == 3 && p[1] != "" {
			partition = p[1]
		}
	}
	pages := iam.NewListEntitiesForPolicyPaginator(r.iam, &iam.ListEntitiesForPolicyInput{
		PolicyArn: aws.String("arn:" + partition + ":iam::aws:policy/AWSSupportAccess"), EntityFilter: iamtypes.EntityTypeRole})
	var roles []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.optional("iam:ListEntitiesForPolicy", "whether a role may manage AWS Support cases", err)
			return
		}
		for _, role := range page.PolicyRoles {
			roles = append(roles, aws.ToString(role.RoleName))
		}
	}
	r.inv.SupportRoles, r.inv.SupportRolesRead = roles, true
}

func (r *accountReader) passwordPolicy(ctx context.Context) {
	out, err := r.iam.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	switch {
	case awsx.IsNoSuchEntity(err): // no policy: AWS's default applies
		r.inv.PasswordPolicyRead = true
		return
	case err != nil:
		r.optional("iam:GetAccountPasswordPolicy", "the password policy", err)
		return
	}
	p := out.PasswordPolicy
	r.inv.PasswordPolicy = &audit.PasswordPolicy{
		MinimumLength: int(aws.ToInt32(p.MinimumPasswordLength)), RequireUppercase: p.RequireUppercaseCharacters,
		RequireLowercase: p.RequireLowercaseCharacters, RequireSymbols: p.RequireSymbols, RequireNumbers: p.RequireNumbers,
		ReusePrevention: int(aws.ToInt32(p.PasswordReusePrevention)), MaxAgeDays: int(aws.ToInt32(p.MaxPasswordAge)),
	}
	r.inv.PasswordPolicyRead = true
}

// rootVirtualMFA lists the assigned virtual MFA devices: one whose user is
// the root user (its ARN ends ":root") means the root MFA is not hardware.
func (r *accountReader) rootVirtualMFA(ctx context.Context) {
	pages := iam.NewListVirtualMFADevicesPaginator(r.iam, &iam.ListVirtualMFADevicesInput{
		AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned})
	virtual := audit.No
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.optional("iam:ListVirtualMFADevices", "whether the root user's MFA is a hardware device", err)
			return
		}
		for _, d := range page.VirtualMFADevices {
			if d.User != nil && strings.HasSuffix(aws.ToString(d.User.Arn), ":root") ||
				strings.HasSuffix(aws.ToString(d.SerialNumber), ":mfa/root-account-mfa-device") {
				virtual = audit.Yes
			}
		}
	}
	r.inv.RootVirtualMFA = virtual
}

func (r *accountReader) serverCerts(ctx context.Context) {
	pages := iam.NewListServerCertificatesPaginator(r.iam, &iam.ListServerCertificatesInput{})
	var certs []audit.ServerCert
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.optional("iam:ListServerCertificates", "expired server certificates", err)
			return
		}
		for _, c := range page.ServerCertificateMetadataList {
			certs = append(certs, audit.ServerCert{Name: aws.ToString(c.ServerCertificateName), ARN: aws.ToString(c.Arn),
				Expiration: aws.ToTime(c.Expiration)})
		}
	}
	r.inv.ServerCerts, r.inv.ServerCertsRead = certs, true
}
