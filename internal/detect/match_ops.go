package detect

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// Matchers of opsRules: recon, defense evasion, SES and compute abuse.

// scannerAgents are user agents of tools that test found keys. Attempts
// count too: a scanner checking a deactivated key still means it leaked.
var scannerAgents = []string{"trufflehog", "kingfisher", "pacu", "cloudfox", "keyhacks", "nuclei", "scoutsuite", "prowler"}

func matchScannerCallerID(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	ua := strings.ToLower(e.UserAgent)
	hit := slices.ContainsFunc(scannerAgents, func(s string) bool { return strings.Contains(ua, s) })
	return "user agent " + e.UserAgent, hit && is(e, "sts.amazonaws.com", "GetCallerIdentity")
}

// reconCalls are reads that map a whole account at once.
var reconCalls = map[string][]string{
	"s3.amazonaws.com":             {"ListBuckets"},
	"iam.amazonaws.com":            {"GetAccountAuthorizationDetails"},
	"organizations.amazonaws.com":  {"DescribeAccount", "DescribeOrganization", "ListAccounts"},
	"billingconsole.amazonaws.com": {"GetContactInformation", "GetAlternateContact"},
	"account.amazonaws.com":        {"GetContactInformation", "GetAlternateContact"},
}

func matchReconList(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	return e.EventName, slices.Contains(reconCalls[e.EventSource], e.EventName) && !byAWSService(e)
}

// evasionCalls turn logging or detection off outright; PutEventSelectors
// and GuardDuty's UpdateDetector are judged by their parameters since
// they also turn things on.
var evasionCalls = map[string][]string{
	"cloudtrail.amazonaws.com":      {"StopLogging", "DeleteTrail", "UpdateTrail"},
	"guardduty.amazonaws.com":       {"DeleteDetector", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount"},
	"ec2.amazonaws.com":             {"DeleteFlowLogs"},
	"config.amazonaws.com":          {"StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel"},
	"macie2.amazonaws.com":          {"DisableMacie", "UpdateMacieSession"},
	"macie.amazonaws.com":           {"DisableMacie", "UpdateMacieSession"},
	"organizations.amazonaws.com":   {"LeaveOrganization"},
	"route53resolver.amazonaws.com": {"DeleteResolverQueryLogConfig", "DisassociateResolverQueryLogConfig"},
}

func reconNames() []string { return flatNames(reconCalls) }
func evasionNames() []string {
	return append(flatNames(evasionCalls), "PutEventSelectors", "UpdateDetector")
}

func flatNames(m map[string][]string) []string {
	var out []string
	for _, src := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[src]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func matchEvasion(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	switch {
	case is(e, "organizations.amazonaws.com", "LeaveOrganization"):
		// Even a refused attempt: leaving the Organization sheds its trail
		// and SCPs, and nobody tries it by accident.
		d := "LeaveOrganization"
		if e.ErrorCode != "" {
			d += " (failed: " + e.ErrorCode + ")"
		}
		return d, true
	case !succeeded(e):
		return "", false
	case is(e, "cloudtrail.amazonaws.com", "PutEventSelectors"):
		return "event selectors of " + Str(req, "trailName") + " stop recording management or write events", evasiveSelectors(req)
	case is(e, "guardduty.amazonaws.com", "UpdateDetector"):
		on, isBool := Get(req, "enable").(bool)
		return "GuardDuty detector " + Str(req, "detectorId") + " disabled", isBool && !on
	}
	target := firstNonEmpty(Str(req, "name"), Str(req, "trailName"), Str(req, "detectorId"),
		Str(req, "configurationRecorderName"), Str(req, "resolverQueryLogConfigId"))
	return strings.TrimSpace(e.EventName + " " + target), slices.Contains(evasionCalls[e.EventSource], e.EventName)
}

// evasiveSelectors reports selectors that drop management events or one
// direction of them; advanced selectors are flagged without judging them.
func evasiveSelectors(req map[string]any) bool {
	if Get(req, "advancedEventSelectors") != nil {
		return true
	}
	sels, _ := Get(req, "eventSelectors").([]any)
	for _, s := range sels {
		o, _ := s.(map[string]any)
		if inc, isBool := o["includeManagementEvents"].(bool); isBool && !inc {
			return true
		}
		if rw := Str(o, "readWriteType"); rw != "" && rw != "All" {
			return true
		}
		if ex, _ := o["excludeManagementEventSources"].([]any); len(ex) > 0 {
			return true
		}
	}
	return false
}

var sesReconNames = []string{"GetSendQuota", "ListIdentities", "GetIdentityVerificationAttributes",
	"GetSendStatistics", "GetAccount", "ListEmailIdentities", "GetAccountSendingEnabled"}

func matchSESRecon(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	return e.EventName, is(e, "ses.amazonaws.com", sesReconNames...) && !byAWSService(e)
}

var sesAbuseNames = []string{"VerifyEmailIdentity", "VerifyDomainIdentity", "VerifyEmailAddress",
	"CreateEmailIdentity", "UpdateAccountSendingEnabled", "PutAccountSendingAttributes", "PutAccountDetails"}

// matchSESAbuse: turning sending off is the defender's move, so the two
// switches fire only when they turn sending on.
func matchSESAbuse(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !is(e, "ses.amazonaws.com", sesAbuseNames...) || !succeeded(e) {
		return "", false
	}
	for _, k := range []string{"enabled", "sendingEnabled"} {
		if on, isBool := Get(req, k).(bool); isBool && !on {
			return "", false
		}
	}
	return strings.TrimSpace(e.EventName + " " + firstNonEmpty(Str(req, "emailAddress"), Str(req, "domain"),
		Str(req, "emailIdentity"))), true
}

// matchMining fires on attempts as well: a denied p3.16xlarge launch is
// the same intent, and AWS often refuses for quota, not for policy.
func matchMining(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	t := Str(req, "instanceType")
	if !is(e, "ec2.amazonaws.com", "RunInstances") || !miningType(t) {
		return "", false
	}
	d := fmt.Sprintf("%s x%v", t, firstNonNil(Get(req, "maxCount"), Items(req, "instancesSet")))
	if e.ErrorCode != "" {
		d += " (failed: " + e.ErrorCode + ")"
	}
	return d, true
}

// miningType: GPU and accelerator families (p, g, inf, trn, dl), memory
// giants (x, u-) and anything of 24xlarge or more or bare metal.
func miningType(t string) bool {
	family, size, _ := strings.Cut(strings.ToLower(t), ".")
	if family == "" {
		return false
	}
	for _, p := range []string{"p", "g", "x", "inf", "trn", "dl", "u-"} {
		if strings.HasPrefix(family, p) && (len(family) > len(p) && family[len(p)] >= '0' && family[len(p)] <= '9' || p == "u-") {
			return true
		}
	}
	if strings.Contains(size, "metal") {
		return true
	}
	var n int
	if _, err := fmt.Sscanf(size, "%dxlarge", &n); err == nil && n >= 24 {
		return true
	}
	return false
}

func firstNonNil(v any, list []map[string]any) any {
	if v != nil {
		return v
	}
	for _, it := range list {
		if n := Get(it, "maxCount"); n != nil {
			return n
		}
	}
	return "?"
}

// matchEnableRegion accepts any eventSource: the call belongs to
// account.amazonaws.com, but fixtures and older trails log it elsewhere.
func matchEnableRegion(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	return "region " + firstNonEmpty(Str(req, "RegionName"), Str(req, "regionName")),
		e.EventName == "EnableRegion" && succeeded(e)
}
