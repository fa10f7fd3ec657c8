package respond

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// One matcher per rule of the catalogue in flags.go.

func matchCreateUser(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	return "user " + str(req, "userName"), is(e, "iam.amazonaws.com", "CreateUser") && succeeded(e)
}

// matchKeyForOther: a key for oneself is routine rotation; a key for
// someone else is how a stolen key makes itself a second way in.
func matchKeyForOther(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	target := str(req, "userName")
	return "for user " + target, is(e, "iam.amazonaws.com", "CreateAccessKey") && succeeded(e) &&
		target != "" && target != self(e)
}

func matchLoginProfile(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	target := str(req, "userName")
	return "for user " + target, is(e, "iam.amazonaws.com", "CreateLoginProfile", "UpdateLoginProfile") &&
		succeeded(e) && target != "" && target != self(e)
}

func matchAdminAttached(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !succeeded(e) {
		return "", false
	}
	_, who, _ := principal(req)
	switch {
	case is(e, "iam.amazonaws.com", "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"):
		arn := str(req, "policyArn")
		return arn + " to " + who, strings.HasSuffix(arn, ":policy/AdministratorAccess")
	case is(e, "iam.amazonaws.com", "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy"):
		return "inline policy " + str(req, "policyName") + " allows */* to " + who, allowsEverything(str(req, "policyDocument"))
	}
	return "", false
}

func matchPolicyVersion(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !is(e, "iam.amazonaws.com", "CreatePolicyVersion", "SetDefaultPolicyVersion") || !succeeded(e) {
		return "", false
	}
	d := str(req, "policyArn")
	if allowsEverything(str(req, "policyDocument")) {
		d += " (the new version allows */*)"
	}
	return d, true
}

// matchSessionFromKey: sessions minted from a long-term key survive its
// deactivation, which is why attackers mint them first.
func matchSessionFromKey(e cloudtrail.Event, _, _ map[string]any) (string, bool) {
	longTerm := strings.HasPrefix(e.UserIdentity.AccessKeyID, "AKIA") ||
		e.UserIdentity.Type == "IAMUser" || e.UserIdentity.Type == "Root"
	return e.EventName, is(e, "sts.amazonaws.com", "GetSessionToken", "GetFederationToken") && succeeded(e) && longTerm
}

// scannerAgents are user agents of tools that test found keys. Attempts
// count too: a scanner checking a deactivated key still means it leaked.
var scannerAgents = []string{"trufflehog", "kingfisher", "pacu", "cloudfox", "keyhacks", "nuclei"}

func matchScannerCallerID(e cloudtrail.Event, _, _ map[string]any) (string, bool) {
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

func matchReconList(e cloudtrail.Event, _, _ map[string]any) (string, bool) {
	return e.EventName, slices.Contains(reconCalls[e.EventSource], e.EventName) && !byAWSService(e)
}

// evasionCalls turn logging or detection off outright; PutEventSelectors
// is judged by evasiveSelectors since it also turns logging up.
var evasionCalls = map[string][]string{
	"cloudtrail.amazonaws.com": {"StopLogging", "DeleteTrail", "UpdateTrail"},
	"guardduty.amazonaws.com":  {"DeleteDetector"},
	"ec2.amazonaws.com":        {"DeleteFlowLogs"},
	"config.amazonaws.com":     {"StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel"},
	"macie2.amazonaws.com":     {"DisableMacie", "UpdateMacieSession"},
	"macie.amazonaws.com":      {"DisableMacie", "UpdateMacieSession"},
}

func matchEvasion(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !succeeded(e) {
		return "", false
	}
	if is(e, "cloudtrail.amazonaws.com", "PutEventSelectors") {
		return "event selectors of " + str(req, "trailName") + " stop recording management or write events", evasiveSelectors(req)
	}
	target := firstNonEmpty(str(req, "name"), str(req, "trailName"), str(req, "detectorId"), str(req, "configurationRecorderName"))
	return strings.TrimSpace(e.EventName + " " + target), slices.Contains(evasionCalls[e.EventSource], e.EventName)
}

// evasiveSelectors reports selectors that drop management events or one
// direction of them; advanced selectors are flagged without judging them.
func evasiveSelectors(req map[string]any) bool {
	if get(req, "advancedEventSelectors") != nil {
		return true
	}
	sels, _ := get(req, "eventSelectors").([]any)
	for _, s := range sels {
		o, _ := s.(map[string]any)
		if inc, isBool := o["includeManagementEvents"].(bool); isBool && !inc {
			return true
		}
		if rw := str(o, "readWriteType"); rw != "" && rw != "All" {
			return true
		}
		if ex, _ := o["excludeManagementEventSources"].([]any); len(ex) > 0 {
			return true
		}
	}
	return false
}

func matchSESRecon(e cloudtrail.Event, _, _ map[string]any) (string, bool) {
	hit := is(e, "ses.amazonaws.com", "GetSendQuota", "ListIdentities", "GetIdentityVerificationAttributes",
		"GetSendStatistics", "GetAccount", "ListEmailIdentities", "GetAccountSendingEnabled")
	return e.EventName, hit && !byAWSService(e)
}

func matchSESAbuse(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	hit := is(e, "ses.amazonaws.com", "VerifyEmailIdentity", "VerifyDomainIdentity", "VerifyEmailAddress",
		"CreateEmailIdentity", "UpdateAccountSendingEnabled", "PutAccountDetails")
	return strings.TrimSpace(e.EventName + " " + firstNonEmpty(str(req, "emailAddress"), str(req, "domain"), str(req, "emailIdentity"))),
		hit && succeeded(e)
}

// matchMining fires on attempts as well: a denied p3.16xlarge launch is
// the same intent, and AWS often refuses for quota, not for policy.
func matchMining(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	t := str(req, "instanceType")
	if !is(e, "ec2.amazonaws.com", "RunInstances") || !miningType(t) {
		return "", false
	}
	d := fmt.Sprintf("%s x%v", t, firstNonNil(get(req, "maxCount"), items(req, "instancesSet")))
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
		if n := get(it, "maxCount"); n != nil {
			return n
		}
	}
	return "?"
}

func matchRoot(e cloudtrail.Event, _, _ map[string]any) (string, bool) {
	return e.EventName + " as root", e.UserIdentity.Type == "Root" && e.UserIdentity.InvokedBy == ""
}

// matchQuarantine: AWS attaches AWSCompromisedKeyQuarantine* (formerly an
// inline AWSExposedCredentialPolicy_DO_NOT_REMOVE) when it finds a key public.
func matchQuarantine(e cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !succeeded(e) {
		return "", false
	}
	arn, name := str(req, "policyArn"), str(req, "policyName")
	_, who, _ := principal(req)
	switch {
	case is(e, "iam.amazonaws.com", "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"):
		return arn + " on " + who, strings.Contains(arn, ":policy/AWSCompromisedKeyQuarantine")
	case is(e, "iam.amazonaws.com", "PutUserPolicy"):
		return name + " on " + who, strings.HasPrefix(name, "AWSCompromisedKeyQuarantine") ||
			strings.HasPrefix(name, "AWSExposedCredentialPolicy")
	}
	return "", false
}

// allowsEverything reports a policy document with an Allow of action *
// on resource *. CloudTrail sometimes logs documents URL-encoded.
func allowsEverything(doc string) bool {
	if strings.HasPrefix(doc, "%7B") {
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = d
		}
	}
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	var stmts []map[string]any
	if json.Unmarshal(p.Statement, &stmts) != nil {
		var one map[string]any
		if json.Unmarshal(p.Statement, &one) != nil {
			return false
		}
		stmts = []map[string]any{one}
	}
	return slices.ContainsFunc(stmts, func(s map[string]any) bool {
		return s["Effect"] == "Allow" && hasStar(s["Action"]) && hasStar(s["Resource"])
	})
}

// hasStar reports "*" (or "*:*") as the value or in the list.
func hasStar(v any) bool {
	switch t := v.(type) {
	case string:
		return t == "*" || t == "*:*"
	case []any:
		return slices.ContainsFunc(t, hasStar)
	}
	return false
}
