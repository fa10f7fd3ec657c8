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
	// An EventBridge envelope's keys: when detail-type is there, the
	// record is in detail. Decoded with the record's own fields, so a bare
	// record (the common case) is parsed once.
	DetailType *string         `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
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
func decode(raw []byte) (Event, error) { return decodeRecord(raw, true) }

// decodeRecord decodes raw, unwrapping one EventBridge envelope when
// envelopeOK (an envelope inside an envelope is not CloudTrail's).
func decodeRecord(raw []byte, envelopeOK bool) (Event, error) {
	var ev Event
	w := wireEvent{eventFields: (*eventFields)(&ev)}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Event{}, fmt.Errorf("decode record: %w", err)
	}
	if w.DetailType != nil {
		if !envelopeOK {
			return Event{}, fmt.Errorf("eventbridge envelope inside another: %w", ErrNotCloudTrail)
		}
		detail, err := envelopeDetail(*w.DetailType, w.Detail)
		if err != nil {
			return Event{}, err
		}
		return decodeRecord(detail, false)
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
	ev.Raw = raw
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

// envelopeDetail is the CloudTrail record an EventBridge event carries.
func envelopeDetail(detailType string, detail json.RawMessage) ([]byte, error) {
	if !strings.HasSuffix(detailType, "via CloudTrail") {
		return nil, fmt.Errorf("eventbridge detail-type %q: %w", detailType, ErrNotCloudTrail)
	}
	detail = bytes.TrimSpace(detail)
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
