package detect

import (
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// Rule is one entry of the per-event red-flag catalogue. IDs are stable:
// users suppress rules and choose containment by id.
type Rule struct {
	ID          string
	Severity    severity.Level
	Title       string
	Description string
	Technique   string // MITRE ATT&CK id
	// Stratus names the Stratus Red Team techniques (aws.TACTIC.NAME) the
	// rule detects, as docs/watch.md's table lists them.
	Stratus     []string
	Remediation string
	// Events lists the event names the rule can fire on, so the engine
	// decodes request parameters only for candidates; nil means any event,
	// and such a rule must not read req or resp (they may be nil).
	Events []string
	// ReadsResp marks a Match that reads resp. The engine decodes response
	// elements, often the bulk of a record (RunInstances echoes every
	// instance), only for such candidates; the others get nil.
	ReadsResp bool
	// Match judges one event; detail says what in it made the rule fire.
	Match func(e *cloudtrail.Event, req, resp map[string]any) (detail string, ok bool)
}

// Alert builds the alert for e with the matcher's detail.
func (r Rule) Alert(e *cloudtrail.Event, detail string) Alert {
	a := NewAlert(r.ID, r.Title, r.Technique, r.Severity, e)
	a.Stratus = r.Stratus
	if detail != "" {
		a.Details["detail"] = detail
	}
	if r.Remediation != "" {
		a.Details["remediation"] = r.Remediation
	}
	return a
}

// Rules returns the built-in per-event catalogue, in the order alerts are
// reported for one event. Each call returns a fresh slice.
func Rules() []Rule {
	out := make([]Rule, 0, len(iamRules)+len(opsRules)+len(reachRules)+len(attackRules))
	out = append(out, iamRules...)
	out = append(out, opsRules...)
	out = append(out, reachRules...)
	return append(out, attackRules...)
}

const (
	rotateHint  = "Deactivate the key that made the call (keywarden respond), then review what else it did."
	undoIAMHint = "Remove what was created or granted unless its owner confirms it; then contain the calling key."
)

var iamRules = []Rule{
	{ID: "KW-CT-IAM-CREATE-USER", Severity: severity.High, Title: "IAM user created", Technique: "T1136.003",
		Stratus:     []string{"aws.persistence.iam-create-admin-user"},
		Description: "A new IAM user is a way back in that survives the stolen key's deactivation.",
		Remediation: undoIAMHint, Events: []string{"CreateUser"}, Match: matchCreateUser},
	{ID: "KW-CT-IAM-CREATE-KEY-OTHER", Severity: severity.Critical, Title: "access key created for another user", Technique: "T1098.001",
		Stratus:     []string{"aws.persistence.iam-backdoor-user"},
		Description: "A key minted for someone else is a second credential the owner of the first does not know about.",
		Remediation: "Delete the new key (aws iam delete-access-key) and contain the key that created it.",
		Events:      []string{"CreateAccessKey"}, Match: matchKeyForOther},
	{ID: "KW-CT-IAM-LOGIN-PROFILE", Severity: severity.High, Title: "console password set for another user", Technique: "T1098",
		Stratus:     []string{"aws.persistence.iam-create-user-login-profile", "aws.privilege-escalation.iam-update-user-login-profile"},
		Description: "Setting another user's console password turns API access into console access.",
		Remediation: "Delete or reset the login profile and require MFA; contain the calling key.",
		Events:      []string{"CreateLoginProfile", "UpdateLoginProfile"}, Match: matchLoginProfile},
	{ID: "KW-CT-IAM-ADMIN-ATTACHED", Severity: severity.Critical, Title: "administrator rights granted", Technique: "T1098.003",
		Stratus:     []string{"aws.persistence.iam-create-admin-user", "aws.persistence.iam-create-backdoor-role"},
		Description: "AdministratorAccess, IAMFullAccess or AWSOrganizationsFullAccess attached, or an inline policy allowing every action (or iam:*) on every resource put.",
		Remediation: undoIAMHint, Events: []string{"AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy",
			"PutUserPolicy", "PutRolePolicy", "PutGroupPolicy"}, Match: matchAdminAttached},
	{ID: "KW-CT-IAM-POLICY-VERSION", Severity: severity.High, Title: "new version of a managed policy", Technique: "T1098.003",
		Description: "A new default policy version silently widens every principal the policy is attached to.",
		Remediation: "Set the previous version as default and delete the new one.",
		Events:      []string{"CreatePolicyVersion", "SetDefaultPolicyVersion"}, Match: matchPolicyVersion},
	{ID: "KW-CT-STS-SESSION-FROM-KEY", Severity: severity.Medium, Title: "temporary credentials minted from a long-term key", Technique: "T1550.001",
		Stratus:     []string{"aws.persistence.sts-federation-token"},
		Description: "Sessions from GetSessionToken or GetFederationToken outlive the key's deactivation.",
		Remediation: "Attach a deny-all policy with an aws:TokenIssueTime condition to the user (keywarden respond contain).",
		Events:      []string{"GetSessionToken", "GetFederationToken"}, Match: matchSessionFromKey},
	{ID: "KW-CT-STS-SIGNIN-TOKEN", Severity: severity.High, Title: "console sign-in token minted from API credentials", Technique: "T1550.001",
		Description: "GetSigninToken turns API credentials into a console session; SSO portal traffic is excluded.",
		Remediation: "Revoke the role's or user's sessions and contain the key that issued the credentials.",
		Events:      []string{"GetSigninToken"}, Match: matchSigninToken},
	{ID: "KW-CT-CONSOLE-NO-MFA", Severity: severity.Medium, Title: "console login without MFA", Technique: "T1078.004",
		Stratus:     []string{"aws.initial-access.console-login-without-mfa"},
		Description: "A successful password-only console login by an IAM user or root.",
		Remediation: "Require MFA for the user; if the login is unexpected, reset the password and review the session.",
		Events:      []string{"ConsoleLogin"}, ReadsResp: true, Match: matchLoginNoMFA},
	{ID: "KW-CT-ROOT", Severity: severity.Critical, Title: "root user activity", Technique: "T1078.004",
		Description: "The account's root user acted; root should be locked away and never have access keys.",
		Remediation: "Confirm with the account owner; rotate the root password, delete root keys, enforce MFA.",
		Match:       matchRoot},
	{ID: "KW-CT-QUARANTINE-ATTACHED", Severity: severity.Critical, Title: "AWS quarantined the key as exposed", Technique: "T1552",
		Description: "AWS attached AWSCompromisedKeyQuarantine (any version) because it found the key in public.",
		Remediation: "Treat the key as stolen: keywarden respond, then rotate; do not just detach the policy.",
		Events:      []string{"AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy", "PutUserPolicy"}, Match: matchQuarantine},
	{ID: "KW-CT-EC2-CREDS-OUTSIDE", Severity: severity.High, Title: "EC2 instance credentials used outside the instance", Technique: "T1552.005",
		Stratus:     []string{"aws.credential-access.ec2-steal-instance-credentials"},
		Description: "An instance-profile session (session name i-…) called from a public address rather than from AWS.",
		Remediation: "Revoke the role's active sessions, require IMDSv2, and investigate the instance.",
		Match:       matchInstanceCreds},
}

var opsRules = []Rule{
	{ID: "KW-CT-RECON-CALLER-ID-SCANNER", Severity: severity.High, Title: "key checked by a secret scanner", Technique: "T1087.004",
		Description: "GetCallerIdentity from a tool that validates leaked keys: the key is known outside.",
		Remediation: rotateHint, Events: []string{"GetCallerIdentity"}, Match: matchScannerCallerID},
	{ID: "KW-CT-RECON-LIST", Severity: severity.Medium, Title: "account-wide discovery", Technique: "T1580",
		Stratus:     []string{"aws.discovery.ec2-enumerate-from-instance"},
		Description: "Reads that map a whole account at once (ListBuckets, GetAccountAuthorizationDetails, ...).",
		Remediation: "Confirm the caller expected to inventory the account; otherwise contain the key.",
		Events:      reconNames(), Match: matchReconList},
	{ID: "KW-CT-EVASION", Severity: severity.Critical, Title: "logging or detection turned off", Technique: "T1562.008",
		Stratus:     []string{"aws.defense-evasion.cloudtrail-delete", "aws.defense-evasion.cloudtrail-event-selectors", "aws.defense-evasion.cloudtrail-stop", "aws.defense-evasion.dns-delete-logs", "aws.defense-evasion.organizations-leave", "aws.defense-evasion.vpc-remove-flow-logs"},
		Description: "CloudTrail stopped, deleted or narrowed; GuardDuty, Config, flow logs, Macie or DNS logs turned off.",
		Remediation: "Turn the control back on at once, then contain the key: what follows was meant to go unseen.",
		Events:      evasionNames(), Match: matchEvasion},
	{ID: "KW-CT-SES-RECON", Severity: severity.Medium, Title: "SES sending limits or identities probed", Technique: "T1496",
		Stratus:     []string{"aws.discovery.ses-enumerate"},
		Description: "Spammers check SES quota and verified identities before using a stolen key to send.",
		Remediation: rotateHint, Events: sesReconNames, Match: matchSESRecon},
	{ID: "KW-CT-SES-ABUSE", Severity: severity.High, Title: "SES prepared for sending", Technique: "T1496",
		Description: "Identities verified, sending enabled or production access requested.",
		Remediation: "Disable sending (aws ses update-account-sending-enabled --no-enabled) and contain the key.",
		Events:      sesAbuseNames, Match: matchSESAbuse},
	{ID: "KW-CT-EC2-MINING", Severity: severity.High, Title: "GPU or very large EC2 instances launched", Technique: "T1496",
		Stratus:     []string{"aws.execution.ec2-launch-unusual-instances"},
		Description: "GPU, accelerator, memory-giant or 24xlarge+ instances: the crypto-mining pattern.",
		Remediation: "Terminate the instances, check every region, and contain the key.",
		Events:      []string{"RunInstances"}, Match: matchMining},
	{ID: "KW-CT-REGION-ENABLED", Severity: severity.High, Title: "opt-in region enabled", Technique: "T1535",
		Description: "Enabling a region nobody uses gives an attacker somewhere unwatched to run instances.",
		Remediation: "Disable the region unless planned; check it for instances; contain the key.",
		Events:      []string{"EnableRegion"}, Match: matchEnableRegion},
}
