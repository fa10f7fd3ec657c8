package drillaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/drill"
	"github.com/keywarden/keywarden/internal/drill/drillaws"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/watch"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// clock is the drill's injected clock: each reading moves it a second on,
// and a sleep moves it by the sleep.
type clock struct {
	t      time.Time
	slept  func()          // what happens elsewhere while the drill sleeps
	sleeps []time.Duration // how long each sleep was
}

func (c *clock) Now() time.Time { c.t = c.t.Add(time.Second); return c.t }

func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	if c.slept != nil {
		c.slept()
	}
	return nil
}

// rig is a drill engine on moto with IAM authorization enforced, signed
// by an administrator, whose watch source is a directory.
type rig struct {
	t      *testing.T
	e      *drill.Engine
	aws    *drillaws.AWS
	logs   string // the CloudTrail directory watch and respond read
	tmp    string // where scratch repositories go
	acct   string
	cfg    aws.Config // the operator's
	topic  string     // the team's alert topic, when there is one
	clock  *clock
	silent bool // no trail delivers the drill's events
	// responder is respond's engine on moto, the drill's and watch's.
	responder *respond.Responder
	// watchResponder is watch's --respond hook's: no event source, as in
	// 'keywarden watch --respond'.
	watchResponder *respond.Responder
}

func newRig(t *testing.T) *rig {
	t.Helper()
	return newRigOn(t, awstest.MotoWithAuth(t))
}

func newRigOn(t *testing.T, srv *awstest.MotoServer) *rig {
	t.Helper()
	admin := srv.CreateUserKey(t, "operator", awstest.AdminPolicy)
	t.Setenv("AWS_ACCESS_KEY_ID", admin.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", admin.Secret.Reveal())
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, calls := awsx.Count(cfg)
	dir := t.TempDir()
	db, err := state.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{t: t, logs: filepath.Join(dir, "trail"), tmp: filepath.Join(dir, "tmp"), clock: &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}}
	os.MkdirAll(r.logs, 0o700)
	os.MkdirAll(r.tmp, 0o700)
	r.aws, r.cfg = drillaws.New(cfg), cfg
	r.acct, err = r.aws.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := watch.NewSource(r.logs, watch.SourceEnv{Now: r.clock.Now})
	r.responder = &respond.Responder{IAM: respondaws.New(cfg), DB: db, Events: &respond.Sources{Logs: []string{r.logs}, Warn: func(error) {}},
		Out: io.Discard, Now: r.clock.Now}
	r.watchResponder = &respond.Responder{IAM: respondaws.New(cfg), DB: db, Out: io.Discard, Now: r.clock.Now}
	r.e = &drill.Engine{AWS: r.aws, DB: db, Detect: trail{r, drill.Watch{Source: src, Now: r.clock.Now, Warn: func(error) {}}}, Scan: drill.ScanHistory, ScanSite: drill.ScanSite,
		Respond: r.responder,
		Now:     r.clock.Now, Sleep: r.clock.Sleep, Wait: 10 * time.Minute, Poll: time.Minute, TempDir: r.tmp, Calls: calls}
	return r
}

// trail stands for CloudTrail's delivery, which moto does not make: before
// watch reads, it writes the detonated calls as CloudTrail records.
type trail struct {
	r *rig
	drill.Watch
}

func (tr trail) Alerts(ctx context.Context, d *drill.Drill) ([]detect.Alert, error) {
	if !tr.r.silent {
		tr.r.deliver(d)
	}
	return tr.Watch.Alerts(ctx, d)
}

// deliver writes d's detonated calls to the trail directory as CloudTrail
// records, in the shape AWS documents.
func (r *rig) deliver(d *drill.Drill) {
	// moto's GetSessionToken answers AWS's documentation example, an AKIA
	// id; AWS's sessions are ASIA keys, and so is what the trail logs.
	asia := func(id string) string {
		if id != "" && id == d.SessionKeyID {
			return "ASIA" + strings.TrimPrefix(id, "AKIA")
		}
		return id
	}
	var recs []map[string]any
	for i, det := range d.Detonations {
		region := det.Call.Region
		if region == "" {
			region = awstest.Region
		}
		rec := map[string]any{
			"eventVersion": "1.08", "eventTime": det.At.Format(time.RFC3339), "eventSource": det.Call.Service + ".amazonaws.com",
			"eventName": det.Call.Action, "awsRegion": region, "sourceIPAddress": "203.0.113.7",
			"userAgent": "aws-sdk-go-v2/1.39 " + drill.UserAgent(d.ID), "eventID": fmt.Sprintf("drill-%s-%d", d.ID, i),
			"eventType": "AwsApiCall", "recipientAccountId": d.Account, "readOnly": strings.HasPrefix(det.Call.Action, "Get") || strings.HasPrefix(det.Call.Action, "List"),
			"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDADRILL", "arn": "arn:aws:iam::" + d.Account + ":user/" + d.User,
				"accountId": d.Account, "accessKeyId": asia(det.KeyID), "userName": d.User},
		}
		if !det.Allowed {
			rec["errorCode"], rec["errorMessage"] = det.Error, "denied"
		}
		if det.Call.Action == "GetSessionToken" && det.Allowed {
			rec["responseElements"] = map[string]any{"credentials": map[string]any{"accessKeyId": asia(d.SessionKeyID), "expiration": det.At.Add(15 * time.Minute).Format(time.RFC3339)}}
		}
		recs = append(recs, rec)
	}
	data, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.logs, "drill.json"), data, 0o600); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) run() (*drill.Drill, error) { return r.runOf(drill.Seed001) }

func (r *rig) runOf(sc drill.Scenario) (*drill.Drill, error) {
	o := drill.Options{ID: "t1", Account: r.acct, Scenario: sc, Source: r.logs}
	if r.topic != "" {
		o.Alerts, o.Topic = "sns:"+r.topic, r.topic
	}
	return r.e.Run(context.Background(), o)
}

// nothingLeft checks no drill user is listed and no scratch repository is left.
func (r *rig) nothingLeft() {
	r.t.Helper()
	users, err := r.aws.DrillUsers(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	if len(users) > 0 {
		r.t.Errorf("drill users left: %v", users)
	}
	left, _ := os.ReadDir(r.tmp)
	if len(left) > 0 {
		r.t.Errorf("scratch left in %s: %v", r.tmp, left)
	}
	if r.topic == "" {
		return
	}
	ctx := context.Background()
	queues, err := sqs.NewFromConfig(r.cfg).ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(drill.UserPrefix)})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(queues.QueueUrls) > 0 {
		r.t.Errorf("drill queues left: %v", queues.QueueUrls)
	}
	subs, err := sns.NewFromConfig(r.cfg).ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(r.topic)})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, s := range subs.Subscriptions {
		r.t.Errorf("subscription left on the topic: %s to %s", aws.ToString(s.SubscriptionArn), aws.ToString(s.Endpoint))
	}
}

// withTopic gives the team an SNS topic, as watch's Lambda mode or
// 'watch --sink sns:ARN' publish to, and has the drill read it.
func (r *rig) withTopic() {
	r.t.Helper()
	out, err := sns.NewFromConfig(awstest.Fixture(r.cfg)).CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("keywarden-alerts")})
	if err != nil {
		r.t.Fatal(err)
	}
	r.topic = aws.ToString(out.TopicArn)
	r.e.Detect = &drill.TopicAlerts{Inbox: r.aws}
}

func TestDrillSeed001PassesOnMoto(t *testing.T) {
	r := newRig(t)
	start := time.Now()
	d, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	for _, s := range d.Steps {
		t.Logf("%-9s %-7s %s", s.Step, s.Status, strings.Join(s.Evidence, "; "))
	}
	if !d.Passed() {
		t.Fatalf("drill did not pass")
	}
	if d.TTD() <= 0 || d.TTC() < d.TTD() || d.TTR() < d.TTC() {
		t.Errorf("times: ttd %s ttc %s ttr %s", d.TTD(), d.TTC(), d.TTR())
	}
	r.nothingLeft()
	md := drill.NewReport(d, nil).Markdown()
	for _, want := range []string{"# keywarden drill t1: pass", "| time to detect | 13s | - |", "7. **cleanup**: pass", "iam:CreateUser by " + d.KeyID + ": denied AccessDenied",
		// moto refuses GetSessionToken's session outright: the revocation is not proven there
		"was refused before containment already (InvalidClientTokenId): its revocation is not proven"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	t.Logf("report:\n%s", md)
	t.Logf("overhead: %d AWS calls, %s wall time on moto; TTD %s, TTC %s, TTR %s (injected clock)", d.Calls, wall.Round(time.Millisecond), d.TTD(), d.TTC(), d.TTR())
}

func TestDrillWithoutDetectionFailsStep4AndSaysWhy(t *testing.T) {
	r := newRig(t)
	r.silent = true
	d, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	var det drill.StepResult
	for _, s := range d.Steps {
		if s.Step == drill.StepDetect {
			det = s
		}
	}
	if det.Status != drill.Fail || !d.Failed() {
		t.Fatalf("detect %s, want fail", det.Status)
	}
	why := strings.Join(det.Evidence, "\n")
	for _, want := range []string{"did not fire within 10m0s: KW-CT-SES-RECON, KW-CT-STS-SESSION-FROM-KEY", "no event of key " + d.KeyID + " reached watch"} {
		if !strings.Contains(why, want) {
			t.Errorf("evidence lacks %q:\n%s", want, why)
		}
	}
	if d.FirstAlert != (time.Time{}) || d.TTD() != 0 {
		t.Errorf("no alert, yet TTD %s", d.TTD())
	}
	r.nothingLeft() // contained and cleaned up all the same
}

// faulty is the moto-backed adapter with a fault script around each call.
type faulty struct {
	drill.AWS
	s *fault.Script
}

func around[T any](f faulty, name string, call func() (T, error)) (T, error) {
	return fault.Around(f.s, "aws "+name, call)
}

func none(err error) (any, error) { return nil, err }

func (f faulty) CreateUser(ctx context.Context, user, id string) error {
	_, err := around(f, "CreateUser", func() (any, error) { return none(f.AWS.CreateUser(ctx, user, id)) })
	return err
}

func (f faulty) PutPolicy(ctx context.Context, user, name, doc string) error {
	_, err := around(f, "PutUserPolicy", func() (any, error) { return none(f.AWS.PutPolicy(ctx, user, name, doc)) })
	return err
}

func (f faulty) CreateKey(ctx context.Context, user string) (credential.Key, error) {
	return around(f, "CreateAccessKey", func() (credential.Key, error) { return f.AWS.CreateKey(ctx, user) })
}

func (f faulty) DeleteKey(ctx context.Context, user, id string) error {
	_, err := around(f, "DeleteAccessKey", func() (any, error) { return none(f.AWS.DeleteKey(ctx, user, id)) })
	return err
}

func (f faulty) DeletePolicy(ctx context.Context, user, name string) error {
	_, err := around(f, "DeleteUserPolicy", func() (any, error) { return none(f.AWS.DeletePolicy(ctx, user, name)) })
	return err
}

func (f faulty) DeleteUser(ctx context.Context, user string) error {
	_, err := around(f, "DeleteUser", func() (any, error) { return none(f.AWS.DeleteUser(ctx, user)) })
	return err
}

func (f faulty) CreateQueue(ctx context.Context, q drill.Queue, id string) (string, error) {
	return around(f, "CreateQueue", func() (string, error) { return f.AWS.CreateQueue(ctx, q, id) })
}

func (f faulty) Subscribe(ctx context.Context, q drill.Queue) (string, error) {
	return around(f, "Subscribe", func() (string, error) { return f.AWS.Subscribe(ctx, q) })
}

func (f faulty) Unsubscribe(ctx context.Context, q drill.Queue, arn string) error {
	_, err := around(f, "Unsubscribe", func() (any, error) { return none(f.AWS.Unsubscribe(ctx, q, arn)) })
	return err
}

func (f faulty) DeleteQueue(ctx context.Context, q drill.Queue) error {
	_, err := around(f, "DeleteQueue", func() (any, error) { return none(f.AWS.DeleteQueue(ctx, q)) })
	return err
}

func (f faulty) Call(ctx context.Context, key credential.Key, c drill.Call, id string) (drill.CallResult, error) {
	return around(f, "call "+c.String(), func() (drill.CallResult, error) { return f.AWS.Call(ctx, key, c, id) })
}

// The crash suite: a drill is run once to learn its steps (every journal
// commit, every change in AWS before and after it takes effect, every
// detonated call), then killed at each; 'drill cleanup' must then leave
// no drill user listed and no scratch repository.
func TestDrillKilledAtEveryStepIsCleanedUp(t *testing.T) {
	// exposed-git: a kill while the leak step serves the .git/ too
	for _, sc := range []drill.Scenario{drill.Seed001, drill.ExposedGit} {
		t.Run(sc.Name, func(t *testing.T) { killAtEveryStep(t, sc, false) })
	}
	// --alerts sns:TOPIC: a kill around the queue's and the subscription's
	// creation and removal too (no alert comes: detect fails, the rest runs)
	t.Run("sns", func(t *testing.T) { killAtEveryStep(t, drill.Seed001, true) })
}

func killAtEveryStep(t *testing.T, sc drill.Scenario, topic bool) {
	newRig := func(t *testing.T) *rig {
		r := newRig(t)
		if topic {
			r.withTopic()
		}
		return r
	}
	r := newRig(t)
	learn := &fault.Script{}
	fault.Set(t, learn.Step)
	r.e.AWS = faulty{r.aws, learn}
	if _, err := r.runOf(sc); err != nil {
		t.Fatal(err)
	}
	fault.Set(t, nil)
	steps := learn.Steps()
	if len(steps) < 30 {
		t.Fatalf("only %d steps learnt: %v", len(steps), steps)
	}
	for n := 1; n <= len(steps); n++ {
		r := newRig(t)
		s := &fault.Script{N: n, Kill: true}
		fault.Set(t, s.Step)
		r.e.AWS = faulty{r.aws, s}
		killed, _ := fault.Run(func() error { _, err := r.runOf(sc); return err })
		fault.Set(t, nil)
		r.e.AWS = r.aws
		if !killed {
			t.Fatalf("step %d (%s) did not kill", n, steps[n-1])
		}
		open, done := "", 0 // the step journaled, and how many before cleanup passed
		if pre, err := r.e.History(context.Background()); err == nil && len(pre) == 1 {
			open = pre[0].Step
			for _, s := range pre[0].Steps {
				if s.Status == drill.Pass && s.Step != drill.StepCleanup {
					done++
				}
			}
		}
		d, err := r.e.Cleanup(context.Background(), "t1")
		if err != nil && !(n == 1 && errors.Is(err, drill.ErrNotFound)) {
			t.Fatalf("killed at step %d (%s), then cleanup: %v", n, steps[n-1], err)
		}
		// a drill a crash cut short of a step never passes
		if err == nil && done < 6 && d.Verdict() == "pass" {
			t.Errorf("killed at step %d (%s) during %s, cleaned up: verdict pass", n, steps[n-1], open)
		}
		r.nothingLeft()
		if n > 1 { // a second cleanup checks again and changes nothing
			again, err := r.e.Cleanup(context.Background(), "t1")
			if err != nil {
				t.Errorf("cleanup again: %v", err)
			} else if again.Step != drill.StepDone {
				t.Errorf("cleanup again: step %s", again.Step)
			}
		}
		if t.Failed() {
			t.Fatalf("after a kill at step %d (%s)", n, steps[n-1])
		}
	}
	t.Logf("killed at each of %d steps, then cleaned up", len(steps))
}

// TestDrillYAMLScenarioAndMotoSessions runs a user-defined scenario whose
// session, minted by GetSessionToken, makes a call before containment: it
// records what moto does with session credentials (docs/drill.md says it).
func TestDrillYAMLScenarioAndMotoSessions(t *testing.T) {
	r := newRig(t)
	file := filepath.Join(t.TempDir(), "mine.yaml")
	os.WriteFile(file, []byte(`name: session-probe
calls:
  - {service: sts, action: GetSessionToken}
  - {service: ses, action: GetSendQuota, session: true}
expect_alerts: [KW-CT-STS-SESSION-FROM-KEY]
`), 0o600)
	sc, err := drill.LoadScenario(file)
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.e.Run(context.Background(), drill.Options{ID: "t2", Account: r.acct, Scenario: sc, Source: r.logs})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Detonations) != 2 || d.Scenario.Name != "session-probe" {
		t.Fatalf("detonations %+v", d.Detonations)
	}
	s := d.Detonations[1]
	t.Logf("moto: a GetSessionToken session (%s) before containment: allowed %t %s", s.KeyID, s.Allowed, s.Error)
	r.nothingLeft()
}

// TestEveryBuiltinScenarioPassesOnMoto runs each built-in scenario whole:
// each leak found by scan, each expected alert raised, contained, reviewed,
// removed.
func TestEveryBuiltinScenarioPassesOnMoto(t *testing.T) {
	for _, sc := range drill.Builtin {
		t.Run(sc.Name, func(t *testing.T) {
			r := newRig(t)
			d, err := r.e.Run(context.Background(), drill.Options{ID: "b1", Account: r.acct, Scenario: sc, Source: r.logs})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range d.Steps {
				if s.Status != drill.Pass {
					t.Errorf("%s %s: %s", s.Step, s.Status, strings.Join(s.Evidence, "; "))
				}
			}
			t.Logf("%s: leak %s; TTD %s, %d AWS calls", sc.Name, d.Steps[1].Evidence, d.TTD(), d.Calls)
			r.nothingLeft()
		})
	}
}

// TestDrillWherePersistenceIsAllowedFailsAndCleansIt: on moto without
// authorization the drill policy holds nothing, as in an account whose
// boundary or SCP were changed: the detonation fails, and cleanup removes
// the user the persistence attempt created.
func TestDrillWherePersistenceIsAllowedFailsAndCleansIt(t *testing.T) {
	r := newRigOn(t, awstest.Moto(t))
	d, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	det := d.Steps[2]
	if det.Step != drill.StepDetonate || det.Status != drill.Fail ||
		!strings.Contains(strings.Join(det.Evidence, "\n"), "iam:CreateUser was allowed: the drill policy did not hold (cleanup removes keywarden-drill-t1-persist)") {
		t.Fatalf("detonate %s: %v", det.Status, det.Evidence)
	}
	keys, err := r.aws.ListKeys(context.Background(), drill.PersistUser("t1"))
	if err != nil || len(keys) != 0 {
		t.Errorf("persist user's keys left: %v (%v)", keys, err)
	}
	if err := r.aws.CreateUser(context.Background(), drill.PersistUser("t1"), "x"); err != nil {
		t.Errorf("the persist user is still there: %v", err)
	}
	r.aws.DeleteUser(context.Background(), drill.PersistUser("t1"))
	r.nothingLeft()
}

// TestExposedGitLeakFailsWhenTheServedRepositoryLacksTheKey: the leak step
// of a scenario that serves its .git/ passes only when keywarden scan --url
// finds the key through the served repository; one that serves another
// repository (the key not in it) fails the step, saying so, though the
// history scan found the key.
func TestExposedGitLeakFailsWhenTheServedRepositoryLacksTheKey(t *testing.T) {
	r := newRig(t)
	other := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=x", "-c", "user.email=x@x.invalid", "commit", "-q", "--allow-empty", "-m", "empty"}} {
		if out, err := exec.Command("git", append([]string{"-C", other}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	r.e.ServeGit = func(string) (*drill.Site, error) { return drill.ServeGit(other) }
	d, err := r.e.Run(context.Background(), drill.Options{ID: "g1", Account: r.acct, Scenario: drill.ExposedGit, Source: r.logs})
	if err != nil {
		t.Fatal(err)
	}
	leak := d.Steps[1]
	why := strings.Join(leak.Evidence, "\n")
	if leak.Step != drill.StepLeak || leak.Status != drill.Fail || !strings.Contains(why, "scan found "+d.KeyID) ||
		!strings.Contains(why, "keywarden scan --url did not find "+d.KeyID+" in the .git/ served at http://127.0.0.1:") {
		t.Fatalf("leak %s:\n%s", leak.Status, why)
	}
	r.nothingLeft()
}

// TestDrillContainedByWatchRespond: with watch's --respond RULE=contain the
// detect step's watch pipeline contains the drill key (respond --apply, as
// watch does) when RULE fires on it; the contain step checks it did and
// times containment from then. When nobody contains (no alert reached
// watch) the step fails saying so.
func TestDrillContainedByWatchRespond(t *testing.T) {
	for _, silent := range []bool{false, true} {
		r := newRig(t)
		r.silent = silent
		tr := r.e.Detect.(trail)
		tr.Watch.Respond, tr.Watch.Contain, tr.Watch.Out = map[string]bool{"KW-CT-SES-RECON": true}, r.watchResponder.Contain, io.Discard
		r.e.Detect = tr
		if err := tr.Watch.Check(); err != nil {
			t.Fatal(err)
		}
		d, err := r.e.Run(context.Background(), drill.Options{ID: "w1", Account: r.acct, Scenario: drill.Seed001, Source: r.logs,
			Contain: drill.ContainByWatch, Rules: []string{"KW-CT-SES-RECON"}})
		if err != nil {
			t.Fatal(err)
		}
		c := d.Steps[4]
		why := strings.Join(c.Evidence, "\n")
		if silent {
			if c.Status != drill.Fail || !strings.Contains(why, "nobody contained "+d.KeyID+": watch --respond contains on KW-CT-SES-RECON, and none of them fired on the key during the detect step") ||
				!strings.Contains(why, "the key still works: nobody shut it") || !d.Contained.IsZero() {
				t.Errorf("nobody contained: contain %s:\n%s", c.Status, why)
			}
		} else {
			detect := d.Steps[3]
			if c.Status != drill.Pass || !strings.Contains(why, "watch --respond contained "+d.KeyID) || !strings.Contains(why, "the key is refused") ||
				d.Incident == "" || d.Contained.Before(detect.Started) || d.Contained.After(detect.Ended) {
				t.Errorf("contain %s (contained %s, detect %s-%s):\n%s", c.Status, d.Contained, detect.Started, detect.Ended, why)
			}
			if !d.Passed() {
				t.Errorf("drill did not pass: %+v", d.Steps)
			}
		}
		r.nothingLeft()
	}
	w := drill.Watch{Respond: map[string]bool{"KW-NO-SUCH": true}, Now: time.Now}
	if err := w.Check(); err == nil || !strings.Contains(err.Error(), `--respond "KW-NO-SUCH=contain": unknown rule KW-NO-SUCH`) {
		t.Errorf("unknown rule: %v", err)
	}
}

// TestDrillContainedByTheTeamsWatch: with ContainByTeam the drill contains
// nothing itself: it waits until IAM lists the key Inactive, here when the
// team's watch (watch's pipeline with --respond, over the same trail) runs
// while the drill sleeps, and times containment from then; with no team
// watch the step fails after the wait, saying the key is still Active.
func TestDrillContainedByTheTeamsWatch(t *testing.T) {
	for _, team := range []bool{true, false} {
		r := newRig(t)
		ran := 0
		if team {
			r.clock.slept = func() {
				ran++
				p, err := watch.NewPipeline(watch.Config{Store: &detect.MemStore{}, Now: r.clock.Now})
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				if err := p.ContainOn(map[string]bool{"KW-CT-STS-SESSION-FROM-KEY": true}, r.watchResponder.Contain, io.Discard); err != nil {
					t.Fatal(err)
				}
				src := watch.NewSource(r.logs, watch.SourceEnv{Now: r.clock.Now})
				if _, err := p.Judge(context.Background(), func(ctx context.Context, sink cloudtrail.Sink) error {
					return src.Read(ctx, cloudtrail.Options{}, sink)
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		d, err := r.e.Run(context.Background(), drill.Options{ID: "m1", Account: r.acct, Scenario: drill.Seed001, Source: r.logs, Contain: drill.ContainByTeam})
		if err != nil {
			t.Fatal(err)
		}
		c := d.Steps[4]
		why := strings.Join(c.Evidence, "\n")
		if team {
			if c.Status != drill.Pass || ran != 1 || !strings.Contains(why, "the team's watch contained "+d.KeyID+": IAM lists it Inactive at ") ||
				!strings.Contains(why, "the key is refused") || d.Contained.Before(c.Started) || d.Contained.After(c.Ended) {
				t.Errorf("team watch ran %d times; contain %s:\n%s", ran, c.Status, why)
			}
		} else if c.Status != drill.Fail || d.TTC() != 0 ||
			!strings.Contains(why, "nobody contained "+d.KeyID+" within 10m0s: IAM still lists it Active (no watch --respond, Lambda or person of the team deactivated it)") {
			t.Errorf("nobody: contain %s, ttc %s:\n%s", c.Status, d.TTC(), why)
		}
		if d.Steps[5].Status != drill.Pass { // respond's review, without its --apply
			t.Errorf("team %t: review %s: %v\ncontain: %v", team, d.Steps[5].Status, d.Steps[5].Evidence, d.Steps[4].Evidence)
		}
		r.nothingLeft()
	}
}

// TestDrillTimelineBudgets: a scenario's expected timeline is checked on
// the injected clock: a step over its own deadline, or whose measure (time
// to detect) is over its budget, fails with measured against expected; the
// budgets met pass, and the report has the table.
func TestDrillTimelineBudgets(t *testing.T) {
	r := newRig(t)
	sc := drill.Seed001
	sc.Timeline = &drill.Timeline{Detect: 5 * time.Second, Contain: time.Hour, Recover: time.Hour,
		Steps: map[string]time.Duration{drill.StepDetonate: 2 * time.Second, drill.StepLeak: time.Hour}}
	d, err := r.e.Run(context.Background(), drill.Options{ID: "tl", Account: r.acct, Scenario: sc, Source: r.logs})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]drill.StepResult{}
	for _, s := range d.Steps {
		status[s.Step] = s
	}
	if s := status[drill.StepDetect]; s.Status != drill.Fail || !slices.Contains(s.Evidence, "time to detect "+d.TTD().String()+", over its budget of 5s (timeline detect)") {
		t.Errorf("detect %s: %v", s.Status, s.Evidence)
	}
	det := status[drill.StepDetonate]
	if took := det.Ended.Sub(det.Started); det.Status != drill.Fail || !slices.Contains(det.Evidence, "step detonate took "+took.String()+", over its budget of 2s (timeline steps.detonate)") {
		t.Errorf("detonate %s: %v", det.Status, det.Evidence)
	}
	for _, ok := range []string{drill.StepLeak, drill.StepContain, drill.StepCleanup} {
		if status[ok].Status != drill.Pass {
			t.Errorf("%s %s within its budget: %v", ok, status[ok].Status, status[ok].Evidence)
		}
	}
	md := drill.NewReport(d, nil).Markdown()
	for _, want := range []string{"## Expected timeline", "| time to detect | 5s | " + d.TTD().String() + " | over |", "| time to contain | 1h0m0s | " + d.TTC().String() + " | within |",
		"| step leak | 1h0m0s | ", "| step detonate | 2s | " + (det.Ended.Sub(det.Started)).String() + " | over |", "Containment: the drill (keywarden respond --apply)."} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	r.nothingLeft()
}

// TestDrillSeesTheTeamContainDuringDetect: with ContainByTeam the detect
// step's polls also list the key, so a key the team shut while the drill
// still waits for alerts is timed then, to within a poll, not when the
// contain step starts.
func TestDrillSeesTheTeamContainDuringDetect(t *testing.T) {
	r := newRig(t)
	r.silent = true // the alerts never come: detect waits its 10 minutes
	shut := time.Time{}
	r.clock.slept = func() {
		if !shut.IsZero() {
			return
		}
		keys, err := r.aws.ListKeys(context.Background(), drill.UserName("m2"))
		if err != nil || len(keys) != 1 {
			t.Fatalf("drill key: %v %v", keys, err)
		}
		if _, err := r.watchResponder.Contain(context.Background(), keys[0]); err != nil {
			t.Fatal(err)
		}
		shut = r.clock.t
	}
	d, err := r.e.Run(context.Background(), drill.Options{ID: "m2", Account: r.acct, Scenario: drill.Seed001, Source: r.logs, Contain: drill.ContainByTeam})
	if err != nil {
		t.Fatal(err)
	}
	detect, contain := d.Steps[3], d.Steps[4]
	if detect.Status != drill.Fail || contain.Status != drill.Pass || d.Contained.Before(shut) || d.Contained.After(shut.Add(time.Minute)) ||
		!d.Contained.Before(detect.Ended) || d.ContainedAs != "Inactive" {
		t.Errorf("shut at %s, seen %s (%s); detect %s ended %s; contain %s: %v", shut, d.Contained, d.ContainedAs, detect.Status, detect.Ended, contain.Status, contain.Evidence)
	}
	r.nothingLeft()
}

// TestDrillDetectedByTheTeamsWatchAlerts: with AlertLog the detect step
// runs no watch of its own: it reads the jsonl file the team's watch
// writes (watch's pipeline with a jsonl sink, run here while the drill
// sleeps, over the delivered trail) until the expected alerts are there,
// and times detection from then; with no team watch writing, the step
// fails saying the team's watch raised none.
func TestDrillDetectedByTheTeamsWatchAlerts(t *testing.T) {
	for _, team := range []bool{true, false} {
		r := newRig(t)
		file := filepath.Join(t.TempDir(), "alerts.jsonl")
		r.e.Detect = teamAlerts{r, drill.AlertLog{Path: file}}
		if team {
			r.clock.slept = func() {
				sink, err := watch.ParseSink("jsonl:"+file, watch.SinkEnv{})
				if err != nil {
					t.Fatal(err)
				}
				r.teamWatch(sink)
			}
		}
		d, err := r.e.Run(context.Background(), drill.Options{ID: "a1", Account: r.acct, Scenario: drill.Seed001, Source: r.logs, Alerts: file})
		if err != nil {
			t.Fatal(err)
		}
		det := d.Steps[3]
		why := strings.Join(det.Evidence, "\n")
		if team {
			if det.Status != drill.Pass || !d.Passed() || d.FirstAlert.Before(det.Started.Add(time.Minute)) {
				t.Errorf("detect %s (first alert %s, step from %s):\n%s", det.Status, d.FirstAlert, det.Started, why)
			}
		} else if det.Status != drill.Fail || !strings.Contains(why, "no alert on key "+d.KeyID+" in "+file+": the team's watch raised none") {
			t.Errorf("nobody: detect %s:\n%s", det.Status, why)
		}
		if md := drill.NewReport(d, nil).Markdown(); !strings.Contains(md, ", alerts read from the team's watch in "+file+".") {
			t.Errorf("report lacks the alerts file:\n%s", md)
		}
		r.nothingLeft()
	}
}

// teamAlerts delivers the trail (the team's watch reads it) before the
// drill reads the team's alerts.
type teamAlerts struct {
	r *rig
	drill.AlertLog
}

func (ta teamAlerts) Alerts(ctx context.Context, d *drill.Drill) ([]detect.Alert, error) {
	ta.r.deliver(d)
	return ta.AlertLog.Alerts(ctx, d)
}

// TestDrillDetectedThroughTheTeamsSNSTopic: with --alerts sns:TOPIC the
// drill subscribes a queue of its own to the topic the team's watch
// publishes to; here watch's pipeline with its sns: sink (watchaws's
// publisher), run while the drill sleeps over the delivered trail, is the
// team's watch. Detect passes on the alerts the queue received, and the
// time to notify is measured from SNS's delivery Timestamp; cleanup leaves
// no queue and no subscription. A topic nothing publishes to fails detect,
// saying so, and the time to notify is not measured.
func TestDrillDetectedThroughTheTeamsSNSTopic(t *testing.T) {
	for _, team := range []bool{true, false} {
		r := newRig(t)
		r.withTopic()
		var warned []string
		r.e.Detect.(*drill.TopicAlerts).Warn = func(err error) { warned = append(warned, err.Error()) }
		// SNS stamps deliveries with AWS's clock: the drill's starts just before it
		r.clock.t = time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
		published := false
		if team {
			r.clock.slept = func() {
				if published {
					return
				}
				published = true
				d, err := r.e.History(context.Background())
				if err != nil || len(d) != 1 {
					t.Fatalf("drill: %v", err)
				}
				r.deliver(d[0])
				// another publisher's message on the team's topic: skipped, its body never shown
				if err := watchaws.SNSPublisher(r.cfg)(r.topic).Publish(context.Background(), watch.Message{Subject: "other", Body: "body-not-to-show"}); err != nil {
					t.Fatal(err)
				}
				sink, err := watch.ParseSink("sns:"+r.topic, watch.SinkEnv{SNS: watchaws.SNSPublisher(r.cfg)})
				if err != nil {
					t.Fatal(err)
				}
				r.teamWatch(sink)
			}
		}
		d, err := r.runOf(drill.Seed001)
		if err != nil {
			t.Fatal(err)
		}
		det := d.Steps[3]
		why := strings.Join(det.Evidence, "\n")
		md := drill.NewReport(d, nil).Markdown()
		if team {
			if det.Status != drill.Pass || !d.Passed() || d.TTN() <= 0 || d.NotNotified() != "" || !strings.Contains(md, "| time to notify | "+d.TTN().Round(time.Millisecond).String()+" | - |") {
				t.Errorf("detect %s, TTN %s (%s):\n%s\n%s", det.Status, d.TTN(), d.NotNotified(), why, md)
			}
			if len(warned) != 1 || !strings.Contains(warned[0], "skipped: not an alert of watch's sns sink") || strings.Contains(warned[0], "body-not-to-show") {
				t.Errorf("warnings: %q", warned)
			}
			if create := strings.Join(d.Steps[0].Evidence, "\n"); !strings.Contains(create, "queue keywarden-drill-t1 tagged keywarden-drill=t1, subscribed to "+r.topic+" (arn:") {
				t.Errorf("create:\n%s", create)
			}
		} else if det.Status != drill.Fail || !strings.Contains(why, "no alert on key "+d.KeyID+" reached "+r.topic+": the team's watch published none") ||
			!strings.Contains(md, "| time to notify | not measured: no expected alert was seen | - |") {
			t.Errorf("nobody: detect %s:\n%s\n%s", det.Status, why, md)
		}
		if cleanup := strings.Join(d.Steps[len(d.Steps)-1].Evidence, "\n"); !strings.Contains(cleanup, "queue keywarden-drill-t1 and its subscription to "+r.topic+" removed; neither listed") {
			t.Errorf("cleanup:\n%s", cleanup)
		}
		t.Logf("team %t: TTD %s, TTN %s, %d AWS calls", team, d.TTD(), d.TTN(), d.Calls)
		r.nothingLeft()
	}
}

// TestDrillOnATopicThatIsGoneStopsBeforeAnyIAMChange: the queue and its
// subscription come first, so a topic that cannot be subscribed to stops
// the drill in one plain line with no drill user made, and the queue made
// for it removed.
func TestDrillOnATopicThatIsGoneStopsBeforeAnyIAMChange(t *testing.T) {
	r := newRig(t)
	r.withTopic()
	if _, err := sns.NewFromConfig(r.cfg).DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: aws.String(r.topic)}); err != nil {
		t.Fatal(err)
	}
	d, err := r.run()
	if err == nil || err.Error() != "sns subscribe keywarden-drill-t1 to "+r.topic+": NotFound: Topic does not exist" {
		t.Fatalf("err %v", err)
	}
	if len(d.Steps) != 2 || d.Steps[0].Status != drill.Skipped || d.Steps[1].Step != drill.StepCleanup || d.Steps[1].Status != drill.Pass {
		t.Errorf("steps %+v", d.Steps)
	}
	r.topic = "" // gone: nothing to list subscriptions of
	r.nothingLeft()
	queues, err := sqs.NewFromConfig(r.cfg).ListQueues(context.Background(), &sqs.ListQueuesInput{QueueNamePrefix: aws.String(drill.UserPrefix)})
	if err != nil || len(queues.QueueUrls) > 0 {
		t.Errorf("queues left: %v (%v)", queues.QueueUrls, err)
	}
}

// teamWatch is the team's own watch over the rig's logs, once, its alerts
// sent to sink.
func (r *rig) teamWatch(sink watch.Sink) {
	r.t.Helper()
	p, err := watch.NewPipeline(watch.Config{Store: &detect.MemStore{}, Now: r.clock.Now})
	if err != nil {
		r.t.Fatal(err)
	}
	defer p.Close()
	p.Sinks = []watch.Sink{sink}
	src := watch.NewSource(r.logs, watch.SourceEnv{Now: r.clock.Now})
	if _, err := p.Judge(context.Background(), func(ctx context.Context, s cloudtrail.Sink) error { return src.Read(ctx, cloudtrail.Options{}, s) }); err != nil {
		r.t.Fatal(err)
	}
}

// slowSource is a watch source whose every read takes 25 s of the clock
// (an SNS long poll, a big S3 prefix) and finds nothing.
type slowSource struct{ c *clock }

func (s slowSource) Alerts(context.Context, *drill.Drill) ([]detect.Alert, error) {
	s.c.t = s.c.t.Add(25 * time.Second)
	return nil, nil
}

// TestDetectPollsStartEveryPoll: a read that took 25 s of a one-minute
// poll is not waited again: the detect step's sleeps are what remains of
// each minute, so a slow source is not asked less often than --poll says.
func TestDetectPollsStartEveryPoll(t *testing.T) {
	r := newRig(t)
	r.e.Detect, r.e.Wait = slowSource{r.clock}, 3*time.Minute
	if _, err := r.runOf(drill.Seed001); err != nil {
		t.Fatal(err)
	}
	var detectSleeps int
	for _, d := range r.clock.sleeps {
		if d >= time.Minute-25*time.Second {
			t.Errorf("slept %s after a 25 s read, want at most %s", d, time.Minute-25*time.Second)
		}
		if d > 0 {
			detectSleeps++
		}
	}
	if detectSleeps < 2 {
		t.Errorf("sleeps %v: want the detect step's polls", r.clock.sleeps)
	}
	r.nothingLeft()
}
