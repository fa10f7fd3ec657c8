package audit

import (
	"fmt"
	"maps"

	"github.com/keywarden/keywarden/internal/iampolicy"
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

var trailBucketPublicInfo = CheckInfo{
	ID: "KW-CT-BUCKET-PUBLIC", Title: "CloudTrail trail's S3 bucket is publicly accessible", Severity: severity.High,
	Controls: []string{"CloudTrail.6"},
}

var trailBucketLoggingInfo = CheckInfo{
	ID: "KW-CT-BUCKET-NO-LOGGING", Title: "CloudTrail trail's S3 bucket has no server access logging", Severity: severity.Low,
	Controls: []string{"CIS-v3.0-3.4", "CIS-v5.0-3.4", "CloudTrail.7"},
}

// checkTrailBucketPublic fails for each trail bucket anyone may read
// through its ACL (grants to AllUsers or AuthenticatedUsers) or its policy
// (an Allow to "*" no condition pins), unless the bucket's Block Public
// Access ignores that: the record of what a leaked key did, and where the
// account's resources are, is then open to all.
func checkTrailBucketPublic(inv Inventory, _ Config) []Finding {
	return eachTrailBucket(inv, trailBucketPublicInfo, func(b Bucket) (Tri, []string, map[string]any) {
		public, why, unknown := bucketPublic(b)
		return public, unknown, map[string]any{"public_through": nonNil(why)}
	}, func(b Bucket) string {
		return fmt.Sprintf("`aws s3api put-public-access-block --bucket %s --public-access-block-configuration "+
			"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`, then remove the "+
			"public grants and statements (`aws s3api get-bucket-acl --bucket %s`, `aws s3api get-bucket-policy --bucket %s`)",
			shq(b.Name), shq(b.Name), shq(b.Name))
	})
}

// checkTrailBucketLogging fails for each trail bucket without server
// access logging: who read or deleted the trail's log files is then not
// recorded anywhere.
func checkTrailBucketLogging(inv Inventory, _ Config) []Finding {
	return eachTrailBucket(inv, trailBucketLoggingInfo, func(b Bucket) (Tri, []string, map[string]any) {
		if b.Logging == Unknown {
			return Unknown, []string{"bucket_logging"}, nil
		}
		return b.Logging.not(), nil, nil
	}, func(b Bucket) string {
		return fmt.Sprintf("`aws s3api put-bucket-logging --bucket %s --bucket-logging-status "+
			`'{"LoggingEnabled":{"TargetBucket":"ACCESS_LOG_BUCKET","TargetPrefix":"%s/"}}'`+"` (a bucket other than the trail's)",
			shq(b.Name), b.Name)
	})
}

// not is the opposite of a known fact; Unknown stays Unknown.
func (t Tri) not() Tri {
	switch t {
	case Yes:
		return No
	case No:
		return Yes
	}
	return Unknown
}

// bucketPublic says whether anyone may read b, why (each public grant or
// statement), and which facts it could not judge. A public way in that
// was read is public whatever else is unknown. The Block Public Access
// settings only close ways in: unread, the ACL and the policy decide alone.
func bucketPublic(b Bucket) (Tri, []string, []string) {
	var why, unknown []string
	ignoreACL := b.BlockRead && b.Block.IgnorePublicACLs
	restrictPolicy := b.BlockRead && b.Block.RestrictPublicBuckets
	switch {
	case ignoreACL:
	case !b.ACLRead:
		unknown = append(unknown, "bucket_acl")
	default:
		for _, g := range b.PublicGrants {
			why = append(why, "acl:"+g)
		}
	}
	switch {
	case restrictPolicy || (b.PolicyRead && b.Policy == ""):
	case !b.PolicyRead:
		unknown = append(unknown, "bucket_policy")
	default:
		open, err := iampolicy.PublicAllows(b.Policy)
		if err != nil {
			unknown = append(unknown, "bucket_policy (unparsable)")
		}
		for _, s := range open {
			why = append(why, "policy:"+s)
		}
	}
	switch {
	case len(why) > 0:
		return Yes, why, nil
	case len(unknown) > 0:
		return Unknown, nil, unknown
	}
	return No, nil, nil
}

// eachTrailBucket applies judge to each trail's bucket once (a bucket
// several trails share is one finding naming them all): Yes fails with
// the evidence judge gives and the fix, Unknown is an unknown finding.
func eachTrailBucket(inv Inventory, info CheckInfo, judge func(Bucket) (Tri, []string, map[string]any), fix func(Bucket) string) []Finding {
	if !inv.TrailsRead {
		f := undecided(info, inv, accountResource(inv), "cloudtrail_trails")
		f.Remediation = "allow the audit cloudtrail:DescribeTrails (docs/iam.md), or look yourself: " +
			"`aws cloudtrail describe-trails --include-shadow-trails`"
		return []Finding{f}
	}
	trails := map[string][]string{}
	var names []string
	for _, t := range inv.Trails {
		if t.Bucket == "" {
			continue
		}
		if _, seen := trails[t.Bucket]; !seen {
			names = append(names, t.Bucket)
		}
		trails[t.Bucket] = append(trails[t.Bucket], t.ARN)
	}
	var out []Finding
	for _, name := range names {
		resource := fmt.Sprintf("arn:%s:s3:::%s", partition(inv), name)
		b, read := inv.TrailBuckets[name]
		var verdict Tri
		var unknown []string
		var evidence map[string]any
		switch {
		case !read:
			verdict, unknown = Unknown, []string{"bucket"}
		case b.Unread != "":
			verdict, unknown = Unknown, []string{"bucket: " + b.Unread}
		default:
			verdict, unknown, evidence = judge(b)
		}
		var f Finding
		switch verdict {
		case No:
			continue
		case Unknown:
			f = undecided(info, inv, resource, unknown...)
			f.Remediation = "allow the audit s3:GetBucketAcl, s3:GetBucketPolicy, s3:GetBucketPublicAccessBlock and " +
				"s3:GetBucketLogging on the trail's bucket (docs/iam.md); a bucket in another account is judged by auditing that account"
		default:
			f = newFinding(info, inv, resource)
			maps.Copy(f.Evidence, evidence)
			f.Remediation = fix(b)
		}
		f.Evidence["bucket"] = name
		f.Evidence["trails"] = trails[name]
		out = append(out, f)
	}
	return out
}
