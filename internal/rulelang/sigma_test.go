package rulelang

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

func TestSigmaConditionPrecedence(t *testing.T) {
	sel := map[string]cond{
		"t": constCond(true), "f": constCond(false),
		"sel_a": constCond(false), "sel_b": constCond(true), "filter_x": constCond(true), "_hidden": constCond(false),
	}
	tests := []struct {
		cond string
		want bool
	}{
		{"t", true},
		{"not t", false},
		{"t or f and f", true},    // and binds tighter than or
		{"(t or f) and f", false}, // parentheses override
		{"not f and f", false},    // not binds tighter than and
		{"not (f and f)", true},   //
		{"f or not f", true},      //
		{"1 of sel_*", true},      // one of sel_a, sel_b
		{"all of sel_*", false},   // sel_a is false
		{"1 of them", true},       //
		{"all of them", false},    //
		{"t and not 1 of filter_*", false},
		{"all of them and not _hidden", false}, // them skips _hidden but sel_a is false
		{"( ( t ) )", true},
		{"t AND NOT f", true}, // keywords ignore case
		{"not not t", true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			c, err := sigmaParseCondition(tt.cond, sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.eval(nil); got != tt.want {
				t.Errorf("%q = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func TestSigmaConditionErrors(t *testing.T) {
	sel := map[string]cond{"a": constCond(true)}
	for _, cond := range []string{"", "a and", "(a", "a)", "b", "1 of", "1 of x*", "a | count() > 5", "and a", "a a", strings.Repeat("(", 200) + "a" + strings.Repeat(")", 200)} {
		if _, err := sigmaParseCondition(cond, sel); err == nil {
			t.Errorf("condition %q parsed; want an error", cond)
		}
	}
}

func TestSigmaValues(t *testing.T) {
	e := event(t, map[string]any{"eventTime": "2024-05-01T10:00:00Z", "eventSource": "iam.amazonaws.com",
		"eventName": "CreateAccessKey", "sourceIPAddress": "10.9.8.7", "userAgent": `Boto3/1.2 C:\tools\x*y`,
		"requestParameters": map[string]any{"userName": "Admin"},
		"userIdentity":      map[string]any{"userName": "admin", "arn": "arn:aws:iam::111122223333:user/Admin"}})
	tests := []struct {
		key, value string
		want       bool
	}{
		{"eventName", "createaccesskey", true}, // case-insensitive by default
		{"eventName|cased", "createaccesskey", false},
		{"eventName", "Create*Key", true},
		{"eventName", "Create?ccessKey", true},
		{"eventName", "Create?Key", false},
		{"eventName|contains", "access", true},
		{"eventName|startswith", "create", true},
		{"eventName|endswith", "Create", false},
		{"eventName|contains|all", "[Create, Key]", true},
		{"eventName|contains|all", "[Create, User]", false},
		{"eventName|contains", "[User, Key]", true}, // list values are or
		{"eventName|re", "^Create[A-Z]", true},
		{"eventName|re", "^create", false}, // regexes are case-sensitive
		{"eventName|re|i", "^create", true},
		{"sourceIPAddress|cidr", "10.0.0.0/8", true},
		{"sourceIPAddress|cidr", "[192.168.0.0/16, 172.16.0.0/12]", false},
		{"errorCode|exists", "false", true},
		{"requestParameters.userName|exists", "true", true},
		{"errorCode", "null", true},
		{"eventName", "null", false},
		{"userAgent|endswith", `\x\*y`, true},    // \* is a literal star
		{"userAgent|contains", `C:\tools`, true}, // other backslashes are literal
		{"requestParameters.userName", "admin", true},
		{"requestParameters.userName|fieldref", "userIdentity.userName", true}, // a user managing themselves
		{"requestParameters.userName|fieldref|cased", "userIdentity.userName", false},
		{"userIdentity.arn|fieldref|endswith", "requestParameters.userName", true},
		{"userIdentity.arn|fieldref", "requestParameters.userName", false},
		{"eventName|fieldref", "[eventSource, sourceIPAddress]", false},
		{"eventName|fieldref", "requestParameters.absent", false},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			src := "title: t\nid: x\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    " + tt.key + ": " + yamlValue(tt.value) + "\n  condition: sel\n"
			r, err := ParseSigma("t.yml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.match.eval(newRecord(e)); got != tt.want {
				t.Errorf("%s: %s = %v, want %v", tt.key, tt.value, got, tt.want)
			}
		})
	}
}

// TestSigmaPatternRunes: runes that once fooled the matchers.
func TestSigmaPatternRunes(t *testing.T) {
	tests := []struct {
		name, value, op, subject string
		want                     bool
	}{
		// Wildcards were private-use runes, so text could stand for one.
		{"a private-use rune in a record is text", "*x*a", "", "\uE000yxza", true},
		{"a private-use rune in a rule is text", "a\uE000b", "", "axxb", false},
		{"a private-use rune in a rule matches itself", "a\uE000b", "", "a\uE000b", true},
		// Equality folded case with strings.EqualFold, the other shapes with
		// strings.ToLower, and the two differ on a few runes.
		{"equality folds as a prefix does: not ſ to s", "S", "", "ſ", false},
		{"... as the prefix", "S", "startswith", "ſ", false},
		{"equality folds as a prefix does: İ to i", "I", "", "İ", true},
		{"... as the prefix", "I", "startswith", "İ", true},
		{"equality of longer text", "CreateAccessKey", "", "createACCESSkey", true},
		{"equality wants the whole text", "CreateAccessKey", "", "CreateAccessKeys", false},
		{"equality wants the whole pattern", "CreateAccessKeys", "", "CreateAccessKey", false},
		{"equality folds past ASCII", "Straße-Ä", "", "STRAßE-ä", true},
		{"equality folds the Kelvin sign to k", "Key", "", "\u212Aey", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sigmaPattern(tt.value, tt.op, true).match([]string{tt.subject}, true); got != tt.want {
				t.Errorf("%q %s on %q = %v, want %v", tt.value, tt.op, tt.subject, got, tt.want)
			}
		})
	}
}

// yamlValue quotes single values so backslashes and stars stay as written.
func yamlValue(v string) string {
	if strings.HasPrefix(v, "[") || v == "null" || v == "true" || v == "false" {
		return v
	}
	return "'" + v + "'"
}

func TestSigmaSkipsNameTheFeature(t *testing.T) {
	head := "title: t\nid: r1\n"
	aws := "logsource: {product: aws, service: cloudtrail}\n"
	tests := []struct{ name, src, feature string }{
		{"other logsource", head + "logsource: {product: windows, category: process_creation}\ndetection: {sel: {Image: x}, condition: sel}\n", "logsource"},
		{"unsupported modifier", head + aws + "detection:\n  sel: {eventName|base64: x}\n  condition: sel\n", "modifier |base64"},
		{"keyword search", head + aws + "detection:\n  kw: [evil, bad]\n  condition: kw\n", "keyword search"},
		{"aggregation", head + aws + "detection:\n  sel: {eventName: x}\n  condition: sel | count() > 5\n", "aggregation"},
		{"timeframe", head + aws + "detection:\n  sel: {eventName: x}\n  timeframe: 1h\n  condition: sel\n", "timeframe"},
		{"multi-document", head + aws + "detection: {sel: {eventName: x}, condition: sel}\n---\ndetection: {sel: {eventName: y}}\n", "multi-document"},
		{"bad regex", head + aws + "detection:\n  sel: {eventName|re: '('}\n  condition: sel\n", "regex"},
		{"unknown selection", head + aws + "detection:\n  sel: {eventName: x}\n  condition: other\n", "unknown selection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSigma("r.yml", []byte(tt.src))
			var skip *SigmaSkip
			if !errors.As(err, &skip) || skip.Rule != "r1" || !strings.Contains(skip.Feature, tt.feature) {
				t.Errorf("error = %v, want a skip of r1 naming %q", err, tt.feature)
			}
		})
	}
}

// sigmaStopLogging is our own rule in SigmaHQ's shape.
const sigmaStopLogging = `title: Trail stopped or deleted
id: 0e0b1c0c-6a52-4b38-9d39-kw0000000001
status: test
description: Someone turned CloudTrail off.
tags:
    - attack.defense-evasion
    - attack.t1562.008
logsource:
    product: aws
    service: cloudtrail
detection:
    selection_source:
        eventSource: cloudtrail.amazonaws.com
    selection_name:
        eventName:
            - StopLogging
            - DeleteTrail
    filter_failed:
        errorCode|exists: true
    condition: all of selection_* and not 1 of filter_*
level: high
`

func TestSigmaRuleFiresOnStratusCorpus(t *testing.T) {
	dir := awstest.CorpusPath(t, "cloudtrail/stratus-detonation-logs")
	ruleDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ruleDir, "stop.yml"), []byte(sigmaStopLogging), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := Load(ruleDir, func(err error) { t.Errorf("unexpected skip: %v", err) })
	if err != nil || len(rules) != 1 {
		t.Fatalf("load: %v, %d rules", err, len(rules))
	}
	if r := rules[0]; r.ID != "SIGMA-0e0b1c0c-6a52-4b38-9d39-kw0000000001" || r.Technique != "T1562.008" || r.Severity.String() != "high" {
		t.Errorf("rule = %s %s %s", r.ID, r.Technique, r.Severity)
	}
	d := NewDetector(rules, nil)
	hits := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		err := cloudtrail.ReadFile(context.Background(), f, cloudtrail.Options{}, func(e cloudtrail.Event) error {
			alerts, err := d.Observe(context.Background(), &e)
			hits[filepath.Base(f)] += len(alerts)
			return err
		})
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
	}
	for f, n := range hits {
		want := f == "aws.defense-evasion.cloudtrail-stop.json" || f == "aws.defense-evasion.cloudtrail-delete.json"
		if (n > 0) != want {
			t.Errorf("%s: %d alerts, want alerts only on the stop and delete detonations", f, n)
		}
	}
	if hits["aws.defense-evasion.cloudtrail-stop.json"] == 0 {
		t.Error("no alert on the StopLogging detonation")
	}
}

// TestSigmaHQCatalogue measures how much of SigmaHQ's AWS CloudTrail
// catalogue loads. Their files are not committed: point
// KEYWARDEN_SIGMA_DIR at rules/cloud/aws/cloudtrail of a checkout.
func TestSigmaHQCatalogue(t *testing.T) {
	dir := os.Getenv("KEYWARDEN_SIGMA_DIR")
	if dir == "" {
		t.Skip("KEYWARDEN_SIGMA_DIR not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	loaded, features := 0, map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSigma(filepath.Base(f), data); err != nil {
			feature := err.Error()
			if i := strings.Index(feature, "skipped: "); i >= 0 {
				feature = feature[i+len("skipped: "):]
			}
			features[feature]++
			t.Logf("%v", err)
			continue
		}
		loaded++
	}
	var fs []string
	for k, n := range features {
		fs = append(fs, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(fs)
	t.Logf("loaded %d of %d rules; skipped: %v", loaded, len(files), fs)
}
