package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"strings"
	"time"
)

// ErrNotCloudTrail reports an EventBridge envelope that does not carry a
// CloudTrail record (an AWS Health event, say).
var ErrNotCloudTrail = errors.New("not a cloudtrail record")

// timeLayouts are the eventTime forms seen in the wild: CloudTrail's own
// RFC 3339 and the space-separated UTC form of Panther's fixtures. Go's
// parser accepts fractional seconds after the seconds field of either.
var timeLayouts = []string{time.RFC3339, "2006-01-02 15:04:05"}

// eventFields is Event without its methods, so decoding it does not recurse.
type eventFields Event

// wireEvent takes eventTime as text: the field on Event is typed and
// excluded from JSON, and the shallower field wins for the key.
type wireEvent struct {
	*eventFields
	EventTime *string `json:"eventTime"`
	// ReadOnly is a bool in CloudTrail but a string in some exports and
	// fixtures ("true"), so it is read leniently.
	ReadOnly json.RawMessage `json:"readOnly"`
	// Resources entries that are not objects (some exports stringify them)
	// are dropped rather than failing the whole record.
	Resources []json.RawMessage `json:"resources"`
}

// Decode decodes one CloudTrail record. The record may also come wrapped
// in an EventBridge envelope ("detail-type": "AWS API Call via CloudTrail"),
// which is unwrapped. A record without eventTime decodes with a zero
// EventTime; a missing userIdentity leaves it empty. Raw holds a copy of
// the record (without the envelope).
func Decode(raw []byte) (Event, error) {
	ev, err := decode(raw)
	if err != nil {
		return Event{}, err
	}
	ev.Raw = append(json.RawMessage(nil), ev.Raw...)
	return ev, nil
}

// decode is Decode without the copy: Raw aliases raw, which the readers
// allocate fresh for every record.
func decode(raw []byte) (Event, error) {
	record, err := unwrap(raw)
	if err != nil {
		return Event{}, err
	}
	var ev Event
	w := wireEvent{eventFields: (*eventFields)(&ev)}
	if err := json.Unmarshal(record, &w); err != nil {
		return Event{}, fmt.Errorf("decode record: %w", err)
	}
	if w.EventTime != nil && *w.EventTime != "" {
		t, err := ParseTime(*w.EventTime)
		if err != nil {
			return Event{}, err
		}
		ev.EventTime = t
	}
	ev.ReadOnly = lenientBool(w.ReadOnly)
	ev.Resources = objectsOnly(w.Resources)
	ev.Raw = record
	return ev, nil
}

// objectsOnly decodes the resources that are objects.
func objectsOnly(raws []json.RawMessage) []Resource {
	if raws == nil {
		return nil
	}
	out := make([]Resource, 0, len(raws))
	for _, raw := range raws {
		var r Resource
		if len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// lenientBool reads true, false, "true" or "false"; anything else is unknown (nil).
func lenientBool(raw json.RawMessage) *bool {
	var b bool
	switch string(bytes.ToLower(bytes.Trim(raw, `"`))) {
	case "true":
		b = true
	case "false":
	default:
		return nil
	}
	return &b
}

// envelope is the part of an EventBridge event that says what it carries.
type envelope struct {
	DetailType *string         `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// unwrap returns the CloudTrail record inside an EventBridge envelope, or
// raw itself when it is not one. The byte search keeps the common case (a
// bare record) from being parsed twice.
func unwrap(raw []byte) ([]byte, error) {
	if !bytes.Contains(raw, []byte(`"detail-type"`)) {
		return raw, nil
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if env.DetailType == nil {
		return raw, nil // the key was nested deeper: a bare record
	}
	if !strings.HasSuffix(*env.DetailType, "via CloudTrail") {
		return nil, fmt.Errorf("eventbridge detail-type %q: %w", *env.DetailType, ErrNotCloudTrail)
	}
	detail := bytes.TrimSpace(env.Detail)
	if len(detail) == 0 || detail[0] != '{' {
		return nil, fmt.Errorf("eventbridge event without a detail object: %w", ErrNotCloudTrail)
	}
	return detail, nil
}

// ParseTime parses an eventTime: RFC 3339 with or without fractional
// seconds, or "2006-01-02 15:04:05" (taken as UTC). The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse eventTime %q: not RFC 3339 or \"2006-01-02 15:04:05\"", truncate(s, 64))
}

// truncate keeps error messages about hostile input short.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
