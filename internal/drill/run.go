package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/state"
)

// AWS is what a drill asks of AWS (drillaws.AWS): the drill user's life
// cycle with the operator's credentials, and the detonation's calls with
// the drill key. Removing what is not there is not an error.
type AWS interface {
	// Account is the account of the operator's credentials.
	Account(ctx context.Context) (string, error)
	// CreateUser creates user tagged TagKey=drillID.
	CreateUser(ctx context.Context, user, drillID string) error
	PutPolicy(ctx context.Context, user, name, doc string) error
	CreateKey(ctx context.Context, user string) (credential.Key, error)
	ListKeys(ctx context.Context, user string) ([]string, error)
	DeleteKey(ctx context.Context, user, id string) error
	ListPolicies(ctx context.Context, user string) ([]string, error)
	DeletePolicy(ctx context.Context, user, name string) error
	DeleteUser(ctx context.Context, user string) error
	// KeyStatus is the status IAM lists for user's key id (Active,
	// Inactive), "" when the key is gone.
	KeyStatus(ctx context.Context, user, id string) (string, error)
	// DrillUsers lists the users tagged TagKey, with the tag's value.
	DrillUsers(ctx context.Context) (map[string]string, error)
	// Call makes c signed with key, UserAgent(drillID) in its user agent;
	// a refusal by AWS is a result (allowed false, its error code), not an
	// error. A GetSessionToken returns the session.
	Call(ctx context.Context, key credential.Key, c Call, drillID string) (CallResult, error)
	// Inbox is the sns mode's queue and subscription.
	Inbox
}

// CallResult is AWS's answer to a detonated call.
type CallResult struct {
	Allowed bool
	Code    string          // the error code when refused
	Session *credential.Key // GetSessionToken's session
}

// Detector gives the alerts watch raises on the drill's events so far.
type Detector interface {
	Alerts(ctx context.Context, d *Drill) ([]detect.Alert, error)
}

// Responder is respond's engine (*respond.Responder).
type Responder interface {
	Run(ctx context.Context, req respond.Request) (*respond.Report, error)
}

// Scanner finds the keys in a repository's history (the scan engine):
// the ids of the keys found, each with where.
type Scanner func(ctx context.Context, repo string) (map[string]string, error)

// Engine runs drills.
type Engine struct {
	AWS     AWS
	DB      *state.DB
	Detect  Detector
	Respond Responder
	Scan    Scanner
	// ScanSite finds the keys a site exposes (keywarden scan --url's
	// engine), for a scenario that serves its .git/ (ExposeGit).
	ScanSite Scanner
	// ServeGit serves a scratch repository's .git/ for the leak step's
	// life (nil: ServeGit, on loopback).
	ServeGit func(repo string) (*Site, error)
	Now      func() time.Time
	// Sleep waits between detection polls (the injected clock's in tests).
	Sleep func(ctx context.Context, d time.Duration) error
	// Wait is how long detection waits for the expected alerts; Poll how
	// often it asks.
	Wait, Poll time.Duration
	// TempDir is where scratch repositories go ("": the system's).
	TempDir string
	// Calls counts the AWS calls made so far by every adapter of the drill
	// (awsx.Count); nil: not counted.
	Calls func() int
}

// Options are a run's inputs.
type Options struct {
	ID       string // "": generated
	Account  string // typed by the operator; must match the credentials'
	Scenario Scenario
	Source   string // the watch source, for the report
	// Alerts is the jsonl file (AlertLog) or sns:TOPIC_ARN (TopicAlerts)
	// of the team's watch the detect step reads, for the report; "": the
	// drill runs watch itself.
	Alerts string
	// Topic is the SNS topic the drill subscribes a queue of its own to
	// for its life (TopicAlerts reads it); "": none.
	Topic string
	// Contain is who contains the drill key: ContainByDrill (""), ContainByWatch
	// (the detect step's watch, with Rules as --respond RULE=contain) or
	// ContainByTeam (the team's own watch: the drill waits for it).
	Contain string
	Rules   []string
}

// Who contains the drill key.
const (
	// ContainByDrill runs respond --apply in the contain step.
	ContainByDrill = "drill"
	// ContainByWatch is watch's own --respond RULE=contain, in the
	// pipeline the detect step runs (Watch.Respond).
	ContainByWatch = "watch"
	// ContainByTeam is the team's watch (the Lambda, a watch --follow with
	// --respond, or a person): the contain step waits, up to Wait, until
	// IAM lists the key Inactive.
	ContainByTeam = "team"
)

// ErrRefused is wrapped by a run refused before any change.
var ErrRefused = errors.New("refused")

// ErrNotFound is wrapped when no drill has the id.
var ErrNotFound = errors.New("no such drill")

// NewID is a fresh drill id: short, for the user name's 64 characters.
func NewID(now time.Time) string {
	id := state.NewID("d")
	return now.UTC().Format("20060102t150405") + "-" + id[len(id)-8:]
}

// Run runs a whole drill. Its steps' failures are in the drill (Failed);
// the error is one that stopped the drill, after whatever it had made was
// removed as far as it could be.
func (e *Engine) Run(ctx context.Context, o Options) (*Drill, error) {
	acct, err := e.AWS.Account(ctx)
	if err != nil {
		return nil, err
	}
	if o.Account != acct {
		return nil, fmt.Errorf("--account %s is not the account of these credentials (%s): %w, nothing changed", o.Account, acct, ErrRefused)
	}
	if o.ID == "" {
		o.ID = NewID(e.Now())
	}
	if o.Contain == "" {
		o.Contain = ContainByDrill
	}
	d := &Drill{ID: o.ID, Account: acct, Scenario: o.Scenario, User: UserName(o.ID), Source: o.Source, Started: e.Now().UTC(),
		ContainBy: o.Contain, Rules: o.Rules, Alerts: o.Alerts}
	if _, err := e.DB.Get(ctx, Kind, d.ID); err == nil {
		return nil, fmt.Errorf("drill %s exists: %w", d.ID, ErrRefused)
	}
	key, err := e.create(ctx, d, o.Topic)
	if err == nil {
		err = e.steps(ctx, d, key)
	}
	if err != nil {
		d.interrupted()
		if cerr := e.cleanup(ctx, d); cerr != nil {
			return d, fmt.Errorf("%w; and cleanup: %v ('keywarden drill cleanup %s' finishes it)", err, cerr, d.ID)
		}
		return d, err
	}
	return d, e.cleanup(ctx, d)
}

// steps runs leak to review; a failed step is a result, an error stops.
func (e *Engine) steps(ctx context.Context, d *Drill, key credential.Key) error {
	if err := e.leak(ctx, d, key); err != nil {
		return err
	}
	session, before, err := e.detonate(ctx, d, key)
	if err != nil {
		return err
	}
	if err := e.detect(ctx, d); err != nil {
		return err
	}
	rep, err := e.contain(ctx, d, key, session, before)
	if err != nil {
		return err
	}
	return e.review(ctx, d, rep)
}

// begin journals the step about to act and starts its result.
func (e *Engine) begin(ctx context.Context, d *Drill, step string) (*StepResult, error) {
	if err := e.save(ctx, d, step); err != nil {
		return nil, err
	}
	d.Steps = append(d.Steps, StepResult{Step: step, Started: e.Now().UTC(), Evidence: []string{}})
	return &d.Steps[len(d.Steps)-1], nil
}

// end gives r its verdict and journals it.
func (e *Engine) end(ctx context.Context, d *Drill, r *StepResult, st Status, evidence ...string) error {
	r.Status, r.Ended = st, e.Now().UTC()
	r.Evidence = append(r.Evidence, evidence...)
	if over := d.overBudget(r); len(over) > 0 {
		r.Status, r.Evidence = Fail, append(r.Evidence, over...)
	}
	return e.save(ctx, d, d.Step)
}

func (e *Engine) create(ctx context.Context, d *Drill, topic string) (credential.Key, error) {
	r, err := e.begin(ctx, d, StepCreate)
	if err != nil {
		return credential.Key{}, err
	}
	var ev []string
	if topic != "" { // first: a topic that cannot be subscribed to stops the drill before any IAM change
		sub, err := e.subscribe(ctx, d, topic)
		if err != nil {
			return credential.Key{}, err
		}
		ev = append(ev, sub)
	}
	if err := e.AWS.CreateUser(ctx, d.User, d.ID); err != nil {
		return credential.Key{}, err
	}
	if err := e.AWS.PutPolicy(ctx, d.User, PolicyName, Policy); err != nil {
		return credential.Key{}, err
	}
	key, err := e.AWS.CreateKey(ctx, d.User)
	if err != nil {
		return credential.Key{}, err
	}
	d.KeyID = key.ID
	ev = append(ev, fmt.Sprintf("user %s tagged %s=%s, inline policy %s, key %s", d.User, TagKey, d.ID, PolicyName, key.ID))
	return key, e.end(ctx, d, r, Pass, ev...)
}

// leak commits the key to a scratch repository, deletes it in a later
// commit, and asks the scan engine to find it in the history.
func (e *Engine) leak(ctx context.Context, d *Drill, key credential.Key) error {
	tmp := e.TempDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	dir := filepath.Join(tmp, "keywarden-drill-"+d.ID)
	d.Repo = dir
	r, err := e.begin(ctx, d, StepLeak) // journaled before it exists: a crash leaves it named
	if err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("scratch repository: %w", err)
	}
	evidence, err := leakInto(ctx, dir, d.Scenario.Leak, key, e.Now())
	if err != nil {
		return err
	}
	found, err := e.Scan(ctx, dir)
	if err != nil {
		return err
	}
	st, ev := Pass, []string{evidence}
	if where, ok := found[key.ID]; ok {
		ev = append(ev, "scan found "+key.ID+": "+where)
	} else {
		st, ev = Fail, append(ev, fmt.Sprintf("scan did not find %s in %s (%d other keys found)", key.ID, dir, len(found)))
	}
	if d.Scenario.ExposeGit {
		found, site, err := e.scanServed(ctx, d, dir)
		if err != nil {
			return err
		}
		ev = append(ev, "served "+site+".git/ on loopback for this step only, under a random 128-bit path prefix (a token, never journaled); the server is closed")
		if where, ok := found[key.ID]; ok {
			ev = append(ev, "keywarden scan --url found "+key.ID+": "+where)
		} else {
			st, ev = Fail, append(ev, fmt.Sprintf("keywarden scan --url did not find %s in the .git/ served at %s (%d other keys found): the exposed repository does not give the key away", key.ID, site, len(found)))
		}
	}
	return e.end(ctx, d, r, st, ev...)
}

// scanServed serves dir's .git/ for the time of one scan --url over it:
// the keys found (their locations without the token) and the site as
// reports say it. The server dies with the step, and with the process: a
// crash leaves nothing for cleanup.
func (e *Engine) scanServed(ctx context.Context, d *Drill, dir string) (map[string]string, string, error) {
	serve := e.ServeGit
	if serve == nil {
		serve = ServeGit
	}
	site, err := serve(dir)
	if err != nil {
		return nil, "", err
	}
	defer site.Close()
	d.Served = site.Shown()
	if err := e.save(ctx, d, StepLeak); err != nil {
		return nil, "", err
	}
	found, err := e.ScanSite(ctx, site.URL())
	if err != nil {
		return nil, "", fmt.Errorf("scan --url %s: %s", site.Shown(), site.Redact(err.Error()))
	}
	for k, where := range found {
		found[k] = site.Redact(where)
	}
	return found, site.Shown(), nil
}

func short(commit string) string { return commit[:min(len(commit), 12)] }

// detonate makes the scenario's calls with the drill key, each with the
// drill id in its user agent; then, when a session was minted, a probe
// with it: its answer before containment (a refusal then proves nothing
// after).
func (e *Engine) detonate(ctx context.Context, d *Drill, key credential.Key) (*credential.Key, CallResult, error) {
	var before CallResult
	r, err := e.begin(ctx, d, StepDetonate)
	if err != nil {
		return nil, before, err
	}
	var session *credential.Key
	st := Pass
	for _, c := range d.Scenario.Calls {
		signer := key
		if c.Session {
			if session == nil {
				return nil, before, fmt.Errorf("call %s: no GetSessionToken before it", c)
			}
			signer = *session
		}
		at := e.Now().UTC()
		res, err := e.AWS.Call(ctx, signer, c, d.ID)
		if err != nil {
			return nil, before, fmt.Errorf("detonate %s: %w", c, err)
		}
		if res.Session != nil {
			session = res.Session
			d.SessionKeyID = session.ID
		}
		d.Detonations = append(d.Detonations, Detonation{Call: c, At: at, Allowed: res.Allowed, Error: res.Code, KeyID: signer.ID})
		r.Evidence = append(r.Evidence, fmt.Sprintf("%s %s", c, answer(res)))
		if res.Allowed && persistence[c.Service+":"+c.Action] {
			st = Fail
			r.Evidence = append(r.Evidence, c.String()+" was allowed: the drill policy did not hold (cleanup removes "+PersistUser(d.ID)+")")
		}
	}
	if session != nil {
		if before, err = e.AWS.Call(ctx, *session, probe, d.ID); err != nil {
			return nil, before, err
		}
	}
	return session, before, e.end(ctx, d, r, st, fmt.Sprintf("%d calls with user agent %s", len(d.Detonations), UserAgent(d.ID)))
}

// probe is the call that tells whether a key or session still works.
var probe = Call{Service: "ses", Action: "GetSendQuota"}

// UserAgent is the user-agent mark of drill id's calls.
func UserAgent(id string) string { return "keywarden-drill/" + id }

func answer(r CallResult) string {
	if r.Allowed {
		return "allowed"
	}
	return "denied (" + r.Code + ")"
}

// detect polls watch until every expected alert fired or Wait passed.
func (e *Engine) detect(ctx context.Context, d *Drill) error {
	r, err := e.begin(ctx, d, StepDetect)
	if err != nil {
		return err
	}
	deadline := e.Now().Add(e.Wait)
	for {
		polled := e.Now()
		alerts, err := e.Detect.Alerts(ctx, d)
		if err != nil {
			return e.end(ctx, d, r, Skipped, "the source could not be read: "+err.Error())
		}
		fired := map[string]bool{}
		for _, a := range alerts {
			if slices.Contains(d.Scenario.Expect, a.Rule) && d.FirstAlert.IsZero() {
				d.FirstAlert = e.Now().UTC()
				if n, ok := e.Detect.(Notifier); ok {
					d.Notified = n.Delivered(a).UTC()
				}
			}
			fired[a.Rule] = true
		}
		missing := slices.DeleteFunc(slices.Clone(d.Scenario.Expect), func(id string) bool { return fired[id] })
		if len(missing) == 0 {
			return e.end(ctx, d, r, Pass, "alerts: "+strings.Join(ruleList(fired), ", "))
		}
		if d.ContainBy == ContainByTeam { // the team's watch may shut the key before every alert is in
			if _, err := e.seenInactive(ctx, d); err != nil {
				return err
			}
		}
		if !e.Now().Before(deadline) {
			return e.end(ctx, d, r, Fail, e.whyMissing(d, missing, fired, len(alerts))...)
		}
		// Polls start every Poll: the time a read took (an SNS queue's long
		// poll waits up to 20 s for a message) is not waited again.
		if err := e.Sleep(ctx, max(0, e.Poll-e.Now().Sub(polled))); err != nil {
			return err
		}
	}
}

// whyMissing says what failed to fire and why, as far as the drill knows.
func (e *Engine) whyMissing(d *Drill, missing []string, fired map[string]bool, n int) []string {
	out := []string{fmt.Sprintf("did not fire within %s: %s", e.Wait, strings.Join(missing, ", "))}
	switch {
	case n == 0 && d.Queue != nil:
		out = append(out, fmt.Sprintf("no alert on key %s reached %s: the team's watch published none (is the Lambda or keywarden watch --sink sns:%s running on a source that delivers the drill's events?)", d.KeyID, d.Queue.Topic, d.Queue.Topic))
	case n == 0 && d.Alerts != "":
		out = append(out, fmt.Sprintf("no alert on key %s in %s: the team's watch raised none (is keywarden watch --follow running, this file its jsonl sink, on a source that delivers the drill's events?)", d.KeyID, d.Alerts))
	case n == 0:
		out = append(out, fmt.Sprintf("no event of key %s reached watch from %s: the source does not deliver the drill's events (no trail, a trail without this region, or a delivery delay longer than the wait)", d.KeyID, d.Source))
	default:
		out = append(out, "fired instead: "+strings.Join(ruleList(fired), ", "))
	}
	return out
}

func ruleList(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// contain has the drill key contained (by respond --apply, watch's
// --respond or the team's watch: Drill.ContainBy), then checks the key and
// the session minted before containment are refused.
func (e *Engine) contain(ctx context.Context, d *Drill, key credential.Key, session *credential.Key, before CallResult) (*respond.Report, error) {
	r, err := e.begin(ctx, d, StepContain)
	if err != nil {
		return nil, err
	}
	rep, st, ev, err := e.containBy(ctx, d, key)
	if err != nil {
		return rep, err
	}
	res, err := e.AWS.Call(ctx, key, probe, d.ID)
	if err != nil {
		return rep, err
	}
	switch {
	case res.Allowed && d.Contained.IsZero():
		ev = append(ev, "the key still works: nobody shut it")
	case res.Allowed:
		st = Fail
		ev = append(ev, "the key still works after containment")
	default:
		ev = append(ev, "the key is refused ("+res.Code+")")
	}
	if session != nil {
		var after CallResult
		if before.Allowed {
			if after, err = e.AWS.Call(ctx, *session, probe, d.ID); err != nil {
				return rep, err
			}
		}
		failed, why := sessionVerdict(session.ID, before, after)
		if failed {
			st = Fail
		}
		ev = append(ev, why)
	}
	return rep, e.end(ctx, d, r, st, ev...)
}

// sessionVerdict judges the session minted from the drill key, asked
// before containment and (when it worked then) after: it must have worked
// before and be refused after. A session refused before proves nothing
// about its revocation (moto refuses GetSessionToken's sessions outright).
func sessionVerdict(id string, before, after CallResult) (failed bool, why string) {
	switch {
	case !before.Allowed:
		return false, "the session " + id + " was refused before containment already (" + before.Code + "): its revocation is not proven"
	case after.Allowed:
		return true, "the session " + id + " minted before containment still works"
	default:
		return false, "the session " + id + " minted before containment is refused (" + after.Code + ")"
	}
}

// containBy contains the key, or sees it contained, and reads respond's
// report (its review): respond --apply, or respond's plan when watch or
// the team contained it.
func (e *Engine) containBy(ctx context.Context, d *Drill, key credential.Key) (*respond.Report, Status, []string, error) {
	req := respond.Request{KeyID: key.ID, Since: e.Now().Sub(d.Started) + time.Hour}
	st, ev := Pass, []string{}
	switch d.ContainBy {
	case ContainByWatch:
		rules := strings.Join(d.Rules, ", ")
		switch {
		case !d.Contained.IsZero():
			ev = append(ev, fmt.Sprintf("watch --respond contained %s at %s: incident %s", key.ID, d.Contained.Format(time.RFC3339), d.Incident))
		case d.ContainError != "":
			st, ev = Fail, append(ev, "watch --respond (rules "+rules+") failed to contain "+key.ID+": "+d.ContainError)
		default:
			st, ev = Fail, append(ev, "nobody contained "+key.ID+": watch --respond contains on "+rules+", and none of them fired on the key during the detect step")
		}
	case ContainByTeam:
		status, err := e.awaitInactive(ctx, d)
		if err != nil {
			return nil, st, nil, err
		}
		if d.Contained.IsZero() {
			st, ev = Fail, append(ev, fmt.Sprintf("nobody contained %s within %s: IAM still lists it %s (no watch --respond, Lambda or person of the team deactivated it)", key.ID, e.Wait, status))
		} else {
			ev = append(ev, fmt.Sprintf("the team's watch contained %s: IAM lists it %s at %s", key.ID, status, d.Contained.Format(time.RFC3339)))
		}
	default:
		req.Apply = true
	}
	rep, err := e.Respond.Run(ctx, req)
	if err != nil {
		return rep, st, nil, fmt.Errorf("respond %s: %w", key.ID, err)
	}
	if req.Apply {
		d.Incident = rep.Incident
		d.Contained = e.Now().UTC()
		for _, s := range rep.Steps {
			ev = append(ev, fmt.Sprintf("respond %s: %s", s.Name, s.Status))
		}
	}
	return rep, st, ev, nil
}

// awaitInactive polls IAM every Poll until it lists the drill key as no
// longer Active (Drill.Contained, perhaps seen during the detect step
// already), or Wait passes; it returns the status last listed.
func (e *Engine) awaitInactive(ctx context.Context, d *Drill) (string, error) {
	deadline := e.Now().Add(e.Wait)
	for {
		status, err := e.seenInactive(ctx, d)
		if err != nil || !d.Contained.IsZero() || !e.Now().Before(deadline) {
			return status, err
		}
		if err := e.Sleep(ctx, e.Poll); err != nil {
			return "", err
		}
	}
}

// seenInactive lists the drill key's status and, the first time it is no
// longer Active, sets Drill.Contained: the time to contain the team's
// watch gave, to within a poll.
func (e *Engine) seenInactive(ctx context.Context, d *Drill) (string, error) {
	if !d.Contained.IsZero() {
		return d.ContainedAs, nil
	}
	status, err := e.AWS.KeyStatus(ctx, d.User, d.KeyID)
	if err != nil {
		return "", err
	}
	if status == "" {
		status = "deleted"
	}
	if status != "Active" {
		d.Contained, d.ContainedAs = e.Now().UTC(), status
	}
	return status, nil
}

// review checks respond's review lists every detonated call and nothing
// else.
func (e *Engine) review(ctx context.Context, d *Drill, rep *respond.Report) error {
	r, err := e.begin(ctx, d, StepReview)
	if err != nil {
		return err
	}
	if rep.Review == nil {
		return e.end(ctx, d, r, Skipped, "respond made no review (no event source)")
	}
	want := map[string]int{}
	for _, det := range d.Detonations {
		want[det.Call.Service+":"+det.Call.Action]++
	}
	got := map[string]int{}
	for _, c := range rep.Review.Summary.Actions {
		got[c.Value] += c.Count
	}
	var missing, unrelated, unread []string
	for a, n := range want {
		if got[a] < n {
			missing = append(missing, fmt.Sprintf("%s: %d made, %d reviewed", a, n, got[a]))
		}
	}
	for a := range got {
		if want[a] == 0 {
			unrelated = append(unrelated, a+": reviewed but never detonated")
		}
	}
	slices.Sort(missing)
	slices.Sort(unrelated)
	for _, g := range rep.Review.Incomplete {
		unread = append(unread, "respond could not read "+g.Source+": "+g.Reason)
	}
	switch {
	case len(unrelated) > 0 || len(missing) > 0 && len(unread) == 0:
		return e.end(ctx, d, r, Fail, slices.Concat(unrelated, missing, unread)...)
	case len(missing) > 0: // what could not be read may hold them: no verdict
		return e.end(ctx, d, r, Skipped, slices.Concat(unread, missing)...)
	}
	return e.end(ctx, d, r, Pass, fmt.Sprintf("review lists the %d detonated calls and nothing else", rep.Review.Events))
}

// Cleanup finishes drill id's cleanup (a drill a crash left open).
func (e *Engine) Cleanup(ctx context.Context, id string) (*Drill, error) {
	d, err := e.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Step == StepDone { // check again, change nothing
		users, err := e.AWS.DrillUsers(ctx)
		if err != nil {
			return d, err
		}
		if _, ok := users[d.User]; ok {
			return d, fmt.Errorf("drill %s is done, yet user %s is listed", id, d.User)
		}
		return d, nil
	}
	d.interrupted()
	return d, e.cleanup(ctx, d)
}

// interrupted marks the step a crash or an error cut short, journaled as
// begun (begin saves before the step's result exists) or with no verdict
// yet, as skipped: a drill cleaned up after one never passes.
func (d *Drill) interrupted() {
	const why = "interrupted: the drill stopped during this step"
	if d.Step != StepCleanup && d.Step != StepDone && !slices.ContainsFunc(d.Steps, func(s StepResult) bool { return s.Step == d.Step }) {
		d.Steps = append(d.Steps, StepResult{Step: d.Step, Status: Skipped, Evidence: []string{why}})
	}
	for i := range d.Steps {
		if d.Steps[i].Status == "" {
			d.Steps[i].Status, d.Steps[i].Evidence = Skipped, append(d.Steps[i].Evidence, why)
		}
	}
}

// cleanup removes the drill user's keys, policies, the user and the
// scratch repository, verifies by listing, and closes the record.
func (e *Engine) cleanup(ctx context.Context, d *Drill) error {
	r, err := e.begin(ctx, d, StepCleanup)
	if err != nil {
		return err
	}
	var ev []string
	if d.Queue != nil {
		q, err := e.unsubscribe(ctx, d)
		if err != nil {
			return err
		}
		ev = append(ev, q)
	}
	if d.Repo != "" {
		if err := os.RemoveAll(d.Repo); err != nil {
			return fmt.Errorf("remove %s: %w", d.Repo, err)
		}
	}
	for _, user := range []string{PersistUser(d.ID), d.User} {
		if err := e.removeUser(ctx, user); err != nil {
			return err
		}
	}
	users, err := e.AWS.DrillUsers(ctx)
	if err != nil {
		return err
	}
	if _, ok := users[d.User]; ok {
		return fmt.Errorf("user %s is still listed after cleanup", d.User)
	}
	if _, err := os.Stat(d.Repo); d.Repo != "" && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is still there after cleanup", d.Repo)
	}
	d.Recovered = e.Now().UTC()
	ev = append(ev, fmt.Sprintf("user %s, its keys and policies, and the scratch repository removed; no user tagged %s=%s listed", d.User, TagKey, d.ID))
	if err := e.end(ctx, d, r, Pass, ev...); err != nil {
		return err
	}
	return e.save(ctx, d, StepDone)
}

func (e *Engine) removeUser(ctx context.Context, user string) error {
	keys, err := e.AWS.ListKeys(ctx, user)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := e.AWS.DeleteKey(ctx, user, k); err != nil {
			return err
		}
	}
	pols, err := e.AWS.ListPolicies(ctx, user)
	if err != nil {
		return err
	}
	for _, p := range pols {
		if err := e.AWS.DeletePolicy(ctx, user, p); err != nil {
			return err
		}
	}
	return e.AWS.DeleteUser(ctx, user)
}

// History lists every drill journaled, newest first.
func (e *Engine) History(ctx context.Context) ([]*Drill, error) {
	recs, err := e.DB.List(ctx, Kind, state.Filter{})
	if err != nil {
		return nil, err
	}
	out := make([]*Drill, 0, len(recs))
	for _, rec := range recs {
		d, err := decode(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Drill) int { return b.Started.Compare(a.Started) })
	return out, nil
}

func (e *Engine) load(ctx context.Context, id string) (*Drill, error) {
	rec, err := e.DB.Get(ctx, Kind, id)
	if errors.Is(err, state.ErrNotFound) {
		return nil, fmt.Errorf("drill %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return decode(rec)
}

func decode(rec state.Record) (*Drill, error) {
	d := &Drill{}
	if err := json.Unmarshal(rec.Data, d); err != nil {
		return nil, fmt.Errorf("read drill %s: %w", rec.ID, err)
	}
	d.ID, d.Step = rec.ID, rec.Step
	return d, nil
}

// save journals d at step.
func (e *Engine) save(ctx context.Context, d *Drill, step string) error {
	d.Step = step
	if e.Calls != nil {
		d.Calls = e.Calls()
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode drill %s: %w", d.ID, err)
	}
	return e.DB.Put(ctx, state.Record{Kind: Kind, ID: d.ID, Subject: d.User, Step: step, Data: data, Open: step != StepDone})
}
