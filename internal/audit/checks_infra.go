package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/severity"
)

// Control ids for the infrastructure checks: CIS AWS Foundations Benchmark
// v3.0.0 3.1 / v5.0.0 3.1 and Security Hub CloudTrail.1 (multi-region trail
// with read and write management events); CIS v3.0.0 1.18 / v5.0.0 1.17
// (IAM instance roles for access from instances), which has no Security Hub
// control. Roles trusting other accounts without an ExternalId map to no
// CIS item or Security Hub control.
const (
	cisV3MultiRegionTrail = "CIS-v3.0-3.1"
	cisV5MultiRegionTrail = "CIS-v5.0-3.1"
	shMultiRegionTrail    = "CloudTrail.1"
	cisV3InstanceRole     = "CIS-v3.0-1.18"
	cisV5InstanceRole     = "CIS-v5.0-1.17"
)

// accountResource names the account itself in account-wide findings, as
// IAM policies name an account: its root ARN.
func accountResource(inv Inventory) string {
	return fmt.Sprintf("arn:%s:iam::%s:root", partition(inv), inv.AccountID)
}

// partition is the account's partition, read off a known ARN; "aws" when
// none is known.
func partition(inv Inventory) string {
	if inv.Root != nil && inv.Root.ARN != "" {
		return arnPartition(inv.Root.ARN)
	}
	if len(inv.Users) > 0 {
		return arnPartition(inv.Users[0].ARN)
	}
	return "aws"
}

var trailInfo = CheckInfo{
	ID: "KW-CT-MULTI-REGION", Title: "No multi-region CloudTrail trail logs read and write management events",
	Severity: severity.High,
	Controls: []string{cisV3MultiRegionTrail, cisV5MultiRegionTrail, shMultiRegionTrail},
}

// checkMultiRegionTrail fails when no multi-region trail is logging both
// read and write management events: without one, what a leaked key did in
// a region nobody watches leaves no record.
func checkMultiRegionTrail(inv Inventory, _ Config) []Finding {
	if !inv.TrailsRead {
		f := undecided(trailInfo, inv, accountResource(inv), "cloudtrail_trails")
		f.Remediation = "allow the audit cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus and cloudtrail:GetEventSelectors " +
			"(docs/iam.md), or look yourself: `aws cloudtrail describe-trails --include-shadow-trails`"
		return []Finding{f}
	}
	f, failed := someLoggingTrail(trailInfo, inv, func(t Trail) bool { return t.MultiRegion }, managementCoverage)
	if !failed {
		return nil
	}
	evidence := []map[string]any{}
	for _, t := range inv.Trails {
		evidence = append(evidence, map[string]any{
			"name": t.Name, "arn": t.ARN, "home_region": t.HomeRegion, "multi_region": t.MultiRegion,
			"logging": t.Logging.String(), "read_write_management_events": managementCoverage(t).String(),
		})
	}
	f.Evidence["trails"] = evidence
	f.Remediation = trailRemediation(inv.Trails)
	return []Finding{f}
}

// someLoggingTrail is the account-wide finding of a check that passes when
// some candidate trail is logging and covers what the check asks: failed is
// false when one does; else the finding, undecided when the only
// candidates left could not be judged (their logging or selectors unread).
func someLoggingTrail(info CheckInfo, inv Inventory, candidate func(Trail) bool, covers func(Trail) Tri) (f Finding, failed bool) {
	var unknown []string
	for _, t := range inv.Trails {
		cov := covers(t)
		if !candidate(t) || t.Logging == No || cov == No {
			continue
		}
		if t.Logging == Yes && cov == Yes {
			return Finding{}, false
		}
		if t.Logging == Unknown {
			unknown = append(unknown, "logging of "+t.ARN)
		}
		if cov == Unknown {
			unknown = append(unknown, "event selectors of "+t.ARN)
		}
	}
	if len(unknown) > 0 {
		return undecided(info, inv, accountResource(inv), unknown...), true
	}
	return newFinding(info, inv, accountResource(inv)), true
}

// trailRemediation fixes the closest candidate: a multi-region trail that
// is off or misses events, else a new trail.
func trailRemediation(trails []Trail) string {
	for _, t := range trails {
		if !t.MultiRegion {
			continue
		}
		id, region := shq(t.ARN), shq(t.HomeRegion)
		var steps []string
		if t.Logging != Yes {
			steps = append(steps, fmt.Sprintf("`aws cloudtrail start-logging --region %s --name %s`", region, id))
		}
		if managementCoverage(t) != Yes {
			steps = append(steps, fmt.Sprintf("log all management events, keeping the data-event selectors that "+
				"`aws cloudtrail get-event-selectors --region %s --trail-name %s` shows: "+
				"`aws cloudtrail put-event-selectors --region %s --trail-name %s --event-selectors "+
				`'[{"ReadWriteType":"All","IncludeManagementEvents":true}]'`+"`", region, id, region, id))
		}
		return "fix the multi-region trail " + t.Name + ": " + strings.Join(steps, ", then ")
	}
	for _, t := range trails {
		return fmt.Sprintf("make trail %s multi-region: `aws cloudtrail update-trail --region %s --name %s --is-multi-region-trail`, "+
			"and make sure it logs: `aws cloudtrail start-logging --region %s --name %s`",
			t.Name, shq(t.HomeRegion), shq(t.ARN), shq(t.HomeRegion), shq(t.ARN))
	}
	return "create one (the bucket needs the CloudTrail bucket policy): `aws cloudtrail create-trail --name management-events " +
		"--s3-bucket-name <BUCKET> --is-multi-region-trail --enable-log-file-validation`, then " +
		"`aws cloudtrail start-logging --name management-events`"
}

// managementCoverage says whether a trail's selectors log every read and
// every write management event. No selectors at all is CloudTrail's
// default: all management events. Selectors that exclude event sources
// (e.g. KMS) do not count, as in AWS Config's multi-region rule.
func managementCoverage(t Trail) Tri {
	if !t.SelectorsKnown {
		return Unknown
	}
	if len(t.EventSelectors) == 0 && len(t.AdvancedSelectors) == 0 {
		return Yes
	}
	var read, write bool
	for _, s := range t.EventSelectors {
		if !s.IncludeManagementEvents || len(s.ExcludeManagementEventSources) > 0 {
			continue
		}
		read = read || s.ReadWriteType == "All" || s.ReadWriteType == "ReadOnly"
		write = write || s.ReadWriteType == "All" || s.ReadWriteType == "WriteOnly"
	}
	for _, s := range t.AdvancedSelectors {
		r, w := advancedCoverage(s)
		read, write = read || r, write || w
	}
	return TriOf(read && write)
}

// advancedCoverage is what one advanced selector logs of management events:
// it needs eventCategory = Management, and a readOnly condition narrows it
// to reads or writes; any other condition (eventSource exclusions) narrows
// it to less than all, so it counts for nothing.
func advancedCoverage(s AdvancedSelector) (read, write bool) {
	management, read, write := false, true, true
	for _, f := range s.Fields {
		narrowed := len(f.NotEquals)+len(f.StartsWith)+len(f.NotStartsWith)+len(f.EndsWith)+len(f.NotEndsWith) > 0
		switch {
		case f.Field == "eventCategory" && !narrowed && slices.Equal(f.Equals, []string{"Management"}):
			management = true
		case f.Field == "readOnly" && !narrowed && len(f.Equals) == 1:
			read, write = f.Equals[0] == "true", f.Equals[0] == "false"
		default:
			return false, false
		}
	}
	return management && read, management && write
}

var roleTrustInfo = CheckInfo{
	ID: "KW-ROLE-TRUST-NO-EXTID", Title: "Role trusts another account without an ExternalId condition",
	Severity: severity.Medium, Controls: []string{},
}

// checkRoleTrust fails for each role another account (or anyone) may assume
// without an sts:ExternalId: the confused-deputy gap, and for "*" a role any
// AWS account can take.
func checkRoleTrust(inv Inventory, _ Config) []Finding {
	if !inv.RolesRead {
		f := undecided(roleTrustInfo, inv, accountResource(inv), "iam_roles")
		f.Remediation = "allow the audit iam:GetAccountAuthorizationDetails (docs/iam.md), or look yourself: " +
			"`aws iam list-roles --query 'Roles[].[RoleName,AssumeRolePolicyDocument]'`"
		return []Finding{f}
	}
	var out []Finding
	for _, r := range inv.Roles {
		if !r.TrustKnown {
			f := undecided(roleTrustInfo, inv, r.ARN, "trust_policy")
			f.Remediation = fmt.Sprintf("read it yourself: `aws iam get-role --role-name %s --query Role.AssumeRolePolicyDocument`", shq(r.Name))
			out = append(out, f)
			continue
		}
		if len(r.ForeignNoExternalID) == 0 {
			continue
		}
		f := newFinding(roleTrustInfo, inv, r.ARN)
		f.Evidence["principals"] = slices.Clone(r.ForeignNoExternalID)
		name := shq(r.Name)
		if trustsOnly(r.ForeignNoExternalID, inv.OrgManagement) {
			// An ExternalId guards against a confused deputy: a third
			// party. The management account is the organization's own.
			f.Severity = severity.Info
			f.Title = "Role trusts the Organization's management account"
			f.Evidence["trusted"] = "the organization's management account " + inv.OrgManagement
			f.Remediation = fmt.Sprintf("nothing to do if the management account is meant to administer this account "+
				"(AWS Organizations creates OrganizationAccountAccessRole so); otherwise review who in the management account may "+
				"assume it: `aws iam get-role --role-name %s --query Role.AssumeRolePolicyDocument`", name)
			out = append(out, f)
			continue
		}
		if slices.Contains(r.ForeignNoExternalID, "*") {
			f.Severity = severity.Critical
			f.Title = "Role can be assumed by any AWS account"
		}
		f.Remediation = fmt.Sprintf("save the trust policy with `aws iam get-role --role-name %s --query Role.AssumeRolePolicyDocument "+
			"> trust.json`, name the exact principals and add "+
			`"Condition":{"StringEquals":{"sts:ExternalId":"<ID the other party gave you>"}}`+
			" to each statement that lets another account assume it, then `aws iam update-assume-role-policy --role-name %s "+
			"--policy-document file://trust.json`", name, name)
		out = append(out, f)
	}
	return out
}

var instanceProfileInfo = CheckInfo{
	ID: "KW-EC2-NO-PROFILE", Title: "EC2 instance has no IAM instance profile", Severity: severity.Medium,
	Controls: []string{cisV3InstanceRole, cisV5InstanceRole},
}

// trustsOnly reports whether every principal belongs to account (an
// account id, or an ARN in it); false when account is unknown.
func trustsOnly(principals []string, account string) bool {
	if account == "" || len(principals) == 0 {
		return false
	}
	for _, p := range principals {
		if p != account && arnAccount(p) != account {
			return false
		}
	}
	return true
}

// checkInstanceProfiles fails for each instance without an instance
// profile: whatever it calls AWS with is a long-term key stored on it.
func checkInstanceProfiles(inv Inventory, _ Config) []Finding {
	unread := regionsNotRead(inv, inv.InstanceRegionsUnread)
	if !inv.InstancesRead {
		return []Finding{instancesUnknown(inv, unread)}
	}
	var out []Finding
	if len(unread) > 0 {
		// The regions that were read are judged; the others stay unknown,
		// never passed: forgotten instances live in unwatched regions.
		out = append(out, instancesUnknown(inv, unread))
	}
	for _, in := range inv.Instances {
		if in.Profile != "" || in.State == "terminated" || in.State == "shutting-down" {
			continue
		}
		f := newFinding(instanceProfileInfo, inv, instanceARN(inv, in))
		f.Evidence["instance_id"] = in.ID
		f.Evidence["region"] = in.Region
		f.Evidence["state"] = in.State
		if in.Name != "" {
			f.Evidence["name"] = in.Name
		}
		f.Remediation = fmt.Sprintf("give it a role: `aws iam create-instance-profile --instance-profile-name <PROFILE>`, "+
			"`aws iam add-role-to-instance-profile --instance-profile-name <PROFILE> --role-name <ROLE>`, then "+
			"`aws ec2 associate-iam-instance-profile --region %s --instance-id %s --iam-instance-profile Name=<PROFILE>`; "+
			"then delete any access key stored on the instance", shq(in.Region), shq(in.ID))
		out = append(out, f)
	}
	return out
}

// instanceARN builds an instance's ARN in the account's partition.
func instanceARN(inv Inventory, in Instance) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:instance/%s", partition(inv), in.Region, inv.AccountID, in.ID)
}

// instancesUnknown is the undecided finding for instances whose listing
// failed, naming the regions when they are known.
func instancesUnknown(inv Inventory, regions []string) Finding {
	f := undecided(instanceProfileInfo, inv, accountResource(inv), "ec2_instances")
	if len(regions) > 0 {
		f.Evidence["regions_not_read"] = regions
	}
	if len(inv.InstanceRegions) > 0 {
		f.Evidence["regions_read"] = slices.Clone(inv.InstanceRegions)
	}
	f.Remediation = "allow the audit ec2:DescribeRegions and ec2:DescribeInstances (docs/iam.md), or look yourself in each region: " +
		"`aws ec2 describe-instances --region <REGION> --query 'Reservations[].Instances[?!IamInstanceProfile].InstanceId'`"
	return f
}

// regionsNotRead lists the regions where a regional fact is unknown: those
// whose read failed and, when the account's enabled regions could not be
// listed, every region other than the ones read.
func regionsNotRead(inv Inventory, failed []string) []string {
	out := slices.Clone(failed)
	if inv.RegionsIncomplete {
		out = append(out, "every region other than "+strings.Join(inv.Regions, ", "))
	}
	return out
}
