package rotate

import (
	"time"
)

// plan prints what advancing r would do, changing nothing (--dry-run),
// after the checks a real run makes first, which passed.
func (rt *Rotator) plan(r *Rotation, passed []string) {
	rt.say("plan for %s in account %s (dry run: nothing is changed):", r.User, r.Account)
	for _, p := range passed {
		rt.say("  checked: %s", p)
	}
	if r.Step == StepRollingBack {
		rt.say("  1. finish rolling back rotation %s: restore %v, delete the new key %s", r.ID, r.delivered(), r.NewKeyID)
		return
	}
	steps := []Step{StepCreating, StepCreated, StepDelivered, StepVerified, StepDeactivated}
	from := 0
	for i, s := range steps {
		if s == r.Step {
			from = i
		}
	}
	for _, s := range steps[from:] {
		switch s {
		case StepCreating:
			rt.say("  1. create a new access key for %s and journal it before anything else", r.User)
		case StepCreated:
			for _, spec := range r.pending() {
				rt.say("  2. deliver it to %s", spec)
			}
		case StepDelivered:
			rt.say("  3. verify the new key with STS (waiting through IAM propagation)")
		case StepVerified:
			if r.OldKeyID == "" {
				rt.say("  4. (no old key to deactivate)")
			} else {
				rt.say("  4. deactivate the old key %s", r.OldKeyID)
			}
		case StepDeactivated:
			if r.OldKeyID == "" {
				continue
			}
			if r.Grace == 0 {
				rt.say("  5. delete the old key %s at once (--grace 0)", r.OldKeyID)
			} else {
				rt.say("  5. delete the old key %s after %s, unless it is used after deactivation", r.OldKeyID, days(time.Duration(r.Grace)))
			}
		}
	}
}
