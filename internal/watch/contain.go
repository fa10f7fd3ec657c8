package watch

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/detect"
)

// ContainRules reads --respond specs (RULE=contain) into the rules whose
// alerts' keys are to be contained.
func ContainRules(specs []string) (map[string]bool, error) {
	rules := map[string]bool{}
	for _, r := range specs {
		rule, action, ok := strings.Cut(r, "=")
		if !ok || action != "contain" || rule == "" {
			return nil, fmt.Errorf("--respond %q: want RULE=contain", r)
		}
		rules[rule] = true
	}
	return rules, nil
}

// Contain contains an access key as `keywarden respond --apply` does
// (deactivate it, revoke its sessions) and returns the incident id.
type Contain func(ctx context.Context, keyID string) (incident string, err error)

// ContainOn sets the --respond hook (ContainOnAlert) of a pipeline that
// NewPipeline built. Each rule must be one its detectors raise, built-in or
// loaded from Config.Rules: a typo would turn containment off unseen.
func (p *Pipeline) ContainOn(rules map[string]bool, contain Contain, out io.Writer) error {
	for _, r := range slices.Sorted(maps.Keys(rules)) {
		if !p.rules[r] {
			return fmt.Errorf("--respond %q: unknown rule %s (the built-in rules are in 'keywarden watch --list-rules'; --rules and --sigma add theirs)", r+"=contain", r)
		}
	}
	p.OnAlert = ContainOnAlert(rules, contain, out)
	return nil
}

// ContainOnAlert is the --respond hook (Pipeline.OnAlert): an alert of one
// of rules that names a long-term key (AKIA…) has that key contained, once
// a run, and the incident said on out.
func ContainOnAlert(rules map[string]bool, contain Contain, out io.Writer) func(context.Context, detect.Alert) error {
	contained := map[string]bool{}
	return func(ctx context.Context, a detect.Alert) error {
		if !rules[a.Rule] || !strings.HasPrefix(a.AccessKeyID, "AKIA") || contained[a.AccessKeyID] {
			return nil
		}
		contained[a.AccessKeyID] = true
		incident, err := contain(ctx, a.AccessKeyID)
		if err != nil {
			return fmt.Errorf("--respond %s=contain %s: %w", a.Rule, a.AccessKeyID, err)
		}
		fmt.Fprintf(out, "contained %s after %s: incident %s (undo: keywarden respond undo %s)\n", a.AccessKeyID, a.Rule, incident, incident)
		return nil
	}
}
