package audit

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// regionalUnknown is what the undecided findings of the regional checks
// say: check, what is unknown, and in which regions.
type regionalUnknown struct {
	Check, Unknown string
	Regions        any
}

func regionalUnknowns(fs []Finding) []regionalUnknown {
	out := []regionalUnknown{}
	for _, f := range fs {
		if f.Evidence["verdict"] != "unknown" {
			continue
		}
		out = append(out, regionalUnknown{f.Check, f.Evidence["unknown"].([]string)[0], f.Evidence["regions_not_read"]})
	}
	return out
}

func TestRegionalChecksNameTheRegionsNotRead(t *testing.T) {
	bare := Instance{ID: "i-1", Region: "us-east-1", State: "running"}
	tests := []struct {
		name  string
		setup func(*Inventory)
		want  []regionalUnknown
		fails int // KW-EC2-NO-PROFILE failures for the instances that were read
	}{
		{"every region read decides everything", func(inv *Inventory) {
			inv.Regions, inv.InstanceRegions = []string{"eu-west-1", "us-east-1"}, []string{"eu-west-1", "us-east-1"}
		}, []regionalUnknown{}, 1},
		{"a failed region leaves its instances and embedded keys unknown", func(inv *Inventory) {
			inv.Regions, inv.InstanceRegions = []string{"eu-west-1", "us-east-1"}, []string{"us-east-1"}
			inv.InstanceRegionsUnread = []string{"eu-west-1"}
			inv.EmbeddedUnread = []string{WhereLambdaEnv}
			inv.EmbeddedUnreadRegions = map[string][]string{WhereLambdaEnv: {"eu-west-1"}}
		}, []regionalUnknown{
			{"KW-EC2-NO-PROFILE", "ec2_instances", []string{"eu-west-1"}},
			{"KW-EMBEDDED-KEY", WhereLambdaEnv, []string{"eu-west-1"}},
		}, 1},
		{"regions not listed leave every other region unknown", func(inv *Inventory) {
			inv.Regions, inv.InstanceRegions, inv.RegionsIncomplete = []string{"us-east-1"}, []string{"us-east-1"}, true
		}, []regionalUnknown{
			{"KW-EC2-NO-PROFILE", "ec2_instances", []string{"every region other than us-east-1"}},
			{"KW-EMBEDDED-KEY", WhereLambdaEnv, []string{"every region other than us-east-1"}},
			{"KW-EMBEDDED-KEY", WhereEC2UserData, []string{"every region other than us-east-1"}},
			{"KW-EMBEDDED-KEY", WhereECSTaskEnv, []string{"every region other than us-east-1"}},
			{"KW-EMBEDDED-KEY", WhereSSMString, []string{"every region other than us-east-1"}},
		}, 1},
		{"no region's instances read is one unknown", func(inv *Inventory) {
			inv.Regions, inv.InstancesRead, inv.Instances = []string{"eu-west-1", "us-east-1"}, false, nil
			inv.InstanceRegionsUnread = []string{"eu-west-1", "us-east-1"}
		}, []regionalUnknown{{"KW-EC2-NO-PROFILE", "ec2_instances", []string{"eu-west-1", "us-east-1"}}}, 0},
		{"an inventory without regions judges as before", func(*Inventory) {}, []regionalUnknown{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := account()
			inv.Instances, inv.InstancesRead = []Instance{bare}, true
			tt.setup(&inv)
			fs := append(checkInstanceProfiles(inv, DefaultConfig(asOf)), checkEmbeddedKeys(inv, DefaultConfig(asOf))...)
			if diff := cmp.Diff(tt.want, regionalUnknowns(fs)); diff != "" {
				t.Errorf("undecided findings (-want +got):\n%s", diff)
			}
			fails := 0
			for _, f := range fs {
				if f.Check == "KW-EC2-NO-PROFILE" && f.Evidence["verdict"] == nil {
					fails++
				}
			}
			if fails != tt.fails {
				t.Errorf("KW-EC2-NO-PROFILE failures = %d, want %d", fails, tt.fails)
			}
		})
	}
}
