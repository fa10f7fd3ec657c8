package awstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// CloudTrailEventFixture is one CloudTrail record the fake LookupEvents
// server holds. Either give the fields and leave Record nil (a minimal record
// is built from them), or give Record (a whole record, e.g. from the shared
// corpus): its empty fields are then read from the record, and the non-empty
// ones are written into it, so what the server filters on is always what the
// record it serves says.
type CloudTrailEventFixture struct {
	EventID     string
	EventName   string
	EventSource string // iam.amazonaws.com, ...
	Region      string // awsRegion: the region whose LookupEvents serves it
	AccessKeyID string // userIdentity.accessKeyId
	Username    string // userIdentity.userName
	Time        time.Time
	ReadOnly    bool
	// ResourceNames are the Resources of the answer (ResourceName), and what
	// a ResourceName lookup matches.
	ResourceNames []string
	Record        json.RawMessage
}

// ctFixture is a fixture ready to serve: fields filled, record final.
type ctFixture struct {
	CloudTrailEventFixture
	record string
}

// prepare fills the fixture's fields from its record, or its record from
// its fields.
func (f CloudTrailEventFixture) prepare() (ctFixture, error) {
	rec := map[string]any{}
	if len(f.Record) > 0 {
		dec := json.NewDecoder(bytes.NewReader(f.Record))
		dec.UseNumber() // keep numbers in the record exactly as given
		if err := dec.Decode(&rec); err != nil {
			return ctFixture{}, fmt.Errorf("decode fixture record: %w", err)
		}
	}
	ident, _ := rec["userIdentity"].(map[string]any)
	if ident == nil {
		ident = map[string]any{"type": "IAMUser"}
		rec["userIdentity"] = ident
	}
	pick := func(dst *string, m map[string]any, key string) {
		if *dst != "" {
			m[key] = *dst
			return
		}
		*dst, _ = m[key].(string)
	}
	pick(&f.EventID, rec, "eventID")
	pick(&f.EventName, rec, "eventName")
	pick(&f.EventSource, rec, "eventSource")
	pick(&f.Region, rec, "awsRegion")
	pick(&f.AccessKeyID, ident, "accessKeyId")
	pick(&f.Username, ident, "userName")
	if f.Time.IsZero() {
		s, _ := rec["eventTime"].(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return ctFixture{}, fmt.Errorf("fixture %s: eventTime %q: %w", f.EventID, s, err)
		}
		f.Time = t
	}
	rec["eventTime"] = f.Time.UTC().Format(time.RFC3339)
	if ro, ok := rec["readOnly"].(bool); ok && len(f.Record) > 0 {
		f.ReadOnly = ro
	}
	rec["readOnly"] = f.ReadOnly
	if len(f.ResourceNames) == 0 {
		f.ResourceNames = recordResourceNames(rec)
	}
	if _, ok := rec["eventVersion"]; !ok {
		rec["eventVersion"] = "1.08"
		rec["eventType"] = "AwsApiCall"
	}
	out, err := json.Marshal(rec)
	if err != nil {
		return ctFixture{}, fmt.Errorf("encode fixture record: %w", err)
	}
	return ctFixture{CloudTrailEventFixture: f, record: string(out)}, nil
}

// recordResourceNames are the ARNs of the record's resources list.
func recordResourceNames(rec map[string]any) []string {
	list, _ := rec["resources"].([]any)
	var names []string
	for _, r := range list {
		m, _ := r.(map[string]any)
		if arn, _ := m["ARN"].(string); arn != "" {
			names = append(names, arn)
		}
	}
	return names
}

// matches reports whether the fixture answers a lookup of attribute key
// (AWS's LookupAttributeKey names) equal to value.
func (f ctFixture) matches(key, value string) (bool, error) {
	switch key {
	case "AccessKeyId":
		return f.AccessKeyID == value, nil
	case "EventId":
		return f.EventID == value, nil
	case "EventName":
		return f.EventName == value, nil
	case "EventSource":
		return f.EventSource == value, nil
	case "Username":
		return f.Username == value, nil
	case "ReadOnly":
		return fmt.Sprint(f.ReadOnly) == value, nil
	case "ResourceName":
		for _, n := range f.ResourceNames {
			if n == value {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("unsupported lookup attribute %q", key)
}

// answer is the fixture as an entry of LookupEvents' Events list.
func (f ctFixture) answer() map[string]any {
	resources := []map[string]string{}
	for _, n := range f.ResourceNames {
		resources = append(resources, map[string]string{"ResourceName": n})
	}
	e := map[string]any{
		"EventId":         f.EventID,
		"EventName":       f.EventName,
		"EventSource":     f.EventSource,
		"EventTime":       float64(f.Time.UnixMilli()) / 1000,
		"ReadOnly":        fmt.Sprint(f.ReadOnly),
		"Resources":       resources,
		"CloudTrailEvent": f.record,
	}
	if f.AccessKeyID != "" {
		e["AccessKeyId"] = f.AccessKeyID
	}
	if f.Username != "" {
		e["Username"] = f.Username
	}
	return e
}
