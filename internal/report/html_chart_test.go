package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
)

// agedKey is a key of the chart fixture: its age in days (-1: creation date
// unknown) and status.
type agedKey struct {
	days   int
	status audit.KeyStatus
}

// agedInventory gives each key its own user, so the account has exactly
// these keys and nothing else.
func agedInventory(keys []agedKey) audit.Inventory {
	inv := audit.Inventory{AccountID: "123456789012", ReportGeneratedAt: auditAsOf}
	for i, k := range keys {
		created := audit.Date{}
		if k.days >= 0 {
			created = daysAgo(k.days)
		}
		name := fmt.Sprintf("user%04d", i)
		inv.Users = append(inv.Users, audit.User{
			Name: name, ARN: "arn:aws:iam::123456789012:user/" + name, Created: daysAgo(2500),
			Password: audit.No, MFA: audit.No, Admin: audit.No,
			Keys: []audit.Key{{Slot: 1, ID: awstest.FakeKeyID(name, 123456789012), Status: k.status,
				Created: created, LastUsed: daysAgo(1), LastUsedService: "s3", LastUsedRegion: "eu-west-1"}},
		})
	}
	return inv
}

// chartCounts reads the count labels of the SVG bars and the fallback
// table's cells: bucket -> status -> count.
func chartCounts(t *testing.T, page []byte) (svg, table map[string]map[string]string) {
	t.Helper()
	doc := parseHTML(t, page)
	svg, table = map[string]map[string]string{}, map[string]map[string]string{}
	for _, g := range findAll(doc, withClass("g", "bucket")) {
		bucket, _ := attrOf(g, "data-bucket")
		svg[bucket] = map[string]string{}
		for _, bar := range findAll(g, withClass("g", "bar")) {
			status, _ := attrOf(bar, "data-status")
			labels := findAll(bar, withClass("text", "count"))
			if len(labels) != 1 {
				t.Fatalf("bar %s/%s has %d count labels, want 1", bucket, status, len(labels))
			}
			svg[bucket][status] = textOf(labels[0])
		}
	}
	for _, tr := range findAll(byID(t, doc, "age-table"), isTag("tr")) {
		bucket, ok := attrOf(tr, "data-bucket")
		if !ok {
			continue
		}
		table[bucket] = map[string]string{}
		for _, td := range findAll(tr, isTag("td")) {
			if status, ok := attrOf(td, "data-status"); ok {
				table[bucket][status] = textOf(td)
			}
		}
	}
	return svg, table
}

func TestAuditHTMLChartCountsKeysByAgeBucket(t *testing.T) {
	tests := []struct {
		name string
		keys []agedKey
		want map[string]map[string]string
	}{
		{
			name: "bucket edges and both statuses",
			keys: []agedKey{
				{0, audit.KeyActive}, {30, audit.KeyActive}, {31, audit.KeyActive}, {90, audit.KeyActive},
				{91, audit.KeyActive}, {365, audit.KeyActive}, {366, audit.KeyActive}, {2000, audit.KeyActive},
				{-1, audit.KeyActive}, {31, audit.KeyInactive}, {180, audit.KeyInactive}, {181, audit.KeyInactive},
				{-1, audit.KeyInactive}, {-1, audit.KeyInactive},
			},
			want: map[string]map[string]string{
				"0-30":     {"active": "2", "inactive": "0"},
				"31-90":    {"active": "2", "inactive": "1"},
				"91-180":   {"active": "1", "inactive": "1"},
				"181-365":  {"active": "1", "inactive": "1"},
				"over-365": {"active": "2", "inactive": "0"},
				"unknown":  {"active": "1", "inactive": "2"},
			},
		},
		{
			name: "keys of unknown status get their own bars",
			keys: []agedKey{{10, audit.KeyStatusUnknown}, {10, audit.KeyActive}, {400, audit.KeyStatusUnknown}},
			want: map[string]map[string]string{
				"0-30":     {"active": "1", "inactive": "0", "unknown": "1"},
				"31-90":    {"active": "0", "inactive": "0", "unknown": "0"},
				"91-180":   {"active": "0", "inactive": "0", "unknown": "0"},
				"181-365":  {"active": "0", "inactive": "0", "unknown": "0"},
				"over-365": {"active": "0", "inactive": "0", "unknown": "1"},
				"unknown":  {"active": "0", "inactive": "0", "unknown": "0"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := renderAuditHTML(t, auditHTMLOf([]audit.Inventory{agedInventory(tc.keys)}, auditAsOf))
			svg, table := chartCounts(t, page)
			if diff := cmp.Diff(tc.want, svg); diff != "" {
				t.Errorf("SVG bar labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, table); diff != "" {
				t.Errorf("chart data table (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAgeChartScalesBarsToTheLargestCount(t *testing.T) {
	keys := []agedKey{{1, audit.KeyActive}, {1, audit.KeyActive}, {1, audit.KeyActive}, {1, audit.KeyActive}, {40, audit.KeyActive}}
	r := auditHTMLOf([]audit.Inventory{agedInventory(keys)}, auditAsOf)
	c := newAgeChart(r.Keys.Entries, auditAsOf)
	heights := map[string]int{}
	for _, g := range c.Groups {
		for _, b := range g.Bars {
			heights[g.ID+"/"+b.Series.ID] = b.H
			if b.Y+b.H != chartBaseline {
				t.Errorf("bar %s/%s does not stand on the baseline: y=%d h=%d", g.ID, b.Series.ID, b.Y, b.H)
			}
		}
	}
	full := chartBaseline - chartPlotTop
	if heights["0-30/active"] != full || heights["31-90/active"] != full/4 || heights["0-30/inactive"] != 0 {
		t.Errorf("bar heights = %v, want the 4-key bar %d high, the 1-key bar %d, empty bars 0", heights, full, full/4)
	}
	if !strings.Contains(c.Desc, "0–30 days: 4 active, 0 inactive") || !strings.HasPrefix(c.Desc, "5 access keys") {
		t.Errorf("chart description %q does not say the counts", c.Desc)
	}
}

func TestAgeChartIsAccessible(t *testing.T) {
	page := renderAuditHTML(t, auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf))
	doc := parseHTML(t, page)
	svgs := findAll(doc, isTag("svg"))
	if len(svgs) != 1 {
		t.Fatalf("page has %d charts, want 1", len(svgs))
	}
	svg := svgs[0]
	if role, _ := attrOf(svg, "role"); role != "img" {
		t.Errorf("chart role = %q, want img", role)
	}
	labelled, _ := attrOf(svg, "aria-labelledby")
	for _, id := range strings.Fields(labelled) {
		if el := byID(t, doc, id); el.Parent != svg {
			t.Errorf("aria-labelledby names %q, which is not the chart's own <title>/<desc>", id)
		}
	}
	desc := textOf(byID(t, doc, "age-desc"))
	if !strings.Contains(desc, "4 access keys") || !strings.Contains(desc, "> 365 days: 1 active, 0 inactive") {
		t.Errorf("chart <desc> = %q, want the counts in words", desc)
	}
}

// manyKeys is a large account: n keys of ages spread over 0–999 days, every
// tenth inactive and every 97th of unknown age.
func manyKeys(n int) []agedKey {
	keys := make([]agedKey, n)
	for i := range keys {
		keys[i] = agedKey{days: (i * 37) % 1000, status: audit.KeyActive}
		if i%10 == 0 {
			keys[i].status = audit.KeyInactive
		}
		if i%97 == 0 {
			keys[i].days = -1
		}
	}
	return keys
}

// BenchmarkWriteAuditHTML1500Keys reports the time and the size of the
// report of a 1,500-key account.
func BenchmarkWriteAuditHTML1500Keys(b *testing.B) {
	r := auditHTMLOf([]audit.Inventory{agedInventory(manyKeys(1500))}, auditAsOf)
	size := 0
	for b.Loop() {
		size = len(renderAuditHTML(b, r))
	}
	b.ReportMetric(float64(size), "bytes/report")
}
