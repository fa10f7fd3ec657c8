package audit

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/severity"
)

// The tagging controls of Security Hub: IAM.25 (users), IAM.24 (roles),
// IAM.23 (Access Analyzer analyzers) and CloudTrail.9 (trails). A
// resource passes with one tag of the account's own (a key not starting
// with "aws:", which AWS reserves), or, with --required-tag, with every
// required key. Without tags, nobody can say whose a key holder is or
// whom to call when its key leaks.
var (
	userTagsInfo = CheckInfo{ID: "KW-USER-UNTAGGED", Title: "IAM user has no tags", Severity: severity.Low,
		Controls: []string{"IAM.25"}}
	roleTagsInfo = CheckInfo{ID: "KW-ROLE-UNTAGGED", Title: "IAM role has no tags", Severity: severity.Low,
		Controls: []string{"IAM.24"}}
	analyzerTagsInfo = CheckInfo{ID: "KW-ANALYZER-UNTAGGED", Title: "IAM Access Analyzer analyzer has no tags", Severity: severity.Low,
		Controls: []string{"IAM.23"}}
	trailTagsInfo = CheckInfo{ID: "KW-CT-UNTAGGED", Title: "CloudTrail trail has no tags", Severity: severity.Low,
		Controls: []string{"CloudTrail.9"}}
)

// missingTags says what tags lacks: the required keys it has not, or,
// with none required, whether it has no key of the account's own.
func missingTags(tags map[string]string, required []string) (missing []string, fails bool) {
	if len(required) > 0 {
		for _, k := range required {
			if _, ok := tags[k]; !ok {
				missing = append(missing, k)
			}
		}
		return missing, len(missing) > 0
	}
	own := slices.ContainsFunc(slices.Collect(maps.Keys(tags)), func(k string) bool { return !strings.HasPrefix(k, "aws:") })
	return nil, !own
}

// untagged is the finding for a resource whose tags fail, nil when they
// pass; fix is the command that tags it, KEY and VALUE left to fill.
func untagged(info CheckInfo, inv Inventory, cfg Config, resource string, tags map[string]string, fix string) *Finding {
	missing, fails := missingTags(tags, cfg.RequiredTags)
	if !fails {
		return nil
	}
	f := newFinding(info, inv, resource)
	if len(cfg.RequiredTags) > 0 {
		f.Title = strings.Replace(info.Title, "has no tags", "lacks a required tag", 1)
		f.Evidence["missing_tags"] = missing
	}
	f.Evidence["tags"] = slices.Sorted(maps.Keys(tags))
	f.Remediation = fix + " (an owner or team tag says whom to call when its key leaks)"
	return &f
}

// checkUserTags fails for each user listed in the authorization details
// without a tag of the account's own.
func checkUserTags(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if !u.DetailsRead {
			f := undecided(userTagsInfo, inv, u.ARN, "user_tags")
			f.Remediation = fmt.Sprintf("see the user's tags: `aws iam list-user-tags --user-name %s`", shq(u.Name))
			out = append(out, f)
			continue
		}
		if f := untagged(userTagsInfo, inv, cfg, u.ARN, u.Tags,
			fmt.Sprintf("`aws iam tag-user --user-name %s --tags Key=KEY,Value=VALUE`", shq(u.Name))); f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// checkRoleTags fails for each role without a tag of the account's own.
// Service-linked roles are AWS's: their service creates and deletes them.
func checkRoleTags(inv Inventory, cfg Config) []Finding {
	if !inv.RolesRead {
		f := undecided(roleTagsInfo, inv, accountResource(inv), "iam_roles")
		f.Remediation = "allow the audit iam:GetAccountAuthorizationDetails (docs/iam.md), or look yourself: " +
			"`aws iam list-role-tags --role-name ROLE`"
		return []Finding{f}
	}
	var out []Finding
	for _, r := range inv.Roles {
		if strings.Contains(r.ARN, ":role/aws-service-role/") {
			continue
		}
		if f := untagged(roleTagsInfo, inv, cfg, r.ARN, r.Tags,
			fmt.Sprintf("`aws iam tag-role --role-name %s --tags Key=KEY,Value=VALUE`", shq(r.Name))); f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// checkAnalyzerTags fails for each Access Analyzer analyzer read without a
// tag of the account's own; regions not read are one unknown finding.
func checkAnalyzerTags(inv Inventory, cfg Config) []Finding {
	var out []Finding
	if unread := regionsNotRead(inv, inv.AnalyzerRegionsUnread); len(unread) > 0 {
		f := undecided(analyzerTagsInfo, inv, accountResource(inv), "access_analyzers")
		f.Evidence["regions_not_read"] = unread
		f.Remediation = "allow the audit access-analyzer:ListAnalyzers (docs/iam.md), or look yourself in each region: " +
			"`aws accessanalyzer list-analyzers --region <REGION>`"
		out = append(out, f)
	}
	for _, ra := range inv.Analyzers {
		for _, a := range ra.Analyzers {
			f := untagged(analyzerTagsInfo, inv, cfg, a.ARN, a.Tags,
				fmt.Sprintf("`aws accessanalyzer tag-resource --region %s --resource-arn %s --tags KEY=VALUE`", shq(ra.Region), shq(a.ARN)))
			if f != nil {
				f.Evidence["region"] = ra.Region
				out = append(out, *f)
			}
		}
	}
	return out
}

// checkTrailTags fails for each trail without a tag of the account's own;
// a trail whose tags could not be read is unknown.
func checkTrailTags(inv Inventory, cfg Config) []Finding {
	if !inv.TrailsRead {
		f := undecided(trailTagsInfo, inv, accountResource(inv), "cloudtrail_trails")
		f.Remediation = "allow the audit cloudtrail:DescribeTrails and cloudtrail:ListTags (docs/iam.md), or look yourself: " +
			"`aws cloudtrail list-tags --resource-id-list TRAIL_ARN`"
		return []Finding{f}
	}
	var out []Finding
	for _, t := range inv.Trails {
		fix := fmt.Sprintf("`aws cloudtrail add-tags --region %s --resource-id %s --tags-list Key=KEY,Value=VALUE`", shq(t.HomeRegion), shq(t.ARN))
		if t.Organization {
			fix = "an organization trail: tag it in the management account: " + fix
		}
		if !t.TagsRead {
			f := undecided(trailTagsInfo, inv, t.ARN, "trail_tags")
			f.Remediation = "allow the audit cloudtrail:ListTags (docs/iam.md), or look yourself: " +
				fmt.Sprintf("`aws cloudtrail list-tags --region %s --resource-id-list %s`", shq(t.HomeRegion), shq(t.ARN))
			out = append(out, f)
			continue
		}
		if f := untagged(trailTagsInfo, inv, cfg, t.ARN, t.Tags, fix); f != nil {
			f.Evidence["trail"] = t.Name
			out = append(out, *f)
		}
	}
	return out
}
