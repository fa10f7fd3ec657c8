package rulelang

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// Every parser of the rule language has a fuzz target here: rules files
// (Parse), Sigma rules (ParseSigma), Sigma conditions, Sigma field keys and
// values (modifiers and wildcard patterns), and the field paths rules read
// records by. Rule files are the user's, but Sigma rules arrive by the
// catalogue and records are written by whoever holds the key: none of them
// may crash watch, and the matchers must mean what the language says.

// fuzzEvents are records every fuzzed rule is run over.
func fuzzEvents(t testing.TB) []*cloudtrail.Event {
	key := awstest.FakeKeyID("fuzz", 123456789012)
	return []*cloudtrail.Event{
		event(t, sesSend(key, "10.0.0.1", "2024-05-01T10:00:00Z")),
		event(t, sesSend(key, "2001:db8::1", "2024-05-01T10:05:00Z")),
		event(t, map[string]any{"eventTime": "2024-05-01T10:10:00Z", "eventName": "CreateUser", "errorCode": "AccessDenied",
			"userIdentity": map[string]any{"type": "Root"}, "requestParameters": map[string]any{"a": map[string]any{"b": nil}},
			"additionalEventData": map[string]any{"x": []any{1.5, []any{true}, map[string]any{"y": "z"}}}}),
	}
}

// observeAll runs rules over events twice, so thresholds read back the
// state they wrote.
func observeAll(t *testing.T, rules []*Rule, events []*cloudtrail.Event) {
	d := NewDetector(rules, nil)
	for range 2 {
		for _, e := range events {
			if _, err := d.Observe(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("rules:\n  - id: A\n    match: {eventName: {not: {prefix: X}}}\n    threshold: {count: 2, window: 1h}\n"))
	f.Add([]byte("rules: [{id: B, match: {any_of: [{a.b: {regex: '^x'}}, {c: {cidr: 10.0.0.0/8}}]}}]"))
	f.Add([]byte("rules:\n  - id: C\n    severity: high\n    match:\n      all_of:\n        - {userIdentity.accessKeyId: {in: [x, y]}}\n        - {errorCode: {exists: false}, eventName: {suffix: Email, contains: Raw}}\n" +
		"    threshold:\n      distinct: {field: sourceIPAddress, count: 2}\n      window: 7d\n      by: userIdentity.arn\n"))
	f.Add([]byte(sigmaStopLogging))
	events := fuzzEvents(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse("f.yml", data)
		if err != nil {
			if rules != nil || !strings.Contains(err.Error(), "f.yml") {
				t.Fatalf("Parse = %d rules and error %q; want no rules and an error naming the file", len(rules), err)
			}
			return
		}
		ids := map[string]bool{}
		for _, r := range rules {
			if r.ID == "" || r.Title == "" || ids[r.ID] || !strings.HasPrefix(r.Source, "f.yml:") {
				t.Fatalf("rule %+v: want a unique id, a title and a file:line source", r)
			}
			ids[r.ID] = true
			if th := r.Threshold; th != nil && (th.Count < 1 || th.Count > maxThreshold || th.Window <= 0 ||
				checkPath(th.By) != nil && th.By != "" || checkPath(th.Distinct) != nil && th.Distinct != "") {
				t.Fatalf("rule %s: threshold %+v out of bounds", r.ID, th)
			}
		}
		observeAll(t, rules, events)
	})
}

func FuzzParseSigma(f *testing.F) {
	f.Add([]byte(sigmaStopLogging))
	f.Add([]byte("title: t\nid: x\nlevel: low\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    - {eventName|startswith: [Send, Create], userAgent|re|i: '^aws'}\n    - {sourceIPAddress|cidr: 10.0.0.0/8}\n  f: {errorCode: null, a.b|exists: false}\n  condition: [sel and not f, 1 of f*]\n"))
	f.Add([]byte("title: t\nid: y\nlogsource: {product: aws, service: cloudtrail}\ndetection: {sel: {eventName|contains|all: [a, b], eventSource|cased: 'I*?\\*'}, condition: all of them}\n"))
	events := fuzzEvents(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseSigma("s.yml", data)
		if err != nil {
			var skip *SigmaSkip
			if !errors.As(err, &skip) || skip.File != "s.yml" {
				t.Fatalf("error %q is not a SigmaSkip of s.yml", err)
			}
			return
		}
		if !IsSigma(data) {
			t.Fatal("ParseSigma compiled a rule IsSigma does not recognise: Load would read it as a keywarden rules file")
		}
		if len(r.ID) <= len("SIGMA-") || !strings.HasPrefix(r.ID, "SIGMA-") || r.Title == "" || r.Threshold != nil {
			t.Fatalf("rule %+v: want id SIGMA-<id>, a title and no threshold", r)
		}
		observeAll(t, []*Rule{r}, events)
	})
}

func FuzzSigmaCondition(f *testing.F) {
	for _, s := range []string{"sel", "sel and not 1 of filter_*", "(a or b) and not (c)", "all of them", "1 of sel* or not", "((((", "a | count() by x"} {
		f.Add(s)
	}
	sel := map[string]cond{"a": constCond(true), "b": constCond(false), "c": constCond(true), "sel": constCond(true), "filter_x": constCond(false)}
	f.Fuzz(func(t *testing.T, cond string) {
		c, err := sigmaParseCondition(cond, sel)
		if err == nil {
			c.eval(nil) // must not panic
		}
	})
}

// FuzzSigmaPattern checks the modifiers a field key may carry, and that
// every wildcard value, whichever matcher it is simplified to, matches what
// the same pattern as a regular expression matches: * any text, ? one
// character, \* \? \\ literals, case folded (strings.ToLower on both
// sides) unless |cased.
func FuzzSigmaPattern(f *testing.F) {
	for _, s := range [][3]string{
		{"eventName|contains|all", "Create*Key", "CreateAccessKey"},
		{"userAgent|endswith", `\x\*y`, `C:\tools\x*y`},
		{"eventName|re|i|m", "a?b*", "AxB"},
		{"eventName|cased", `**\\?`, `ab\c`},
		{"a..b|base64", "?", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, key, value, subject string) {
		if field, mods, err := sigmaParseKey(key); err == nil {
			head, _, _ := strings.Cut(key, "|")
			known := map[string]bool{"": true, "contains": true, "startswith": true, "endswith": true, "re": true, "cidr": true, "exists": true}
			if field != head || checkPath(field) != nil || mods.reFlags != "" && mods.op != "re" || !known[mods.op] {
				t.Fatalf("key %q: field %q, modifiers %+v", key, field, mods)
			}
		}
		if !utf8.ValidString(value) || !utf8.ValidString(subject) {
			return // YAML rules and JSON records carry only UTF-8
		}
		for _, op := range []string{"", "contains", "startswith", "endswith"} {
			for _, ci := range []bool{false, true} {
				got := sigmaPattern(value, op, ci).match([]string{subject}, true)
				if want := patternRegexp(value, op, ci).MatchString(fold(subject, ci)); got != want {
					t.Fatalf("value %q op %q folded %v on %q = %v, want %v", value, op, ci, subject, got, want)
				}
			}
		}
	})
}

// patternRegexp is the oracle for FuzzSigmaPattern, written apart from
// sigmaPattern.
func patternRegexp(value, op string, ci bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	if op == "contains" || op == "endswith" {
		b.WriteString(".*")
	}
	in := []rune(fold(value, ci))
	for i := 0; i < len(in); i++ {
		switch r := in[i]; {
		case r == '\\' && i+1 < len(in) && strings.ContainsRune(`*?\`, in[i+1]):
			i++
			b.WriteString(regexp.QuoteMeta(string(in[i])))
		case r == '*':
			b.WriteString(".*")
		case r == '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if op == "contains" || op == "startswith" {
		b.WriteString(".*")
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// FuzzFieldPath checks that a dotted path finds in a record what a plain
// walk over encoding/json's reading of it finds, typed fields included.
func FuzzFieldPath(f *testing.F) {
	for _, s := range [][2]string{
		{`{"eventName":"A","requestParameters":{"tags":[{"k":"a"},{"k":1.50},{"k":null},{"k":[true,{"x":[]}]}]}}`, "requestParameters.tags.k"},
		{`{"userIdentity":{"type":"Root","arn":""},"a":[[{"b":"x"}],{"b":{"c" : 1}}]}`, "a.b"},
		{`{"eventSource":"s3.amazonaws.com","errorCode":""}`, "errorCode"},
		{`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"X","userIdentity":{"accessKeyId":"K"}}}`, "userIdentity.accessKeyId"},
	} {
		f.Add([]byte(s[0]), s[1])
	}
	f.Fuzz(func(t *testing.T, raw []byte, path string) {
		if checkPath(path) != nil {
			return // refused when rules load
		}
		e, err := cloudtrail.Decode(raw)
		if err != nil {
			return
		}
		got, ok := newRecord(&e).values(path)
		if ok != (len(got) > 0) {
			t.Fatalf("values(%q) = %q, %v: exists must mean some value", path, got, ok)
		}
		var top any
		dec := json.NewDecoder(strings.NewReader(string(e.Raw)))
		dec.UseNumber()
		if dec.Decode(&top) != nil {
			t.Fatalf("Decode accepted %q, encoding/json does not", e.Raw)
		}
		var want []any
		walk(top, strings.Split(path, "."), 0, &want)
		if len(got) != len(want) {
			t.Fatalf("values(%q) = %q, want %d values %v", path, got, len(want), want)
		}
		for i, w := range want {
			if !sameValue(got[i], w) {
				t.Fatalf("values(%q)[%d] = %q, want %v", path, i, got[i], w)
			}
		}
	})
}

// walk is the reference for record.values: lists fan out at any level,
// null is no value, and nothing deeper than maxDepth is read. The top
// level counts from the first segment's value, as record.values does.
func walk(v any, segs []string, depth int, out *[]any) {
	if depth == 0 {
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		if v, ok = obj[segs[0]]; ok {
			walk(v, segs[1:], 1, out)
		}
		return
	}
	if depth > maxDepth+1 {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, el := range x {
			walk(el, segs, depth+1, out)
		}
	case nil:
	case map[string]any:
		if len(segs) == 0 {
			*out = append(*out, x)
		} else if v, ok := x[segs[0]]; ok {
			walk(v, segs[1:], depth+1, out)
		}
	default:
		if len(segs) == 0 {
			*out = append(*out, x)
		}
	}
}

// sameValue compares a value's string form with what encoding/json read:
// strings as they are, numbers as written, objects as equal JSON.
func sameValue(got string, want any) bool {
	switch w := want.(type) {
	case string:
		return got == w
	case json.Number:
		return got == w.String()
	case bool:
		return got == map[bool]string{true: "true", false: "false"}[w]
	}
	dec := json.NewDecoder(strings.NewReader(got))
	dec.UseNumber()
	var g any
	return dec.Decode(&g) == nil && reflect.DeepEqual(g, want)
}
