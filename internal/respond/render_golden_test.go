package respond

import (
	"bytes"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/state"
)

// AWS's documentation examples: safe to land in golden files.
const (
	exampleKeyID     = "AKIAIOSFODNN7EXAMPLE"
	exampleMintedKey = "ASIAIOSFODNN7EXAMPLE"
	exampleNewKeyID  = "AKIAI44QH8DHBEXAMPLE"
)

// goldenReport fills every field of a report, so a change to any JSON name,
// or to the types embedded in it, shows in the golden files.
func goldenReport() *Report {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	return &Report{Incident: "inc-golden", KeyID: exampleKeyID, AccountID: "123456789012", Applied: true,
		Owner: &KeyOwner{User: "deploy", Account: "123456789012", Status: "Active", Created: at.Add(-48 * time.Hour),
			LastUsed: at.Add(-time.Hour), LastUsedService: "s3", LastUsedRegion: "eu-west-1"},
		Rights: &Rights{Admin: false, Dangerous: []string{"iam:CreateUser", "iam:PassRole"}, Groups: []string{"ops"},
			Boundary:       "arn:aws:iam::123456789012:policy/Boundary",
			AssumableRoles: []string{"arn:aws:iam::123456789012:role/deploy"},
			Unknown:        []string{"arn:aws:iam::123456789012:policy/Hidden (iam:GetPolicy: access denied)"}},
		Actions: []Action{
			{Kind: DeactivateKey, User: "deploy", KeyID: exampleKeyID, Applied: true, At: at},
			{Kind: RevokeSessions, User: "deploy", Before: at, Applied: true, At: at.Add(time.Second)},
			{Kind: Quarantine, User: "deploy", Applied: true, At: at.Add(2 * time.Second)},
			{Kind: DisableConsole, User: "deploy", At: at.Add(3 * time.Second), Skipped: "the user has no console password"},
		},
		Replacement: exampleNewKeyID,
		Review:      goldenReview(at),
		Journal: []state.Entry{{At: at, Step: "planned", Message: "containment planned for " + exampleKeyID},
			{At: at, Step: "deactivate-key", Message: "deactivated key " + exampleKeyID + " of deploy"}},
		Warnings: []string{"not read: " + hiddenGap.String(), "not read: " + regionGap.String()},
		Steps: []Step{{Name: "identify", Status: StepDone, Detail: "user deploy of account 123456789012; the key is Active"},
			{Name: "assess", Status: StepIncomplete, Detail: "the rights found are a lower bound: 1 policy source not read"},
			{Name: "contain", Status: StepDone, Detail: "3 changes made, 1 not needed; 'keywarden respond undo inc-golden' reverses them"},
			{Name: "review", Status: StepIncomplete, Detail: "3 events in what was read (LookupEvents in us-east-1); not read: " + gapList([]gap.Gap{regionGap})},
			{Name: "replace", Status: StepDone, Detail: "new key " + exampleNewKeyID + " delivered to envfile:app.env; " + exampleKeyID + " stays inactive 30 days"}},
		Incomplete:  []gap.Gap{hiddenGap, regionGap},
		GeneratedAt: at,
	}
}

// The gaps of the golden reports: a policy and a region not read.
var (
	hiddenGap = gap.Gap{Source: "arn:aws:iam::123456789012:policy/Hidden", Reason: "iam:GetPolicy: access denied"}
	regionGap = gap.Gap{Source: "LookupEvents in eu-west-1", Reason: "AccessDeniedException: User is not authorized to perform: cloudtrail:LookupEvents"}
)

// stoppedReport is an --apply whose second change failed, and whose review
// could read nothing: the report must say what was made, what failed, what
// was not tried, and must not claim the key was idle.
func stoppedReport() *Report {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	logGap := gap.Gap{Source: "logs/trail.json.gz", Reason: "truncated after 2 records: unexpected EOF"}
	return &Report{Incident: "inc-stopped", KeyID: exampleKeyID, AccountID: "123456789012",
		Owner:  &KeyOwner{User: "deploy", Account: "123456789012", Status: "Active", Created: at.Add(-48 * time.Hour)},
		Rights: &Rights{},
		Actions: []Action{{Kind: DeactivateKey, User: "deploy", KeyID: exampleKeyID, Applied: true, At: at},
			{Kind: RevokeSessions, User: "deploy", Before: at, InDoubt: true, Error: "iam:PutUserPolicy on user deploy: access denied"},
			{Kind: Quarantine, User: "deploy"}},
		Review: &Review{Since: at.Add(-24 * time.Hour), Read: []string{}, Incomplete: []gap.Gap{regionGap, logGap},
			Minted: []MintedKey{}, Summary: Summary{Services: []Count{}}, Flags: []Flag{}, Created: []CreatedResource{}, Timeline: []TimelineEntry{}},
		Journal: []state.Entry{{At: at, Step: "planned", Message: "containment planned for " + exampleKeyID},
			{At: at, Step: "failed", Message: "revoke-sessions of deploy failed (it may have been made: undo reverses it): iam:PutUserPolicy on user deploy: access denied"}},
		Warnings: []string{"not read: " + regionGap.String(), "not read: " + logGap.String()},
		Steps: []Step{{Name: "identify", Status: StepDone, Detail: "user deploy of account 123456789012; the key is Active"},
			{Name: "assess", Status: StepDone, Detail: "not administrator; no dangerous right"},
			{Name: "contain", Status: StepFailed, Detail: "revoke-sessions failed: iam:PutUserPolicy on user deploy: access denied; made: deactivate-key; " +
				"not tried: quarantine; 'keywarden respond undo inc-stopped' reverses what was made"}},
		Incomplete:  []gap.Gap{regionGap, logGap},
		GeneratedAt: at}
}

func goldenReview(at time.Time) *Review {
	first, last := at.Add(-3*time.Hour), at.Add(-time.Hour)
	minted := MintedKey{KeyID: exampleMintedKey, Parent: exampleKeyID, By: "GetSessionToken", At: first.Add(time.Minute),
		Expiration: first.Add(13 * time.Hour), Event: "ev-2"}
	rv := &Review{Since: at.Add(-24 * time.Hour), Read: []string{"LookupEvents in us-east-1"}, Incomplete: []gap.Gap{regionGap},
		Events: 3, Minted: []MintedKey{minted},
		Summary: Summary{Events: 3, First: first, Last: last, Errors: 1,
			Services: []Count{{"iam.amazonaws.com", 2}, {"sts.amazonaws.com", 1}}, Actions: []Count{{"CreateUser", 1}},
			Regions: []Count{{"us-east-1", 3}}, SourceIPs: []Count{{"203.0.113.7", 3}}, UserAgents: []Count{{"aws-cli/2", 3}},
			ErrorCodes: []Count{{"AccessDenied", 1}}, Keys: []Count{{exampleKeyID, 2}, {exampleMintedKey, 1}}},
		Flags: []Flag{{Rule: "KW-CT-IAM-USER-CREATED", Severity: severity.High, Title: "IAM user created", Technique: "T1136.003",
			Event:  FlagEvent{ID: "ev-3", At: last, Name: "CreateUser", Source: "iam.amazonaws.com", Key: exampleMintedKey},
			Detail: "user backdoor"}},
		Created: []CreatedResource{{Kind: "iam-user", ID: "backdoor", ARN: "arn:aws:iam::123456789012:user/backdoor",
			Region: "us-east-1", Event: "ev-3", Call: "CreateUser", At: last, By: exampleMintedKey,
			Cleanup: []string{"aws iam delete-user --user-name backdoor"}, Note: "delete its keys first", Owner: "iam-user/backdoor"}},
	}
	rv.Timeline = timeline(rv)
	return rv
}

// planReport is a plan (nothing applied) for a never-used key whose owner
// holds nothing: the empty lists and zero times of every embedded type.
func planReport() *Report {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	return &Report{KeyID: exampleKeyID, AccountID: "123456789012",
		Owner:  &KeyOwner{User: "idle", Account: "123456789012", Status: "Inactive", Created: at.Add(-time.Hour)},
		Rights: &Rights{},
		Actions: []Action{{Kind: DeactivateKey, User: "idle", KeyID: exampleKeyID, Skipped: "the key is already inactive"},
			{Kind: RevokeSessions, User: "idle", Before: at}},
		Journal: []state.Entry{}, Warnings: []string{},
		Steps: []Step{{Name: "identify", Status: StepDone, Detail: "user idle of account 123456789012; the key is Inactive"},
			{Name: "assess", Status: StepDone, Detail: "not administrator; no dangerous right"},
			{Name: "contain", Status: StepPlanned, Detail: "1 change planned, nothing changed: run again with --apply"},
			{Name: "review", Status: StepSkipped, Detail: "no source (--no-lookup without --logs)"}},
		Incomplete: []gap.Gap{}, GeneratedAt: at}
}

// TestRenderGolden pins every format's bytes: respond's JSON is a contract.
func TestRenderGolden(t *testing.T) {
	for name, rep := range map[string]*Report{"report": goldenReport(), "plan": planReport(), "stopped": stoppedReport()} {
		for _, format := range []string{"json", "markdown", "html"} {
			t.Run(name+"."+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Render(&buf, format, rep); err != nil {
					t.Fatal(err)
				}
				awstest.Golden(t, name+"."+format+".golden", buf.Bytes())
			})
		}
	}
}
