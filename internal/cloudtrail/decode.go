package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// Decode decodes one CloudTrail record. The record may also come wrapped
// in an EventBridge envelope ("detail-type": "AWS API Call via CloudTrail"),
// which is unwrapped. A record without eventTime decodes with a zero
// EventTime; a missing userIdentity leaves it empty. Raw holds a copy of
// the record (without the envelope).
func Decode(raw []byte) (Event, error) {
	p := parser{data: raw}
	return p.wholeRecord()
}

// wholeRecord decodes data as exactly one record.
func (p *parser) wholeRecord() (Event, error) {
	ev, err := p.record(true)
	if err == nil {
		if p.ws(); p.pos < len(p.data) {
			err = p.syntax("after top-level value")
		}
	}
	if err != nil {
		return Event{}, fmt.Errorf("decode record: %w", err)
	}
	return ev, nil
}

// span is where a raw field's value lies in the parser's data.
type span struct{ from, to int }

// wireRecord is what a record's keys fill before the Event is finished.
type wireRecord struct {
	ev                          Event
	eventTime                   string
	readOnly                    span
	request, response, addition span
	detailType                  *string // set when the record is an EventBridge envelope
	detail                      span
}

// record decodes the record at pos, unwrapping one EventBridge envelope
// when envelopeOK (an envelope inside an envelope is not CloudTrail's).
// Syntax errors and errMore are fatal (see isFatal); any other error is
// about this record alone, which has been consumed. Raw and the raw fields
// are a copy of the record's bytes.
func (p *parser) record(envelopeOK bool) (Event, error) {
	p.typeErr = nil
	if c, err := p.peek(); err != nil {
		return Event{}, err
	} else if c != '{' {
		return Event{}, p.wrongTypeOr("", "an object")
	}
	start := p.pos
	var w wireRecord
	if err := p.object(func(key []byte) error { return p.recordField(&w, key) }); err != nil {
		return Event{}, err
	}
	if p.typeErr != nil {
		return Event{}, p.typeErr
	}
	if w.detailType != nil {
		return p.unwrap(envelopeOK, *w.detailType, w.detail)
	}
	return p.finish(&w, start)
}

// wrongTypeOr skips a value of the wrong type, returning the type error
// unless the skip itself failed.
func (p *parser) wrongTypeOr(field, want string) error {
	if err := p.wrongType(field, want); err != nil {
		return err
	}
	return p.typeErr
}

// unwrap decodes the CloudTrail record an EventBridge event carries.
func (p *parser) unwrap(envelopeOK bool, detailType string, detail span) (Event, error) {
	if !envelopeOK {
		return Event{}, fmt.Errorf("eventbridge envelope inside another: %w", ErrNotCloudTrail)
	}
	if !strings.HasSuffix(detailType, "via CloudTrail") {
		return Event{}, fmt.Errorf("eventbridge detail-type %q: %w", truncate(detailType, 64), ErrNotCloudTrail)
	}
	if detail.to == 0 || p.data[detail.from] != '{' {
		return Event{}, fmt.Errorf("eventbridge event without a detail object: %w", ErrNotCloudTrail)
	}
	inner := parser{data: p.data[:detail.to], pos: detail.from, names: p.names, slab: p.slab}
	return inner.record(false)
}

// finish copies the record's bytes (from start to pos), so the caller may
// reuse its buffer, and fills the fields kept raw or parsed after the keys
// were read.
func (p *parser) finish(w *wireRecord, offset int) (Event, error) {
	ev := w.ev
	if w.eventTime != "" {
		t, err := ParseTime(w.eventTime)
		if err != nil {
			return Event{}, err
		}
		ev.EventTime = t
	}
	ev.Raw = p.keep(p.data[offset:p.pos])
	rawField := func(s span) json.RawMessage {
		if s.to == 0 {
			return nil
		}
		return ev.Raw[s.from-offset : s.to-offset : s.to-offset]
	}
	ev.ReadOnly = lenientBool(rawField(w.readOnly))
	ev.RequestParameters = rawField(w.request)
	ev.ResponseElements = rawField(w.response)
	ev.AdditionalEventData = rawField(w.addition)
	return ev, nil
}

// slabSize is the allocation records are copied into: a fraction of the
// per-record cost of allocating each alone. A record kept alive keeps its
// slab alive too, which is why it is small.
const slabSize = 64 << 10

// keep copies a record out of the input, into the parser's slab when it
// has one. Slabs are only appended to, so records never overlap.
func (p *parser) keep(record []byte) []byte {
	if p.slab == nil || len(record) > slabSize/4 {
		return bytes.Clone(record)
	}
	s := *p.slab
	if cap(s)-len(s) < len(record) {
		s = make([]byte, 0, slabSize)
	}
	n := len(s)
	s = append(s, record...)
	*p.slab = s
	return s[n:len(s):len(s)]
}

// recordField decodes the value of one top-level key of a record.
func (p *parser) recordField(w *wireRecord, key []byte) error {
	ev := &w.ev
	switch string(key) {
	case "eventID":
		return p.stringField("eventID", &ev.EventID, false)
	case "eventTime":
		return p.stringField("eventTime", &w.eventTime, false)
	case "eventSource":
		return p.stringField("eventSource", &ev.EventSource, true)
	case "eventName":
		return p.stringField("eventName", &ev.EventName, true)
	case "eventType":
		return p.stringField("eventType", &ev.EventType, true)
	case "awsRegion":
		return p.stringField("awsRegion", &ev.AWSRegion, true)
	case "sourceIPAddress":
		return p.stringField("sourceIPAddress", &ev.SourceIPAddress, false)
	case "userAgent":
		return p.stringField("userAgent", &ev.UserAgent, true)
	case "errorCode":
		return p.stringField("errorCode", &ev.ErrorCode, true)
	case "errorMessage":
		return p.stringField("errorMessage", &ev.ErrorMessage, false)
	case "recipientAccountId":
		return p.stringField("recipientAccountId", &ev.RecipientAccountID, true)
	case "userIdentity":
		return p.userIdentity(&ev.UserIdentity)
	case "resources":
		return p.resources(&ev.Resources)
	case "readOnly":
		return p.rawField(&w.readOnly)
	case "requestParameters":
		return p.rawField(&w.request)
	case "responseElements":
		return p.rawField(&w.response)
	case "additionalEventData":
		return p.rawField(&w.addition)
	case "detail":
		return p.rawField(&w.detail)
	case "detail-type":
		var s string
		if c, _ := p.peek(); c == '"' {
			w.detailType = &s
		}
		return p.stringField("detail-type", &s, false)
	}
	return p.skip()
}

// stringField decodes a string into dst; null leaves dst as it is, as
// encoding/json does.
func (p *parser) stringField(field string, dst *string, intern bool) error {
	c, err := p.peek()
	if err != nil {
		return err
	}
	switch c {
	case '"':
		content, plain, err := p.str()
		if err != nil {
			return err
		}
		*dst = p.text(content, plain, intern)
		return nil
	case 'n':
		return p.literal("null")
	}
	return p.wrongType(field, "a string")
}

// rawField notes where a value lies, to be kept as raw JSON.
func (p *parser) rawField(dst *span) error {
	p.ws()
	from := p.pos
	if err := p.skip(); err != nil {
		return err
	}
	*dst = span{from, p.pos}
	return nil
}

// objectField decodes an object with member; null leaves it as it is.
func (p *parser) objectField(field string, member func(key []byte) error) error {
	c, err := p.peek()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return p.object(member)
	case 'n':
		return p.literal("null")
	}
	return p.wrongType(field, "an object")
}

// The nested objects are replaced, not merged, by a repeated key: the last
// one wins, as for every other field.

func (p *parser) userIdentity(u *UserIdentity) error {
	*u = UserIdentity{}
	return p.objectField("userIdentity", func(key []byte) error {
		switch string(key) {
		case "type":
			return p.stringField("userIdentity.type", &u.Type, true)
		case "principalId":
			return p.stringField("userIdentity.principalId", &u.PrincipalID, true)
		case "arn":
			return p.stringField("userIdentity.arn", &u.ARN, true)
		case "accountId":
			return p.stringField("userIdentity.accountId", &u.AccountID, true)
		case "accessKeyId":
			return p.stringField("userIdentity.accessKeyId", &u.AccessKeyID, true)
		case "userName":
			return p.stringField("userIdentity.userName", &u.UserName, true)
		case "invokedBy":
			return p.stringField("userIdentity.invokedBy", &u.InvokedBy, true)
		case "sessionContext":
			return p.sessionContext(&u.SessionContext)
		}
		return p.skip()
	})
}

func (p *parser) sessionContext(s *SessionContext) error {
	*s = SessionContext{}
	return p.objectField("sessionContext", func(key []byte) error {
		switch string(key) {
		case "attributes":
			a := &s.Attributes
			*a = Attributes{}
			return p.objectField("sessionContext.attributes", func(key []byte) error {
				switch string(key) {
				case "creationDate":
					return p.stringField("attributes.creationDate", &a.CreationDate, false)
				case "mfaAuthenticated":
					return p.stringField("attributes.mfaAuthenticated", &a.MFAAuthenticated, true)
				}
				return p.skip()
			})
		case "sessionIssuer":
			return p.sessionIssuer(&s.SessionIssuer)
		}
		return p.skip()
	})
}

func (p *parser) sessionIssuer(i *SessionIssuer) error {
	*i = SessionIssuer{}
	return p.objectField("sessionIssuer", func(key []byte) error {
		switch string(key) {
		case "type":
			return p.stringField("sessionIssuer.type", &i.Type, true)
		case "principalId":
			return p.stringField("sessionIssuer.principalId", &i.PrincipalID, true)
		case "arn":
			return p.stringField("sessionIssuer.arn", &i.ARN, true)
		case "accountId":
			return p.stringField("sessionIssuer.accountId", &i.AccountID, true)
		case "userName":
			return p.stringField("sessionIssuer.userName", &i.UserName, true)
		}
		return p.skip()
	})
}

// resources decodes the resources list. Entries that are not objects, or
// have a field of the wrong type (some exports stringify them), are dropped
// rather than failing the whole record.
func (p *parser) resources(dst *[]Resource) error {
	c, err := p.peek()
	if err != nil {
		return err
	}
	switch c {
	case 'n':
		*dst = nil
		return p.literal("null")
	case '[':
	default:
		return p.wrongType("resources", "an array")
	}
	out := []Resource{}
	err = p.array(func() error {
		if c, err := p.peek(); err != nil || c != '{' {
			return p.skip()
		}
		outer := p.typeErr
		p.typeErr = nil
		var r Resource
		err := p.object(func(key []byte) error {
			switch string(key) {
			case "ARN":
				return p.stringField("ARN", &r.ARN, false)
			case "accountId":
				return p.stringField("accountId", &r.AccountID, true)
			case "type":
				return p.stringField("type", &r.Type, true)
			}
			return p.skip()
		})
		if err == nil && p.typeErr == nil {
			out = append(out, r)
		}
		p.typeErr = outer
		return err
	})
	*dst = out
	return err
}

// lenientBool reads true, false, "true" or "false" in any case; anything
// else is unknown (nil).
func lenientBool(raw json.RawMessage) *bool {
	word := bytes.Trim(raw, `"`)
	var b bool
	switch {
	case bytes.EqualFold(word, []byte("true")):
		b = true
	case bytes.EqualFold(word, []byte("false")):
	default:
		return nil
	}
	return &b
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
