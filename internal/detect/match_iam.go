package detect

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// Matchers of iamRules: identity, persistence and credential signals.

func matchCreateUser(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	return "user " + Str(req, "userName"), is(e, "iam.amazonaws.com", "CreateUser") && succeeded(e)
}

// matchKeyForOther: a key for oneself is routine rotation; a key for
// someone else is how a stolen key makes itself a second way in.
func matchKeyForOther(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	target := Str(req, "userName")
	return "for user " + target, is(e, "iam.amazonaws.com", "CreateAccessKey") && succeeded(e) &&
		target != "" && target != self(e)
}

func matchLoginProfile(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	target := Str(req, "userName")
	return "for user " + target, is(e, "iam.amazonaws.com", "CreateLoginProfile", "UpdateLoginProfile") &&
		succeeded(e) && target != "" && target != self(e)
}

func matchAdminAttached(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !succeeded(e) {
		return "", false
	}
	who := principal(req)
	switch {
	case is(e, "iam.amazonaws.com", "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"):
		arn := Str(req, "policyArn")
		return arn + " to " + who, adminPolicyName(arn) != ""
	case is(e, "iam.amazonaws.com", "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy"):
		doc := Str(req, "policyDocument")
		if allowsEverything(doc) {
			return "inline policy " + Str(req, "policyName") + " allows */* to " + who, true
		}
		return "inline policy " + Str(req, "policyName") + " allows iam:* on * to " + who, allowsOnAll(doc, "iam:*")
	}
	return "", false
}

// adminPolicies amount to administrator: IAM or Organizations full access
// lets the holder grant itself the rest.
var adminPolicies = []string{"AdministratorAccess", "IAMFullAccess", "AWSOrganizationsFullAccess"}

// adminPolicyName is the name of arn when it is one of adminPolicies, "" otherwise.
func adminPolicyName(arn string) string {
	for _, n := range adminPolicies {
		if strings.HasSuffix(arn, ":policy/"+n) {
			return n
		}
	}
	return ""
}

func matchPolicyVersion(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !is(e, "iam.amazonaws.com", "CreatePolicyVersion", "SetDefaultPolicyVersion") || !succeeded(e) {
		return "", false
	}
	d := Str(req, "policyArn")
	if allowsEverything(Str(req, "policyDocument")) {
		d += " (the new version allows */*)"
	}
	return d, true
}

// matchSessionFromKey: sessions minted from a long-term key survive its
// deactivation, which is why attackers mint them first.
func matchSessionFromKey(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	longTerm := strings.HasPrefix(e.UserIdentity.AccessKeyID, "AKIA") ||
		e.UserIdentity.Type == "IAMUser" || e.UserIdentity.Type == "Root"
	return e.EventName, is(e, "sts.amazonaws.com", "GetSessionToken", "GetFederationToken") && succeeded(e) && longTerm
}

// ssoAgents are the user agents of the IAM Identity Center portal, which
// calls GetSigninToken for every console hop its users make.
var ssoAgents = []string{"Jersey/${project.version}", "Go-http-client/2.0"}

func matchSigninToken(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	sso := slices.ContainsFunc(ssoAgents, func(a string) bool { return strings.Contains(e.UserAgent, a) })
	return "user agent " + e.UserAgent, is(e, "signin.amazonaws.com", "GetSigninToken") && !sso && succeeded(e)
}

// matchLoginNoMFA judges IAM users and root only: federated sign-ins
// (SAML, SSO) report MFAUsed "No" because MFA happened at the identity
// provider.
func matchLoginNoMFA(e *cloudtrail.Event, _, resp map[string]any) (string, bool) {
	if !is(e, "signin.amazonaws.com", "ConsoleLogin") || (e.UserIdentity.Type != "IAMUser" && e.UserIdentity.Type != "Root") {
		return "", false
	}
	extra := Object(e.AdditionalEventData)
	ok := Str(extra, "MFAUsed") == "No" && Str(resp, "ConsoleLogin") == "Success" && Str(extra, "SamlProviderArn") == ""
	return "password-only login of " + firstNonEmpty(e.UserIdentity.UserName, e.UserIdentity.Type), ok
}

// matchRoot judges every event, so it builds its detail only on a match.
func matchRoot(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	if e.UserIdentity.Type != "Root" || e.UserIdentity.InvokedBy != "" {
		return "", false
	}
	return e.EventName + " as root", true
}

// matchQuarantine: AWS attaches AWSCompromisedKeyQuarantine (V2, V3, ...;
// formerly an inline AWSExposedCredentialPolicy_DO_NOT_REMOVE) when it
// finds a key in public.
func matchQuarantine(e *cloudtrail.Event, req, _ map[string]any) (string, bool) {
	if !succeeded(e) {
		return "", false
	}
	arn, name, who := Str(req, "policyArn"), Str(req, "policyName"), principal(req)
	switch {
	case is(e, "iam.amazonaws.com", "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"):
		return arn + " on " + who, strings.Contains(arn, ":policy/AWSCompromisedKeyQuarantine")
	case is(e, "iam.amazonaws.com", "PutUserPolicy"):
		return name + " on " + who, strings.HasPrefix(name, "AWSCompromisedKeyQuarantine") ||
			strings.HasPrefix(name, "AWSExposedCredentialPolicy")
	}
	return "", false
}

// instanceSession is the ARN of credentials EC2 hands an instance through
// IMDS: the role session is named after the instance id.
var instanceSession = regexp.MustCompile(`:assumed-role/[^/]+/i-[0-9a-fA-F]{8,17}$`)

// matchInstanceCreds is Panther's IMDS exfiltration heuristic (an
// assumed-role session named i-…, not SSM, not RegisterManagedInstance,
// not "AWS Internal"), narrowed to public source addresses: a private
// address is the instance itself through a VPC endpoint. Offline we cannot
// tell EC2's public ranges from an attacker's, so an instance calling AWS
// from its own public IP also fires; the network baseline of the session
// name is the follow-up check. The rule judges every event, so the
// regexp runs only after the cheap checks, on sessions named i-….
func matchInstanceCreds(e *cloudtrail.Event, _, _ map[string]any) (string, bool) {
	id := &e.UserIdentity
	if id.Type != "AssumedRole" || id.InvokedBy != "" || e.EventSource == "ssm.amazonaws.com" ||
		e.EventName == "RegisterManagedInstance" {
		return "", false
	}
	session := id.ARN[strings.LastIndexByte(id.ARN, '/')+1:]
	if !strings.HasPrefix(session, "i-") || !instanceSession.MatchString(id.ARN) {
		return "", false
	}
	ip, err := netip.ParseAddr(e.SourceIPAddress)
	if err != nil || !publicAddr(ip) || bytes.Contains(e.Raw, []byte(`"vpcEndpointId"`)) {
		return "", false
	}
	return "session " + session + " from " + e.SourceIPAddress, true
}

// carrierNAT (RFC 6598) is shared address space, not a public caller.
var carrierNAT = netip.MustParsePrefix("100.64.0.0/10")

func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!carrierNAT.Contains(ip)
}

// allowsEverything reports a policy document with an Allow of action *
// on resource *.
func allowsEverything(doc string) bool { return allowsOnAll(doc, "*", "*:*") }

// allowsOnAll reports a policy document with an Allow of one of actions
// on resource *. CloudTrail sometimes logs documents URL-encoded.
func allowsOnAll(doc string, actions ...string) bool {
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
		return s["Effect"] == "Allow" && hasAny(s["Action"], actions) && hasAny(s["Resource"], []string{"*", "*:*"})
	})
}

// hasAny reports one of want as the value or in the list.
func hasAny(v any, want []string) bool {
	switch t := v.(type) {
	case string:
		return slices.Contains(want, t)
	case []any:
		return slices.ContainsFunc(t, func(x any) bool { return hasAny(x, want) })
	}
	return false
}
