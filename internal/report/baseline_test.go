package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadBaselineReadsEveryReportFormat(t *testing.T) {
	want := map[string]bool{}
	for _, f := range fixture() {
		want[f.Fingerprint] = true
	}
	for _, format := range []string{"json", "jsonl", "sarif"} {
		t.Run(format, func(t *testing.T) {
			got, err := ReadBaseline(bytes.NewReader(render(t, format, fixture(), Options{})))
			if err != nil {
				t.Fatalf("ReadBaseline: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fingerprints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadBaselineAcceptsEmptyReports(t *testing.T) {
	for _, in := range []string{"[]\n", "  []", string(render(t, "sarif", nil, Options{}))} {
		got, err := ReadBaseline(strings.NewReader(in))
		if err != nil || len(got) != 0 {
			t.Errorf("ReadBaseline(%.20q) = %v, %v; want empty, nil", in, got, err)
		}
	}
}

func TestReadBaselineRejectsWhatIsNotAReport(t *testing.T) {
	tests := map[string]string{
		"empty file":            "",
		"only spaces":           " \n\t",
		"text report":           "deploy/prod.env\n  3:15  critical\n",
		"csv report":            "rule,severity\n",
		"truncated json":        `[{"fingerprint":"ab"`,
		"array of numbers":      "[1,2]",
		"objects without print": `[{"rule":"x"}]`,
		"jsonl with a bad line": "{\"fingerprint\":\"ab\"}\nnot json\n",
		"jsonl without print":   "{\"fingerprint\":\"ab\"}\n{\"rule\":\"x\"}\n",
		"sarif then garbage":    `{"version":"2.1.0","runs":[]} {"x":1}`,
		"binary":                "\x00\x01\x02",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ReadBaseline(strings.NewReader(in))
			if err == nil {
				t.Fatalf("ReadBaseline = %v, nil; want an error", got)
			}
			if strings.Contains(err.Error(), "read baseline") {
				t.Errorf("error %q says what was being read: its caller does, with the file", err)
			}
		})
	}
}

func FuzzReadBaseline(f *testing.F) {
	f.Add([]byte(`[{"fingerprint":"ab"}]`))
	f.Add([]byte("{\"fingerprint\":\"ab\"}\n{\"fingerprint\":\"cd\"}\n"))
	f.Add([]byte(`{"version":"2.1.0","runs":[{"results":[{"partialFingerprints":{"keywarden/v1":"ab"}}]}]}`))
	f.Add([]byte("\xef\xbb\xbf[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ReadBaseline(bytes.NewReader(data))
		if err != nil && got != nil {
			t.Errorf("returned fingerprints with an error")
		}
		for fp := range got {
			if fp == "" {
				t.Errorf("empty fingerprint accepted")
			}
		}
	})
}
