package report

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSARIFSchema compiles the SARIF 2.1.0 schema kept in testdata.
func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return schema
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	schema := compileSARIFSchema(t)
	for name, findings := range map[string]int{"fixture": 1, "empty": 0} {
		fs := fixture()
		if findings == 0 {
			fs = nil
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(render(t, "sarif", fs, Options{Version: "1.2.3"})))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: sarif output is not valid SARIF 2.1.0: %v", name, err)
		}
	}
}

// TestSARIFMeetsGitHubRequirements checks what GitHub code scanning needs
// beyond the schema.
func TestSARIFMeetsGitHubRequirements(t *testing.T) {
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name           string `json:"name"`
					InformationURI string `json:"informationUri"`
					Rules          []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []sarifResult `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, "sarif", fixture(), Options{}), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || log.Schema == "" || len(log.Runs) != 1 {
		t.Fatalf("version %q schema %q runs %d", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "keywarden" || run.Tool.Driver.InformationURI == "" {
		t.Errorf("driver = %+v", run.Tool.Driver)
	}
	wantScore := map[string]string{"aws-access-key-pair": "9.5", "aws-session-credentials": "8.0", "aws-access-key-id": "5.5"}
	for _, r := range run.Tool.Driver.Rules {
		score, ok := r.Properties["security-severity"].(string)
		if !ok {
			t.Errorf("rule %s has no string security-severity", r.ID)
		}
		if want, ok := wantScore[r.ID]; ok && score != want {
			t.Errorf("rule %s security-severity = %q, want %q", r.ID, score, want)
		}
	}
	if len(run.Results) != len(fixture()) {
		t.Fatalf("got %d results, want %d", len(run.Results), len(fixture()))
	}
	for _, res := range run.Results {
		if rules := run.Tool.Driver.Rules; res.RuleIndex >= len(rules) || rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex %d does not point at its rule", res.RuleID, res.RuleIndex)
		}
		uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI
		if strings.Contains(uri, `\`) || strings.HasPrefix(uri, "/") {
			t.Errorf("uri %q is not a relative slash path", uri)
		}
		if reg := res.Locations[0].PhysicalLocation.Region; reg != nil && (reg.StartLine < 1 || reg.StartColumn < 1) {
			t.Errorf("region %+v not 1-based", reg)
		}
		if res.PartialFingerprints[FingerprintKey] == "" || res.Message.Text == "" {
			t.Errorf("result %s lacks fingerprint or message", res.RuleID)
		}
		if strings.HasPrefix(res.Message.Text, "AWS access key pair") && res.Properties["commit"] != nil &&
			!strings.Contains(res.Message.Text, "0123456789abcdef") {
			t.Errorf("git finding's message does not name the commit: %q", res.Message.Text)
		}
	}
}

func TestArtifactURI(t *testing.T) {
	tests := map[string]string{
		"deploy/prod.env":           "deploy/prod.env",
		"./a/b.txt":                 "a/b.txt",
		`dir\win.txt`:               "dir/win.txt",
		"with space/x#y.env":        "with%20space/x%23y.env",
		"/abs/path.env":             "file:///abs/path.env",
		"https://example.com/.git/": "https://example.com/.git/",
		"a.zip!inner/f.env":         "a.zip%21inner/f.env",
		"":                          "stdin",
	}
	for in, want := range tests {
		if got := artifactURI(in); got != want {
			t.Errorf("artifactURI(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSARIFNamesWhatWasNotRead: a scan with gaps is a run whose execution
// was not successful, each gap one error notification with its source and
// reason; the output is still valid SARIF.
func TestSARIFNamesWhatWasNotRead(t *testing.T) {
	gaps := []gap.Gap{{Source: "dist/app.tgz!etc/prod.env", Reason: "truncated: the input ends at byte 20000 (unexpected EOF)"},
		{Source: "secrets", Reason: "permission denied"}}
	var buf bytes.Buffer
	if err := WriteScan(&buf, "sarif", nil, gaps, Options{Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSARIFSchema(t).Validate(inst); err != nil {
		t.Errorf("sarif output with gaps is not valid SARIF 2.1.0: %v", err)
	}
	var log struct {
		Runs []struct {
			Results     []json.RawMessage `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
				Notes               []struct {
					Level      string `json:"level"`
					Message    struct{ Text string }
					Properties map[string]string `json:"properties"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	inv := log.Runs[0].Invocations
	if len(inv) != 1 || inv[0].ExecutionSuccessful || len(inv[0].Notes) != 2 {
		t.Fatalf("invocations = %+v, want one, not successful, with 2 notifications", inv)
	}
	n := inv[0].Notes[0]
	if n.Level != "error" || n.Message.Text != "not read: "+gaps[0].String() ||
		n.Properties["source"] != gaps[0].Source || n.Properties["reason"] != gaps[0].Reason {
		t.Errorf("notification = %+v", n)
	}
	if bytes.Contains(render(t, "sarif", nil, Options{}), []byte("invocations")) {
		t.Error("a run that read everything carries an invocation: goldens would change for nothing")
	}
}
