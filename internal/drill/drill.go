// Package drill runs an incident-response drill end to end with a harmless
// key of its own: it creates the key, leaks it into a scratch repository,
// detonates a scripted attacker sequence with it, waits for watch's alerts,
// contains it with respond, reviews what it did and removes everything,
// each step journaled before it acts and timed on an injected clock; and it
// writes the plan the drill tests (plan.go): the account's high-blast-radius
// keys, their owners, the respond command of each step, what is not covered.
package drill

import (
	"time"
)

// Kind is the state journal's record kind for drills.
const Kind = "drill"

// TagKey is the tag every drill user carries, its value the drill id.
const TagKey = "keywarden-drill"

// UserPrefix starts every drill user's name: keywarden-drill-<id>.
const UserPrefix = "keywarden-drill-"

// PolicyName is the drill user's inline policy.
const PolicyName = "keywarden-drill"

// Policy is the drill key's narrow, harmless rights: who am I, read-only
// listings and the SES send quota. Nothing it allows changes anything, so
// the persistence attempts of a detonation are denied.
const Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetCallerIdentity","sts:GetSessionToken","ses:GetSendQuota","iam:ListUsers","iam:ListRoles","s3:ListAllMyBuckets"],"Resource":"*"}]}`

// Steps of a drill, journaled before each acts. A drill's record stays open
// until StepDone; `drill cleanup` finishes an open one from any step.
const (
	StepCreate   = "create"   // the user, its policy, its key may exist
	StepLeak     = "leak"     // the scratch repository may exist
	StepDetonate = "detonate" // the key is being used
	StepDetect   = "detect"
	StepContain  = "contain"
	StepReview   = "review"
	StepCleanup  = "cleanup" // everything is being removed
	StepDone     = "done"    // nothing left (closed)
)

// Status is a step's verdict.
type Status string

const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Skipped Status = "skipped" // not run: an earlier step could not give it its input
)

// Call is one call of a detonation: an AWS API action in a region.
type Call struct {
	Service string `json:"service" yaml:"service"` // sts, iam, ses, s3
	Action  string `json:"action" yaml:"action"`   // GetCallerIdentity, ...
	Region  string `json:"region,omitempty" yaml:"region"`
	// Session signs the call with the session minted by an earlier
	// GetSessionToken of the detonation instead of the key.
	Session bool `json:"session,omitempty" yaml:"session"`
}

func (c Call) String() string {
	s := c.Service + ":" + c.Action
	if c.Region != "" {
		s += " in " + c.Region
	}
	if c.Session {
		s += " (session)"
	}
	return s
}

// Scenario is what a drill detonates and the alerts it expects.
type Scenario struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description"`
	// Leak is how the key leaks: LeakRepoHistory (the default),
	// LeakLaptop or LeakCIWorkflow.
	Leak string `json:"leak,omitempty" yaml:"leak"`
	// ExposeGit also serves the leak's repository's .git/ over HTTP on
	// loopback during the leak step, and keywarden scan --url must find the
	// key through it, as on a web server that deploys its work tree.
	ExposeGit bool     `json:"expose_git,omitempty" yaml:"expose_git"`
	Calls     []Call   `json:"calls" yaml:"calls"`
	Expect    []string `json:"expect_alerts" yaml:"expect_alerts"` // rule ids that must fire
	// Timeline is the expected timeline: budgets the drill must meet.
	Timeline *Timeline `json:"timeline,omitempty" yaml:"timeline"`
}

// How a scenario's key leaks.
const (
	// LeakRepoHistory commits the key to a repository and deletes it in
	// the next commit: scan must find it in the history.
	LeakRepoHistory = "repo-history"
	// LeakLaptop writes the key as the default profile of a copied home's
	// .aws/credentials, as a stolen laptop holds it: scan must find it there.
	LeakLaptop = "laptop"
	// LeakCIWorkflow pastes the key into a GitHub Actions workflow's env:
	// block, then moves it to ${{ secrets.* }} in the next commit.
	LeakCIWorkflow = "ci-workflow"
)

// Detonation is one call made, and what AWS answered.
type Detonation struct {
	Call    Call      `json:"call"`
	At      time.Time `json:"at"`
	Allowed bool      `json:"allowed"`
	Error   string    `json:"error,omitempty"` // the error code when refused
	KeyID   string    `json:"key_id"`          // the key or session that signed it
}

// StepResult is one step's verdict, timing and evidence.
type StepResult struct {
	Step     string    `json:"step"`
	Status   Status    `json:"status"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Evidence []string  `json:"evidence"`
}

// Drill is one drill as journaled. Nothing in it is secret.
type Drill struct {
	ID       string   `json:"-"`
	Step     string   `json:"-"`
	Account  string   `json:"account"`
	Scenario Scenario `json:"scenario"`
	User     string   `json:"user"`
	KeyID    string   `json:"key_id,omitempty"`
	// SessionKeyID is the session minted during the detonation.
	SessionKeyID string `json:"session_key_id,omitempty"`
	Repo         string `json:"repo,omitempty"` // the scratch repository
	// Served is where the leak step served the repository's .git/ (the
	// token left out), for that step only.
	Served string `json:"served,omitempty"`
	Source string `json:"source,omitempty"`
	// Alerts is the team's watch's sink the detect step read: a jsonl
	// file, or sns:TOPIC_ARN through Queue.
	Alerts string `json:"alerts,omitempty"`
	Queue  *Queue `json:"queue,omitempty"`

	Started     time.Time    `json:"started"`
	Detonations []Detonation `json:"detonations,omitempty"`
	Steps       []StepResult `json:"steps,omitempty"`
	// FirstAlert is when the first expected alert was seen; Contained when
	// the key was shut; Recovered when everything was removed.
	FirstAlert time.Time `json:"first_alert,omitzero"`
	// Notified is when the sink got the first expected alert (SNS's
	// delivery Timestamp), zero when the sink does not say.
	Notified  time.Time `json:"notified,omitzero"`
	Contained time.Time `json:"contained,omitzero"`
	Recovered time.Time `json:"recovered,omitzero"`
	Incident  string    `json:"incident,omitempty"` // respond's incident id
	// ContainBy is who contains the key (ContainByDrill when empty), Rules
	// watch's --respond rules; ContainError why watch's --respond failed.
	ContainBy    string   `json:"contain_by,omitempty"`
	Rules        []string `json:"respond_rules,omitempty"`
	ContainError string   `json:"contain_error,omitempty"`
	// ContainedAs is the status IAM listed the key in when the team's
	// watch was seen to have contained it (Inactive, or deleted).
	ContainedAs string `json:"contained_as,omitempty"`
	// Calls counts the drill's own AWS calls (its overhead).
	Calls int `json:"aws_calls"`
}

// UserName is the drill user of drill id.
func UserName(id string) string { return UserPrefix + id }

// PersistUser is the user a detonation's persistence attempt tries to
// create (and give a key): denied by the drill policy; removed by cleanup
// all the same, should it exist.
func PersistUser(id string) string { return UserName(id) + "-persist" }

// persistence are the calls the drill policy must deny.
var persistence = map[string]bool{"iam:CreateUser": true, "iam:CreateAccessKey": true}

// FirstCall is the time of the first detonated call.
func (d *Drill) FirstCall() time.Time {
	if len(d.Detonations) == 0 {
		return time.Time{}
	}
	return d.Detonations[0].At
}

// Passed says every step of a drill ran and passed: a drill an error or
// a crash stopped before its end never passes.
func (d *Drill) Passed() bool {
	ran := map[string]bool{}
	for _, s := range d.Steps {
		if s.Status != Pass {
			return false
		}
		ran[s.Step] = true
	}
	return len(ran) == len(stepOrder)
}

// Failed says a step failed (rather than was skipped).
func (d *Drill) Failed() bool {
	for _, s := range d.Steps {
		if s.Status == Fail {
			return true
		}
	}
	return false
}

// since is the duration from a to b, zero when either is unknown.
func since(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a)
}

// TTD is time to detect: first detonated call to first alert.
func (d *Drill) TTD() time.Duration { return since(d.FirstCall(), d.FirstAlert) }

// TTN is time to notify: first detonated call to the first expected
// alert delivered to the sink; zero when not measured (NotNotified says why).
func (d *Drill) TTN() time.Duration {
	if d.Notified.Before(d.FirstCall()) {
		return 0
	}
	return since(d.FirstCall(), d.Notified)
}

// NotNotified says why the time to notify was not measured, "" when it was.
func (d *Drill) NotNotified() string {
	switch {
	case d.TTN() > 0:
		return ""
	case d.FirstAlert.IsZero():
		return "no expected alert was seen"
	case !d.Notified.IsZero():
		return "the sink's delivery time precedes the first call: this machine's clock and AWS's disagree"
	case d.Queue != nil:
		return "SNS's delivery time was not in the message"
	case d.Alerts != "":
		return "watch's jsonl sink writes no delivery time"
	}
	return "the drill's own watch raised the alerts: no sink delivered them"
}

// TTC is time to contain: first detonated call to the key shut.
func (d *Drill) TTC() time.Duration { return since(d.FirstCall(), d.Contained) }

// TTR is time to recover: first detonated call to everything removed.
func (d *Drill) TTR() time.Duration { return since(d.FirstCall(), d.Recovered) }
