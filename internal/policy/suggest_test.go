package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/iampolicy"
)

// realistic is a day of a deploy user's work: objects in two buckets
// (many siblings under one prefix), Lambda with its dated event names,
// an instance started with a profile, a secret, a denied call and one the
// IAM data does not know.
func realistic(t testing.TB) []cloudtrail.Event {
	var out []cloudtrail.Event
	add := func(source, name, req string, extra ...string) {
		e := event(t, source, name, req, extra...)
		e.EventTime = time.Date(2026, 11, 2, 10, 0, len(out), 0, time.UTC)
		out = append(out, e)
	}
	for i := range 25 { // more than the threshold: logs/2026-11/* is granted
		add("s3.amazonaws.com", "GetObject", fmt.Sprintf(`{"bucketName":"app-logs","key":"logs/2026-11/part-%03d.gz"}`, i))
	}
	add("s3.amazonaws.com", "ListObjectsV2", `{"bucketName":"app-logs","prefix":"logs/"}`)
	add("s3.amazonaws.com", "PutObject", `{"bucketName":"app-artifacts","key":"builds/app-1.4.2.zip"}`)
	add("s3.amazonaws.com", "HeadObject", `{"bucketName":"app-artifacts","key":"builds/app-1.4.2.zip"}`)
	add("lambda.amazonaws.com", "CreateFunction20150331", `{"functionName":"resize","role":"arn:aws:iam::111122223333:role/lambda-exec"}`)
	add("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", `{"functionName":"resize","publish":true}`)
	add("lambda.amazonaws.com", "GetFunction20150331v2", `{"functionName":"resize"}`)
	add("ec2.amazonaws.com", "RunInstances", `{"instancesSet":{"items":[{"imageId":"ami-0abc"}]},"iamInstanceProfile":{"name":"web"},"subnetId":"subnet-1","keyName":"ops"}`)
	add("ec2.amazonaws.com", "StopInstances", `{"instancesSet":{"items":[{"instanceId":"i-0a"}]}}`)
	add("secretsmanager.amazonaws.com", "GetSecretValue", `{"secretId":"prod/db"}`)
	add("sts.amazonaws.com", "GetCallerIdentity", ``)
	add("iam.amazonaws.com", "CreateUser", `{"userName":"mallory"}`, `,"errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:CreateUser"`)
	add("s3.amazonaws.com", "FrobnicateBucket", `{"bucketName":"app-logs"}`)
	return out
}

func suggestOf(t testing.TB, events []cloudtrail.Event, opts Options) Suggestion {
	t.Helper()
	o, err := NewObserved(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		o.Add(e)
	}
	s, err := o.Suggest(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func effectiveOf(t testing.TB, doc string) iampolicy.Effective {
	t.Helper()
	e, err := iampolicy.Resolve(iampolicy.PolicySet{Inline: []iampolicy.InlinePolicy{{Name: "p", Document: doc}}}, iampolicy.Catalog{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSuggestedPolicyAllowsEveryObservedCall checks, with iampolicy's own
// matching, that the policy allows each successful call on each resource
// it touched, refuses the denied one, and is scoped.
func TestSuggestedPolicyAllowsEveryObservedCall(t *testing.T) {
	events := realistic(t)
	s := suggestOf(t, events, Options{Principal: Principal{Type: "user", Name: "alice"}})
	eff := effectiveOf(t, string(s.Policy))
	o, _ := NewObserved(0)
	for _, e := range events {
		for _, n := range o.needs(e) {
			for _, r := range n.resources {
				concrete := strings.ReplaceAll(strings.ReplaceAll(r, "*", "x"), "?", "x")
				allowed := iampolicy.AllowsCertainly(eff, n.action, concrete)
				if Denied(e) && allowed {
					t.Errorf("denied call %s on %s is granted", n.action, concrete)
				}
				if !Denied(e) && !allowed {
					t.Errorf("observed call %s on %s is not allowed by\n%s", n.action, concrete, s.Policy)
				}
			}
		}
	}
	if iampolicy.AllowsCertainly(eff, "s3:GetObject", "arn:aws:s3:::app-logs/other/x") {
		t.Error("objects outside the generalised prefix are granted")
	}
	if iampolicy.AllowsCertainly(eff, "s3:DeleteObject", "arn:aws:s3:::app-logs/logs/2026-11/part-001.gz") {
		t.Error("an action never used is granted")
	}
	want := []string{`"arn:aws:s3:::app-logs/logs/2026-11/*"`, `"iam:PassRole"`, `"lambda:CreateFunction"`, `"Sid":"S3Access1"`}
	for _, w := range want {
		if !bytes.Contains(s.Policy, []byte(w)) {
			t.Errorf("policy lacks %s:\n%s", w, s.Policy)
		}
	}
	if len(s.Denied) != 1 || s.Denied[0].Action != "iam:CreateUser" || s.Denied[0].Denied != 1 {
		t.Errorf("denied = %+v, want iam:CreateUser once", s.Denied)
	}
	if len(s.Unmapped) != 1 || s.Unmapped[0].EventName != "FrobnicateBucket" {
		t.Errorf("unmapped = %+v", s.Unmapped)
	}
	for _, a := range s.Actions {
		if a.Action == "sts:GetCallerIdentity" {
			t.Error("GetCallerIdentity needs no grant")
		}
		if a.Action == "iam:PassRole" && a.Needed == "" {
			t.Error("PassRole does not say which call needed it")
		}
	}
	t.Logf("%s", s.Policy)
	t.Logf("scoped share %.2f, %d statements, %d characters", s.Scoped, strings.Count(string(s.Policy), `"Sid"`), len(s.Policy))
	if s.Scoped < 0.5 {
		t.Errorf("scoped share %.2f", s.Scoped)
	}
}

// TestSuggestionDoesNotDependOnEventOrder: any order of the same events
// gives byte-identical output.
func TestSuggestionDoesNotDependOnEventOrder(t *testing.T) {
	events := realistic(t)
	want, _ := json.Marshal(suggestOf(t, events, Options{}))
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(events)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, _ := json.Marshal(suggestOf(t, shuffled, Options{}))
		if !bytes.Equal(got, want) {
			t.Fatalf("order changed the suggestion:\n%s\nvs\n%s", got, want)
		}
	}
}

func TestGeneraliseOnlyAboveTheThreshold(t *testing.T) {
	var rs []string
	for i := range 3 {
		rs = append(rs, fmt.Sprintf("arn:aws:s3:::b/p/%d", i))
	}
	if got := generalise(rs, 3); !slices.Equal(got, rs) {
		t.Errorf("3 siblings at threshold 3: %v", got)
	}
	if got := generalise(rs, 2); !slices.Equal(got, []string{"arn:aws:s3:::b/p/*"}) {
		t.Errorf("3 siblings at threshold 2: %v", got)
	}
	// Two levels: many dirs each with many files become the parent's wildcard.
	rs = nil
	for d := range 4 {
		for f := range 4 {
			rs = append(rs, fmt.Sprintf("arn:aws:s3:::b/p/%d/%d", d, f))
		}
	}
	rs = append(rs, "arn:aws:s3:::b/q")
	if got := generalise(rs, 3); !slices.Equal(got, []string{"arn:aws:s3:::b/p/*", "arn:aws:s3:::b/q"}) {
		t.Errorf("nested: %v", got)
	}
	// Never wider than the resource type: buckets and roles without a path stay.
	roles := []string{"arn:aws:lambda:us-east-1:1:function:a", "arn:aws:lambda:us-east-1:1:function:b", "arn:aws:lambda:us-east-1:1:function:c"}
	if got := generalise(roles, 1); !slices.Equal(got, roles) {
		t.Errorf("functions: %v", got)
	}
}

func TestUnusedRights(t *testing.T) {
	cur := effectiveOf(t, `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":["s3:*","iam:PassRole","iam:CreateAccessKey","ses:SendEmail"],"Resource":"*"}]}`)
	events := []cloudtrail.Event{
		event(t, "s3.amazonaws.com", "GetObject", `{"bucketName":"data","key":"a"}`),
		event(t, "email.amazonaws.com", "SendEmail", `{}`),
	}
	s := suggestOf(t, events, Options{Current: &cur})
	got := map[string]Unused{}
	for _, u := range s.Unused {
		if u.Class == "" {
			got[u.Action] = u
		} else {
			got["class "+u.Class] = u
		}
	}
	if u, ok := got["s3:*"]; !ok || u.Used != 1 || u.Count < 100 {
		t.Errorf("s3 = %+v, want most of s3 unused, 1 used", u)
	}
	if u, ok := got["iam:*"]; !ok || u.Count != 2 || u.Used != 0 {
		t.Errorf("iam = %+v, want 2 unused", u)
	}
	for _, class := range []string{"iam:PassRole", "iam:CreateAccessKey"} {
		if u := got["class "+class]; u.Class != class {
			t.Errorf("dangerous class %s not reported unused: %+v", class, s.Unused)
		}
	}
	if _, ok := got["class ses:SendEmail"]; ok {
		t.Error("ses:SendEmail was used, and the suggestion keeps it")
	}
	if _, ok := got["class s3:*"]; !ok {
		t.Error("s3:* (objects of every bucket) is granted now and not by the suggestion")
	}
}

// TestResourceSetIsGeneraliseInAnyOrder: generalising as resources come
// gives what generalising the whole set gives, whatever the order.
func TestResourceSetIsGeneraliseInAnyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var rs []string
		for range r.IntN(60) {
			rs = append(rs, fmt.Sprintf("arn:aws:s3:::b%d/d%d/e%d/f%d", r.IntN(2), r.IntN(4), r.IntN(4), r.IntN(6)))
		}
		threshold := 1 + r.IntN(4)
		set := newResourceSet(threshold)
		for _, x := range rs {
			set.add(x)
		}
		if got, want := set.list(), generalise(rs, threshold); !slices.Equal(got, want) {
			t.Fatalf("round %d, threshold %d:\nonline  %v\noffline %v", round, threshold, got, want)
		}
	}
}
