package scan

// MarkCanaries reports the findings whose key is one of the user's own
// canaries (keywarden canary) as such rather than as a leak: rule
// aws-canary-key at severity info, verified "canary" (never sent to STS:
// that would set off the canary), the message saying which canary and
// where it was planted. canaryOf answers "canary NAME, planted WHERE" for a
// registered key id.
func MarkCanaries(findings []Finding, canaryOf func(keyID string) (string, bool)) int {
	n := 0
	for i := range findings {
		f := &findings[i]
		if f.KeyID == "" || f.Rule == RuleExposedGit || f.Rule == RuleExposedFile {
			continue
		}
		what, ok := canaryOf(f.KeyID)
		if !ok {
			continue
		}
		f.Rule, f.Severity, f.Verified, f.Message = RuleCanary, RuleCanary.Severity(), VerifiedCanary, what
		n++
	}
	return n
}
