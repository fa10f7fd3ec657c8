package audit

import (
	"fmt"

	"github.com/keywarden/keywarden/internal/severity"
)

// Control ids of the trail settings checks: CIS v3.0.0 / v5.0.0 3.2 and
// Security Hub CloudTrail.4 (log file validation); CIS 3.5 and CloudTrail.2
// (encryption with KMS).
const (
	cisV3TrailValidation = "CIS-v3.0-3.2"
	cisV5TrailValidation = "CIS-v5.0-3.2"
	shTrailValidation    = "CloudTrail.4"
	cisV3TrailKMS        = "CIS-v3.0-3.5"
	cisV5TrailKMS        = "CIS-v5.0-3.5"
	shTrailKMS           = "CloudTrail.2"
)

var trailValidationInfo = CheckInfo{
	ID: "KW-CT-LOG-VALIDATION", Title: "CloudTrail trail has no log file validation", Severity: severity.Medium,
	Controls: []string{cisV3TrailValidation, cisV5TrailValidation, shTrailValidation},
}

// checkTrailValidation fails for each trail without digest files: without
// them, an intruder who deletes or edits the record of what a key did
// leaves no trace of it.
func checkTrailValidation(inv Inventory, _ Config) []Finding {
	return eachTrail(inv, trailValidationInfo, func(t Trail) (bool, string) {
		return t.LogFileValidation, fmt.Sprintf("`aws cloudtrail update-trail --region %s --name %s --enable-log-file-validation`",
			shq(t.HomeRegion), shq(t.ARN))
	})
}

var trailKMSInfo = CheckInfo{
	ID: "KW-CT-KMS", Title: "CloudTrail trail logs are not encrypted with a KMS key", Severity: severity.Medium,
	Controls: []string{cisV3TrailKMS, cisV5TrailKMS, shTrailKMS},
}

// checkTrailKMS fails for each trail whose log files are not encrypted with
// a KMS key: reading them then takes only s3:GetObject on the bucket.
func checkTrailKMS(inv Inventory, _ Config) []Finding {
	return eachTrail(inv, trailKMSInfo, func(t Trail) (bool, string) {
		return t.KMSKeyID != "", fmt.Sprintf("create a KMS key whose policy lets cloudtrail.amazonaws.com encrypt, then "+
			"`aws cloudtrail update-trail --region %s --name %s --kms-key-id KEY_ARN`", shq(t.HomeRegion), shq(t.ARN))
	})
}

var trailLogsInfo = CheckInfo{
	ID: "KW-CT-NO-CLOUDWATCH", Title: "CloudTrail trail does not deliver to CloudWatch Logs", Severity: severity.Low,
	Controls: []string{"CloudTrail.5"},
}

// checkTrailLogs fails for each trail that delivers to S3 only: without a
// log group, no metric filter or alarm (CIS section 4) can see a leaked
// key being used as it happens.
func checkTrailLogs(inv Inventory, _ Config) []Finding {
	return eachTrail(inv, trailLogsInfo, func(t Trail) (bool, string) {
		return t.LogGroupARN != "", fmt.Sprintf("create a log group and a role CloudTrail may write it with, then "+
			"`aws cloudtrail update-trail --region %s --name %s --cloud-watch-logs-log-group-arn LOG_GROUP_ARN "+
			"--cloud-watch-logs-role-arn ROLE_ARN`", shq(t.HomeRegion), shq(t.ARN))
	})
}

// eachTrail fails info for every trail ok rejects, with the fix it gives;
// unknown when the trails could not be read.
func eachTrail(inv Inventory, info CheckInfo, ok func(Trail) (bool, string)) []Finding {
	if !inv.TrailsRead {
		f := undecided(info, inv, accountResource(inv), "cloudtrail_trails")
		f.Remediation = "allow the audit cloudtrail:DescribeTrails (docs/iam.md), or look yourself: " +
			"`aws cloudtrail describe-trails --include-shadow-trails`"
		return []Finding{f}
	}
	var out []Finding
	for _, t := range inv.Trails {
		pass, fix := ok(t)
		if pass {
			continue
		}
		f := newFinding(info, inv, t.ARN)
		f.Evidence["trail"] = t.Name
		f.Evidence["home_region"] = t.HomeRegion
		f.Evidence["multi_region"] = t.MultiRegion
		f.Remediation = fix
		if t.Organization {
			f.Remediation = "an organization trail: change it in the management account: " + fix
		}
		out = append(out, f)
	}
	return out
}
