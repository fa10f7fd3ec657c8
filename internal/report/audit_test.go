package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
)

var auditAsOf = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(n int) audit.Date { return audit.At(auditAsOf.Add(-time.Duration(n) * 24 * time.Hour)) }

// auditInventory is a small account with something for most checks: a root
// key (known only by its report slot) and no root MFA, an administrator
// without MFA, a user with dangerous rights and a never-used key, a new user.
func auditInventory() audit.Inventory {
	arn := func(name string) string { return "arn:aws:iam::123456789012:user/" + name }
	return kept(audit.Inventory{
		AccountID: "123456789012", ReportGeneratedAt: auditAsOf.Add(-2 * time.Hour),
		Root: &audit.Root{ARN: "arn:aws:iam::123456789012:root", Created: daysAgo(2000), MFA: audit.No,
			Keys: []audit.Key{{Slot: 1, Status: audit.KeyActive, Created: daysAgo(1500), LastUsed: audit.Never()}}},
		Users: []audit.User{
			{Name: "alice", ARN: arn("alice"), Created: daysAgo(400), Password: audit.Yes, MFA: audit.No, Admin: audit.Yes, DetailsRead: true,
				Keys: []audit.Key{{Slot: 1, ID: exampleKeyID, Status: audit.KeyActive, Created: daysAgo(143),
					LastUsed: daysAgo(1), LastUsedService: "s3", LastUsedRegion: "eu-west-1"}}},
			{Name: "bob", ARN: arn("bob"), Created: daysAgo(300), Password: audit.No, MFA: audit.Yes, Admin: audit.No, DetailsRead: true,
				Dangerous: []string{"iam:PassRole", "iam:CreateAccessKey"},
				Keys: []audit.Key{
					{Slot: 1, ID: exampleOtherKeyID, Status: audit.KeyActive, Created: daysAgo(60), LastUsed: audit.Never()},
					{Slot: 2, Status: audit.KeyInactive, Created: daysAgo(200), LastUsed: daysAgo(150), LastUsedService: "ec2", LastUsedRegion: "us-east-1"},
				}},
			{Name: "carol", ARN: arn("carol"), Created: daysAgo(5), Password: audit.No, MFA: audit.No, Admin: audit.No, DetailsRead: true},
		},
		// A logging multi-region trail (S3 data events too), no roles, no instances: nothing to report.
		Trails: []audit.Trail{{Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", HomeRegion: "us-east-1",
			MultiRegion: true, Logging: audit.Yes, SelectorsKnown: true,
			LogFileValidation: true, KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/trail",
			LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:trail:*",
			EventSelectors: []audit.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
				DataResources: []audit.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}}}},
		TrailsRead: true, RolesRead: true, InstancesRead: true, CustomerPoliciesRead: true, GroupsRead: true, PasswordPolicyRead: true, RootVirtualMFA: audit.No, ServerCertsRead: true,
		SupportRoles: []string{"support"}, SupportRolesRead: true,
		PasswordPolicy: &audit.PasswordPolicy{MinimumLength: 14, RequireUppercase: true, RequireLowercase: true, RequireSymbols: true, RequireNumbers: true, ReusePrevention: 24, MaxAgeDays: 90},
	})
}

func auditFindings() []audit.Finding {
	return audit.Run(auditInventory(), audit.DefaultConfig(auditAsOf))
}

func renderDoc(t *testing.T, format string, doc Document, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, doc, opts); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestAuditGoldenFiles(t *testing.T) {
	keys := KeysDocument([]audit.Inventory{auditInventory()}, auditFindings(), auditAsOf)
	tests := []struct {
		name   string
		format string
		doc    Document
		opts   Options
	}{
		{"audit.text", "text", AuditDocument(auditFindings()), Options{}},
		{"audit.text-color", "text", AuditDocument(auditFindings()), Options{Color: true}},
		{"audit.json", "json", AuditDocument(auditFindings()), Options{}},
		{"audit.jsonl", "jsonl", AuditDocument(auditFindings()), Options{}},
		{"audit.csv", "csv", AuditDocument(auditFindings()), Options{}},
		{"audit.sarif", "sarif", AuditDocument(auditFindings()), Options{Version: "1.2.3"}},
		{"audit-empty.text", "text", AuditDocument(nil), Options{}},
		{"audit-empty.json", "json", AuditDocument(nil), Options{}},
		{"keys.text", "text", keys, Options{}},
		{"keys.json", "json", keys, Options{}},
		{"keys.csv", "csv", keys, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awstest.Golden(t, tt.name+".golden", renderDoc(t, tt.format, tt.doc, tt.opts))
		})
	}
}

func TestAuditJSONIsDesignsFindingShape(t *testing.T) {
	out := renderDoc(t, "jsonl", AuditDocument(auditFindings()), Options{})
	first := strings.SplitN(string(out), "\n", 2)[0]
	dec := json.NewDecoder(strings.NewReader(first))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(AuditColumns, keys); diff != "" {
		t.Errorf("audit json field order differs from docs/formats.md (-want +got):\n%s", diff)
	}
	// Every line decodes back into the engine's Finding, evidence and controls included.
	var got []audit.Finding
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var f audit.Finding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("decode %s: %v", line, err)
		}
		got = append(got, f)
	}
	want := auditFindings()
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Check != want[i].Check || got[i].KeyID != want[i].KeyID || got[i].Severity != want[i].Severity ||
			got[i].Controls == nil || got[i].Evidence == nil || got[i].Remediation != want[i].Remediation {
			t.Errorf("finding %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestAuditSARIFIsValidWithLogicalLocations(t *testing.T) {
	schema := compileSARIFSchema(t)
	for name, fs := range map[string][]audit.Finding{"findings": auditFindings(), "none": nil} {
		out := renderDoc(t, "sarif", AuditDocument(fs), Options{Version: "1.2.3"})
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Errorf("%s: audit sarif is not valid SARIF 2.1.0: %v", name, err)
		}
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []sarifResult `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(renderDoc(t, "sarif", AuditDocument(auditFindings()), Options{}), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(audit.Checks()) {
		t.Errorf("got %d rules, want one per check (%d)", len(run.Tool.Driver.Rules), len(audit.Checks()))
	}
	for i, res := range run.Results {
		loc := res.Locations[0]
		if loc.PhysicalLocation != nil || len(loc.LogicalLocations) != 1 ||
			!strings.HasPrefix(loc.LogicalLocations[0].FullyQualifiedName, "arn:aws:iam::123456789012:") {
			t.Errorf("result %d (%s): location %+v, want one logical location naming the ARN", i, res.RuleID, loc)
		}
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleIndex %d does not point at %s", i, res.RuleIndex, res.RuleID)
		}
		if res.PartialFingerprints[FingerprintKey] == "" || res.Properties["remediation"] == nil {
			t.Errorf("result %d (%s) lacks a fingerprint or remediation", i, res.RuleID)
		}
	}
}

func TestAuditFingerprintIgnoresGrowingEvidence(t *testing.T) {
	later := audit.Run(auditInventory(), audit.DefaultConfig(auditAsOf.Add(30*24*time.Hour)))
	prints := func(fs []audit.Finding) map[string]bool {
		m := map[string]bool{}
		for _, e := range AuditDocument(fs).Entries {
			if e.RuleID == "KW-KEY-AGE" {
				m[e.Fingerprint] = true
			}
		}
		return m
	}
	now, then := prints(auditFindings()), prints(later)
	if len(now) == 0 || !cmp.Equal(now, then) {
		t.Errorf("KW-KEY-AGE fingerprints changed as the key aged: %v vs %v", now, then)
	}
}

func TestKeysListEveryKeyWithItsFindings(t *testing.T) {
	out := renderDoc(t, "csv", KeysDocument([]audit.Inventory{auditInventory()}, auditFindings(), auditAsOf), Options{})
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[col["user"]]+" "+r[col["key_id"]]+"#"+r[col["key_slot"]]+" age="+r[col["age_days"]]] = r[col["findings"]]
	}
	want := map[string]string{
		"<root_account> #1 age=1500":             "KW-ROOT-KEY",
		"alice " + exampleKeyID + "#1 age=143":   "KW-KEY-ADMIN;KW-KEY-AGE",
		"bob " + exampleOtherKeyID + "#1 age=60": "KW-KEY-DANGEROUS;KW-KEY-UNUSED",
		"bob #2 age=200":                         "KW-KEY-INACTIVE",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func TestKeysAgeIsJudgedAtAsOf(t *testing.T) {
	doc := KeysDocument([]audit.Inventory{auditInventory()}, nil, auditAsOf.Add(10*24*time.Hour))
	for _, e := range doc.Entries {
		if e.Details[1] == "alice" && e.Details[4] != "153d" {
			t.Errorf("alice's key age at as-of + 10 days = %s, want 153d", e.Details[4])
		}
	}
}

func TestAuditTextNeutralisesControlCharacters(t *testing.T) {
	inv := auditInventory()
	inv.Users[2].Name, inv.Users[2].ARN = "evil\x1b[2J", "arn:aws:iam::123456789012:user/evil\x1b[2J\n"
	out := renderDoc(t, "text", AuditDocument(audit.Run(inv, audit.DefaultConfig(auditAsOf))), Options{})
	if bytes.Contains(out, []byte("\x1b")) {
		t.Errorf("control characters from a user name reached the terminal: %q", out)
	}
}
