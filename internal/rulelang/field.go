package rulelang

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// record gives user rules the fields of one event by dotted path. The
// typed fields of cloudtrail.Event answer the common paths without touching
// the raw JSON; other paths decode the raw record once, lazily, and only
// as deep as the path goes.
type record struct {
	ev     *cloudtrail.Event
	top    map[string]json.RawMessage
	parsed bool
}

func newRecord(ev *cloudtrail.Event) *record { return &record{ev: ev} }

// typedField answers the paths that Event keeps typed. An empty string is
// not an answer: it may mean absent or empty, which only the raw record tells.
func (r *record) typedField(path string) string {
	e := r.ev
	switch path {
	case "eventSource":
		return e.EventSource
	case "eventName":
		return e.EventName
	case "eventType":
		return e.EventType
	case "eventID":
		return e.EventID
	case "awsRegion":
		return e.AWSRegion
	case "sourceIPAddress":
		return e.SourceIPAddress
	case "userAgent":
		return e.UserAgent
	case "errorCode":
		return e.ErrorCode
	case "recipientAccountId":
		return e.RecipientAccountID
	case "userIdentity.type":
		return e.UserIdentity.Type
	case "userIdentity.arn":
		return e.UserIdentity.ARN
	case "userIdentity.accountId":
		return e.UserIdentity.AccountID
	case "userIdentity.accessKeyId":
		return e.UserIdentity.AccessKeyID
	case "userIdentity.userName":
		return e.UserIdentity.UserName
	case "userIdentity.principalId":
		return e.UserIdentity.PrincipalID
	}
	return ""
}

// values returns the string forms of the field at path and whether it
// exists. Arrays on the way fan out: a field inside a list of objects has
// one value per element. JSON null counts as absent.
func (r *record) values(path string) ([]string, bool) {
	if v := r.typedField(path); v != "" {
		return []string{v}, true
	}
	if !r.parsed {
		r.parsed = true
		if len(r.ev.Raw) > 0 {
			_ = json.Unmarshal(r.ev.Raw, &r.top) // a bad record just has no raw fields
		}
	}
	if r.top == nil {
		return nil, false
	}
	head, rest, _ := strings.Cut(path, ".")
	raw, ok := r.top[head]
	if !ok {
		return nil, false
	}
	var out []string
	collect(raw, rest, &out, 0)
	return out, len(out) > 0
}

// maxDepth bounds recursion on hostile, deeply nested records.
const maxDepth = 32

// collect appends the string forms of the values at path inside raw.
func collect(raw json.RawMessage, path string, out *[]string, depth int) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || depth > maxDepth {
		return
	}
	if raw[0] == '[' {
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return
		}
		for _, el := range elems {
			collect(el, path, out, depth+1)
		}
		return
	}
	if path == "" {
		if s, ok := scalarString(raw); ok {
			*out = append(*out, s)
		}
		return
	}
	if raw[0] != '{' {
		return
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return
	}
	head, rest, _ := strings.Cut(path, ".")
	if v, ok := obj[head]; ok {
		collect(v, rest, out, depth+1)
	}
}

// scalarString stringifies a JSON value: strings unquoted, numbers and
// bools as written, objects as compact JSON; null is no value.
func scalarString(raw json.RawMessage) (string, bool) {
	switch raw[0] {
	case 'n':
		return "", false
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '{':
		var b bytes.Buffer
		if json.Compact(&b, raw) != nil {
			return "", false
		}
		return b.String(), true
	}
	return string(raw), true
}
