package respond

import "testing"

// BenchmarkReviewInvictus runs the whole review over the invictus-ir
// simulation (2,900 records in the shared corpus, 276 in the small one).
func BenchmarkReviewInvictus(b *testing.B) {
	events := invictus(b)
	b.ResetTimer()
	for b.Loop() {
		Summarize(events)
		RedFlags(events)
		Created(events)
		if len(events) > 0 {
			Follow(events[0].UserIdentity.AccessKeyID, events)
		}
	}
	b.ReportMetric(float64(len(events)), "events/op")
}

func TestRedFlagsOnInvictusCountsByRule(t *testing.T) {
	counts := map[string]int{}
	for _, f := range RedFlags(invictus(t)) {
		counts[f.Rule]++
	}
	// The simulation creates users, attaches AdministratorAccess to a role,
	// deletes a trail and probes with many denied calls.
	for _, r := range []string{"KW-CT-IAM-CREATE-USER", "KW-CT-EVASION", "KW-CT-IAM-ADMIN-ATTACHED"} {
		if counts[r] == 0 {
			t.Errorf("%s did not fire on the invictus simulation: %v", r, counts)
		}
	}
	t.Logf("invictus flags: %v", counts)
}
