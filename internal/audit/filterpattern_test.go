package audit

import (
	"slices"
	"strings"
	"testing"
)

func TestParseFilterPatternIgnoresSpacingQuotingAndOrder(t *testing.T) {
	a := `{ ($.eventName = CreateTrail) || ($.eventName = "UpdateTrail") }`
	b := `{$.eventName="UpdateTrail"||$.eventName="CreateTrail"}`
	fa, err := parseFilterPattern(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := parseFilterPattern(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(uncovered(fa, fb)) != 0 || len(uncovered(fb, fa)) != 0 {
		t.Errorf("%s and %s should say the same: %v / %v", a, b, fa, fb)
	}
}

func TestParseFilterPatternDistributesAndOverOr(t *testing.T) {
	form, err := parseFilterPattern(`{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range form {
		got = append(got, c.String())
	}
	if len(got) != 2 {
		t.Fatalf("normal form %q, want two clauses", got)
	}
	root, err := parseFilterPattern(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`)
	if err != nil || len(root) != 1 || len(root[0]) != 3 || root[0][1].op != "NOT EXISTS" {
		t.Errorf("root pattern: %v, %v; want one clause of three terms with NOT EXISTS", root, err)
	}
}

func TestParseFilterPatternRefusesWhatIsNotAJSONPattern(t *testing.T) {
	for _, p := range []string{``, `ERROR`, `[ip, user, ...]`, `{ $.eventName = }`, `{ ($.eventName = A }`,
		`{ $.eventName = "A }`, `{ eventName = A }`, `{ $.a = 1 } extra`} {
		if form, err := parseFilterPattern(p); err == nil {
			t.Errorf("%q parsed as %v, want an error", p, form)
		}
	}
}

// TestUncoveredJudgesWhatAFilterMisses: a filter covers the required events
// when it matches each of them, more being allowed (fewer conditions, a
// wildcard); it misses an event left out or narrowed by an extra condition.
func TestUncoveredJudgesWhatAFilterMisses(t *testing.T) {
	required := mustForm(t, eventsOf("cloudtrail.amazonaws.com", "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"))
	for _, tt := range []struct {
		filter string
		missed int
	}{
		{`{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`, 0},
		{`{ ($.eventSource = "cloudtrail.amazonaws.com") && ($.eventName = StopLogging || $.eventName = StartLogging || $.eventName = DeleteTrail || $.eventName = UpdateTrail || $.eventName = CreateTrail) }`, 0},
		{`{ $.eventSource = cloudtrail.amazonaws.com }`, 0},
		{`{ $.eventName = *Trail || $.eventName = *Logging }`, 0},
		{`{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }`, 1},
		{`{ ($.eventName = CreateTrail || $.eventName = UpdateTrail || $.eventName = DeleteTrail || $.eventName = StartLogging || $.eventName = StopLogging) && $.userIdentity.type = Root }`, 5},
		{`{ $.eventName = * }`, 5},
		{`{ $.eventName = "createtrail" || $.eventName = UpdateTrail || $.eventName = DeleteTrail || $.eventName = StartLogging || $.eventName = StopLogging }`, 1},
	} {
		if got := uncovered(mustForm(t, tt.filter), required); len(got) != tt.missed {
			t.Errorf("%s misses %v, want %d clauses missed", tt.filter, got, tt.missed)
		}
	}
}

func mustForm(t *testing.T, pattern string) []clause {
	t.Helper()
	form, err := parseFilterPattern(pattern)
	if err != nil {
		t.Fatalf("%s: %v", pattern, err)
	}
	return form
}

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"Delete*", "DeleteTrail", true}, {"*Trail", "CreateTrail", true}, {"*Unauthorized*", "*UnauthorizedOperation", true},
		{"a*a", "a", false}, {"Create*", "DeleteTrail", false}, {"*Logging", "StopLoggingNow", false},
	} {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// FuzzParseFilterPattern: a pattern read from an account is untrusted; the
// parser never panics, and what it accepts has a bounded normal form that
// covers itself.
func FuzzParseFilterPattern(f *testing.F) {
	for _, m := range monitors {
		f.Add(m.pattern)
	}
	f.Add(`{ $.a = "x\"y" || ($.b NOT EXISTS && $.c IS TRUE) }`)
	f.Add(`{(((((($.a=1))))))}`)
	f.Fuzz(func(t *testing.T, pattern string) {
		form, err := parseFilterPattern(pattern)
		if err != nil {
			return
		}
		if len(form) > maxClauses {
			t.Fatalf("%d clauses", len(form))
		}
		nonEmpty := slices.ContainsFunc(form, func(c clause) bool { return len(c) > 0 })
		if missed := uncovered(form, form); nonEmpty && len(missed) != 0 && !wildcardOnly(form) {
			t.Errorf("%q does not cover itself: %v", pattern, missed)
		}
	})
}

// wildcardOnly says some term's value is only wildcards: such a term is not
// taken as covering anything, itself included.
func wildcardOnly(form []clause) bool {
	for _, c := range form {
		for _, t := range c {
			if strings.Contains(t.value, "*") && strings.Trim(t.value, "*") == "" {
				return true
			}
		}
	}
	return false
}
