package detect

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// Object decodes a raw JSON object; anything else (null, arrays, garbage
// from a hostile log) is nil, so lookups simply find nothing.
func Object(raw json.RawMessage) map[string]any {
	var m map[string]any
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// Get walks path through nested objects.
func Get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[p]
	}
	return v
}

// Str is Get for a string leaf; numbers and booleans are not strings.
func Str(m map[string]any, path ...string) string {
	s, _ := Get(m, path...).(string)
	return s
}

// Items returns the list under path, also when CloudTrail wraps it as
// {"items": [...]} the way EC2 does.
func Items(m map[string]any, path ...string) []map[string]any {
	v := Get(m, path...)
	if o, ok := v.(map[string]any); ok {
		v = o["items"]
	}
	list, _ := v.([]any)
	var out []map[string]any
	for _, x := range list {
		if o, ok := x.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

// principal names the user, role or group a policy call targeted.
func principal(req map[string]any) string {
	return firstNonEmpty(Str(req, "userName"), Str(req, "roleName"), Str(req, "groupName"))
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// succeeded reports a call that took effect: failed attempts at changes
// are counted by the burst detector instead.
func succeeded(e *cloudtrail.Event) bool { return e.ErrorCode == "" }

// awsChecks are services that read account settings on their own schedule
// (Trusted Advisor reads the SES quota daily): their reads are not recon.
var awsChecks = []string{"trustedadvisor.amazonaws.com", "config.amazonaws.com", "securityhub.amazonaws.com",
	"access-analyzer.amazonaws.com", "resource-explorer-2.amazonaws.com"}

// byAWSService is a call AWS made on the account's behalf, not one a key
// holder typed: such calls name the service as the caller's address
// (backup.amazonaws.com) where they carry no invokedBy.
func byAWSService(e *cloudtrail.Event) bool {
	return e.UserIdentity.Type == "AWSService" || e.UserIdentity.InvokedBy != "" || slices.Contains(awsChecks, e.UserAgent) ||
		strings.HasSuffix(e.SourceIPAddress, ".amazonaws.com")
}

// self is the name the caller goes by: the IAM user's name, or the
// session name of an assumed role (the last part of its ARN), which is
// how people appear when they sign in through SSO.
func self(e *cloudtrail.Event) string {
	if e.UserIdentity.UserName != "" && e.UserIdentity.Type != "AssumedRole" {
		return e.UserIdentity.UserName
	}
	if i := strings.LastIndexByte(e.UserIdentity.ARN, '/'); i >= 0 {
		return e.UserIdentity.ARN[i+1:]
	}
	return ""
}

// is reports one of names from source; an event without eventSource (some
// hand-written fixtures) is judged by its name alone.
func is(e *cloudtrail.Event, source string, names ...string) bool {
	return (e.EventSource == "" || e.EventSource == source) && slices.Contains(names, baseName(e.EventName))
}

// baseName drops the API version Lambda (and a few older services) append
// to event names: UpdateFunctionConfiguration20150331v2 is
// UpdateFunctionConfiguration. Rules name events without it.
func baseName(name string) string {
	s := name
	if i := strings.LastIndex(s, "v"); i > 0 && i < len(s)-1 && digits(s[i+1:]) {
		s = s[:i]
	}
	if n := len(s) - 8; n > 0 && digits(s[n:]) && !digits(s[n-1:n]) {
		return s[:n]
	}
	return name
}

func digits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// KeyOf is the identity stateful detectors group by: the access key id,
// else the principal's ARN, else its principal id ("" when none: such
// events are not grouped).
func KeyOf(e *cloudtrail.Event) string {
	return firstNonEmpty(e.UserIdentity.AccessKeyID, e.UserIdentity.ARN, e.UserIdentity.PrincipalID)
}
