package cloudtrail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keywarden/keywarden/internal/awstest"
)

// The parser is checked against encoding/json: the same inputs are JSON,
// the same strings decode to the same text, and a record's typed fields
// are what a generic decode of the same bytes holds at those keys.

func TestPlainRunStopsWhereTheByteLoopDoes(t *testing.T) {
	for _, s := range []string{"", "abc", `abcdefgh"`, `abcdefghijklmnop\`, "abcdefghijk\x1f", "abcdefgh\xc3\xa9", "0123456789abcdef0123456789", `"`, "\x7f\x20!#[]"} {
		checkPlainRun(t, []byte(s))
	}
}

func FuzzPlainRun(f *testing.F) {
	f.Add([]byte(`{"eventName":"CreateUser","x":"\u00e9"}`))
	f.Fuzz(checkPlainRun)
}

func checkPlainRun(t *testing.T, b []byte) {
	for i := range len(b) + 1 {
		want := 0
		for i+want < len(b) && !strByte[b[i+want]] {
			want++
		}
		if got := plainRun(b, i); got != want {
			t.Fatalf("plainRun(%q, %d) = %d, want %d", b, i, got, want)
		}
	}
}

func FuzzValidValueAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1,-0.5e+3,true,false,null]`, `"\ud83d\ude00"`, `{"a":01}`, `[1,]`, `"\x01"`, `{"a" 1}`, `-`, `1.`, `1e`, ` {"a":[{"b":"c"}]} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validValue(b), json.Valid(b); got != want {
			t.Fatalf("validValue(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

func TestValidValueBoundsDepth(t *testing.T) {
	deep := bytes.Repeat([]byte("["), maxDepth+1)
	deep = append(deep, bytes.Repeat([]byte("]"), maxDepth+1)...)
	if validValue(deep) {
		t.Errorf("%d nested arrays accepted, want the depth bound", maxDepth+1)
	}
}

func FuzzTextAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`"plain"`, `"caf\u00e9"`, `"\ud800"`, "\"\xff\xfe\"", `"tab\tand\\slash\/"`, "\"é\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &want) != nil {
			return
		}
		p := parser{data: b}
		content, plain, err := p.str()
		if err != nil {
			t.Fatalf("str(%q): %v", b, err)
		}
		if got := p.text(content, plain, false); got != want {
			t.Fatalf("text(%q) = %q, encoding/json says %q", b, got, want)
		}
	})
}

func FuzzDecodeAgreesWithGenericDecode(f *testing.F) {
	for _, seed := range corpusRecords(f) {
		f.Add(seed)
	}
	for _, s := range []string{
		`{"eventName":"A","eventName":"B","userIdentity":{"type":"Root"},"userIdentity":{"arn":"x"}}`,
		`{"event\u004eame":"A","EventName":"B","resources":[1,{"ARN":"a"},{"ARN":2},null]}`,
		`{"eventTime":"2026-11-21 10:00:00","userIdentity":null,"requestParameters":{"a":[1e400]}}`,
		`{"userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":true}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if isEnvelope(b) {
			return // TestDecodeUnwrapsEventBridge and TestDecodeRejects cover them
		}
		want, wantOK := genericDecode(b)
		got, err := Decode(b)
		if (err == nil) != wantOK {
			t.Fatalf("Decode(%q) error = %v, generic decode ok = %v", b, err, wantOK)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(got.Raw, bytes.TrimSpace(b)) {
			t.Fatalf("Raw = %q, want the record %q", got.Raw, b)
		}
		sameJSON(t, "requestParameters", got.RequestParameters, want.RequestParameters)
		sameJSON(t, "responseElements", got.ResponseElements, want.ResponseElements)
		sameJSON(t, "additionalEventData", got.AdditionalEventData, want.AdditionalEventData)
		ignore := cmpopts.IgnoreFields(Event{}, "Raw", "RequestParameters", "ResponseElements", "AdditionalEventData", "ReadOnly")
		if diff := cmp.Diff(want, got, ignore, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Decode(%q) (-generic +parser):\n%s", b, diff)
		}
	})
}

func isEnvelope(b []byte) bool {
	var m struct {
		DetailType *string `json:"detail-type"`
	}
	return json.Unmarshal(b, &m) == nil && m.DetailType != nil
}

// sameJSON compares raw values by meaning: nil and absent agree.
func sameJSON(t *testing.T, field string, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if got != nil {
		json.Unmarshal(got, &g)
	}
	if want != nil {
		json.Unmarshal(want, &w)
	}
	if (got == nil) != (want == nil) || !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %s, want %s", field, got, want)
	}
}

// genericDecode is the reference decoder: encoding/json into maps, so
// keys match exactly and the last of a repeated key wins, then the typed
// fields read from the maps. ok is false where Decode must fail.
// EventBridge envelopes are outside its scope (see isEnvelope).
func genericDecode(b []byte) (ev Event, ok bool) {
	if !json.Valid(b) {
		return ev, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // 1e400 is JSON, if not a float64
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return ev, false
	}
	r := fieldReader{ok: true}
	r.str(m, "eventID", &ev.EventID)
	var eventTime string
	r.str(m, "eventTime", &eventTime)
	for key, dst := range map[string]*string{"eventSource": &ev.EventSource, "eventName": &ev.EventName,
		"eventType": &ev.EventType, "awsRegion": &ev.AWSRegion, "sourceIPAddress": &ev.SourceIPAddress,
		"userAgent": &ev.UserAgent, "errorCode": &ev.ErrorCode, "errorMessage": &ev.ErrorMessage,
		"recipientAccountId": &ev.RecipientAccountID} {
		r.str(m, key, dst)
	}
	if m["detail-type"] != nil {
		r.ok = false // a detail-type of the wrong type: strings are envelopes
	}
	if u := r.obj(m, "userIdentity"); u != nil {
		id := &ev.UserIdentity
		for key, dst := range map[string]*string{"type": &id.Type, "principalId": &id.PrincipalID, "arn": &id.ARN,
			"accountId": &id.AccountID, "accessKeyId": &id.AccessKeyID, "userName": &id.UserName, "invokedBy": &id.InvokedBy} {
			r.str(u, key, dst)
		}
		if sc := r.obj(u, "sessionContext"); sc != nil {
			if a := r.obj(sc, "attributes"); a != nil {
				r.str(a, "creationDate", &id.SessionContext.Attributes.CreationDate)
				r.str(a, "mfaAuthenticated", &id.SessionContext.Attributes.MFAAuthenticated)
			}
			if si := r.obj(sc, "sessionIssuer"); si != nil {
				iss := &id.SessionContext.SessionIssuer
				for key, dst := range map[string]*string{"type": &iss.Type, "principalId": &iss.PrincipalID,
					"arn": &iss.ARN, "accountId": &iss.AccountID, "userName": &iss.UserName} {
					r.str(si, key, dst)
				}
			}
		}
	}
	ev.Resources = r.resources(m["resources"])
	ev.RequestParameters = r.raw(m, "requestParameters")
	ev.ResponseElements = r.raw(m, "responseElements")
	ev.AdditionalEventData = r.raw(m, "additionalEventData")
	if r.ok && eventTime != "" {
		t, err := ParseTime(eventTime)
		ev.EventTime, r.ok = t, err == nil
	}
	return ev, r.ok
}

// fieldReader reads typed fields out of generic maps; a field of the
// wrong type clears ok.
type fieldReader struct{ ok bool }

func (r *fieldReader) str(m map[string]any, key string, dst *string) {
	switch v := m[key].(type) {
	case nil:
	case string:
		*dst = v
	default:
		r.ok = false
	}
}

func (r *fieldReader) obj(m map[string]any, key string) map[string]any {
	switch v := m[key].(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	}
	r.ok = false
	return nil
}

func (r *fieldReader) raw(m map[string]any, key string) json.RawMessage {
	v, present := m[key]
	if !present {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

// resources keeps the entries that are objects with string fields.
func (r *fieldReader) resources(v any) []Resource {
	list, isList := v.([]any)
	if !isList {
		r.ok = r.ok && v == nil
		return nil
	}
	var out []Resource
	for _, item := range list {
		m, isObj := item.(map[string]any)
		if !isObj {
			continue
		}
		entry := fieldReader{ok: true}
		var res Resource
		entry.str(m, "ARN", &res.ARN)
		entry.str(m, "accountId", &res.AccountID)
		entry.str(m, "type", &res.Type)
		if entry.ok {
			out = append(out, res)
		}
	}
	return out
}

// corpusRecords are fuzzing seeds: records of the labelled corpus.
func corpusRecords(f *testing.F) [][]byte {
	file, err := os.Open(awstest.CorpusPath(f, "cloudtrail/panther-labeled.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	var out [][]byte
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() && len(out) < 40 {
		var line struct{ Event json.RawMessage }
		if json.Unmarshal(sc.Bytes(), &line) == nil && len(line.Event) > 0 {
			out = append(out, line.Event)
		}
	}
	return out
}
