package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func s3Objects(rw string, values ...string) EventSelector {
	s := mgmt(rw)
	s.DataResources = []DataResource{{Type: "AWS::S3::Object", Values: values}}
	return s
}

var (
	categoryData = FieldSelector{Field: "eventCategory", Equals: []string{"Data"}}
	typeObjects  = FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}
)

func TestCheckS3DataEvents(t *testing.T) {
	const (
		write = "KW-CT-S3-WRITE-EVENTS low root"
		read  = "KW-CT-S3-READ-EVENTS low root"
	)
	tests := []struct {
		name   string
		trails []Trail
		read   bool
		want   []string
	}{
		{"trails not read is unknown", nil, false, []string{write + " unknown", read + " unknown"}},
		{"no trail fails both", nil, true, []string{write, read}},
		{"default selectors log management events only", []Trail{goodTrail()}, true, []string{write, read}},
		{"classic all buckets, all events passes both", []Trail{trailWith(func(t *Trail) {
			t.EventSelectors = []EventSelector{s3Objects("All", "arn:aws:s3")}
		})}, true, []string{}},
		{"classic arn:aws:s3::: passes", []Trail{trailWith(func(t *Trail) {
			t.EventSelectors = []EventSelector{s3Objects("All", "arn:aws:s3:::")}
		})}, true, []string{}},
		{"single-region trail counts (its selectors name every bucket)", []Trail{trailWith(func(t *Trail) {
			t.MultiRegion = false
			t.EventSelectors = []EventSelector{s3Objects("All", "arn:aws:s3")}
		})}, true, []string{}},
		{"classic write only fails read", []Trail{trailWith(func(t *Trail) {
			t.EventSelectors = []EventSelector{s3Objects("WriteOnly", "arn:aws:s3")}
		})}, true, []string{read}},
		{"classic read only fails write", []Trail{trailWith(func(t *Trail) {
			t.EventSelectors = []EventSelector{s3Objects("ReadOnly", "arn:aws:s3:::")}
		})}, true, []string{write}},
		{"classic one bucket fails both", []Trail{trailWith(func(t *Trail) {
			t.EventSelectors = []EventSelector{s3Objects("All", "arn:aws:s3:::important-bucket/")}
		})}, true, []string{write, read}},
		{"classic lambda data events fail both", []Trail{trailWith(func(t *Trail) {
			t.EventSelectors = []EventSelector{{ReadWriteType: "All", DataResources: []DataResource{
				{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}}}}}
		})}, true, []string{write, read}},
		{"trail not logging fails", []Trail{trailWith(func(t *Trail) {
			t.Logging = No
			t.EventSelectors = []EventSelector{s3Objects("All", "arn:aws:s3")}
		})}, true, []string{write, read}},
		{"advanced data selector passes both", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryData, typeObjects)}
		})}, true, []string{}},
		{"advanced readOnly false passes write only", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryData, typeObjects, readOnlyFalse)}
		})}, true, []string{read}},
		{"advanced readOnly true passes read only", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(typeObjects, readOnlyTrue, categoryData)}
		})}, true, []string{write}},
		{"advanced selector on some buckets fails", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryData, typeObjects,
				FieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::important-bucket/"}})}
		})}, true, []string{write, read}},
		{"advanced selector narrowed by event name fails", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryData, typeObjects,
				FieldSelector{Field: "eventName", Equals: []string{"PutObject"}})}
		})}, true, []string{write, read}},
		{"advanced management selector fails", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryManagement)}
		})}, true, []string{write, read}},
		{"unknown selectors are unknown", []Trail{trailWith(func(t *Trail) { t.SelectorsKnown = false })}, true,
			[]string{write + " unknown", read + " unknown"}},
		{"unknown logging of a covering trail is unknown", []Trail{trailWith(func(t *Trail) {
			t.Logging = Unknown
			t.EventSelectors = []EventSelector{s3Objects("All", "arn:aws:s3")}
		})}, true, []string{write + " unknown", read + " unknown"}},
		{"one covering trail among others passes", []Trail{goodTrail(), trailWith(func(t *Trail) { t.SelectorsKnown = false }),
			trailWith(func(t *Trail) { t.EventSelectors = []EventSelector{s3Objects("All", "arn:aws:s3")} })}, true, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := account()
			inv.Trails, inv.TrailsRead = tt.trails, tt.read
			cfg := DefaultConfig(asOf)
			fs := append(checkS3WriteEvents(inv, cfg), checkS3ReadEvents(inv, cfg)...)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, summary(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if !strings.Contains(f.Remediation, "aws cloudtrail ") {
					t.Errorf("remediation %q: want an aws cloudtrail command", f.Remediation)
				}
				if tt.read && !strings.Contains(f.Remediation, "watch") {
					t.Errorf("remediation %q: want why watch needs it", f.Remediation)
				}
			}
		})
	}
}
