package drill

// The plan: an account's incident-response plan, from audit's judgement.

import (
	"cmp"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/severity"
)

// The audit checks whose findings name the keys of the plan: a key whose
// holder is an administrator or holds dangerous rights. The plan reuses
// their verdicts (iampolicy's, through audit) and never judges rights itself.
const (
	checkAdminKey     = "KW-KEY-ADMIN"
	checkDangerousKey = "KW-KEY-DANGEROUS"
	checkTrail        = "KW-CT-MULTI-REGION"
	checkRootKey      = "KW-ROOT-KEY"
)

// NoOwner is what the plan says of a key whose user has no owner tag.
const NoOwner = "no owner"

// Facts are what the plan knows besides the account: where watch sends
// alerts, what the state database holds, and how the responder runs
// keywarden (so that the commands written run as given).
type Facts struct {
	Sinks []string // watch's --sink specs, valid ones (watch.ParseSink)
	// StateRead says a state database was read; without one, canaries and
	// drills are counted as none.
	StateRead bool
	Canaries  int // canaries registered (canary.Registry)
	Drills    int // state records of kind "drill"
	// Profile and Region are given to every respond command when set.
	Profile, Region string
}

// Plan is an account's incident-response plan: who to call for which key,
// who gets the alerts, the commands of each step, and what is not covered.
type Plan struct {
	AccountID   string      `json:"account_id"`
	GeneratedAt time.Time   `json:"generated_at"`
	Keys        []KeyPlan   `json:"keys"`
	Sinks       []Sink      `json:"sinks"`
	Uncovered   []Uncovered `json:"not_covered"`
	// Incomplete names what could not be read: a key or a trail there is
	// unknown, not absent.
	Incomplete []Gap `json:"incomplete"`
}

// KeyPlan is one high-blast-radius key, ranked worst first.
type KeyPlan struct {
	KeyID     string         `json:"key_id"`
	User      string         `json:"user"`
	UserARN   string         `json:"user_arn"`
	Owner     string         `json:"owner"`               // NoOwner when no tag names one
	OwnerTag  string         `json:"owner_tag,omitempty"` // the tag the owner was read from
	Severity  severity.Level `json:"severity"`
	Check     string         `json:"check"` // the audit finding that names the key
	Why       string         `json:"why"`   // the finding's title
	Admin     bool           `json:"admin"`
	Dangerous []string       `json:"dangerous,omitempty"`
	Created   string         `json:"created"`   // RFC 3339 date, or never/unknown
	AgeDays   int            `json:"age_days"`  // -1 when the creation date is unknown
	LastUsed  string         `json:"last_used"` // RFC 3339 date, or never/unknown
	Steps     []Step         `json:"steps"`
	lastUsed  time.Time      // zero: never used, or unknown
}

// Step is one step of the practice for one key: the command to run, and
// what it does.
type Step struct {
	Name    string `json:"name"`
	Command string `json:"command,omitempty"` // empty: nothing to run (Note says why)
	Note    string `json:"note"`
}

// Sink is where watch sends alerts, said without its credential (a
// webhook's path).
type Sink struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
}

// Uncovered is one thing the plan cannot count on, and how to cover it.
type Uncovered struct {
	What string `json:"what"`
	Fix  string `json:"fix"`
}

// Gap is something that could not be read.
type Gap struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// The steps of the five-step practice a plan writes, in order (a drill run's
// own steps are the Step constants of drill.go).
const (
	PracticeIdentify   = "identify"
	PracticeInvalidate = "invalidate"
	PracticeRevoke     = "revoke temporary credentials"
	PracticeRestore    = "restore access"
	PracticeReview     = "review"
)

// NewPlan writes the plan of the judged audit res (one account) with facts,
// at now.
func NewPlan(res audit.Result, facts Facts, now time.Time) Plan {
	p := Plan{GeneratedAt: now.UTC(), Keys: []KeyPlan{}, Sinks: []Sink{}, Uncovered: []Uncovered{}, Incomplete: []Gap{}}
	for _, g := range res.Incomplete {
		p.Incomplete = append(p.Incomplete, Gap{Source: g.Source, Reason: g.Reason})
	}
	var inv audit.Inventory
	if len(res.Inventories) > 0 {
		inv = res.Inventories[0]
		p.AccountID = inv.AccountID
	}
	p.Keys = rankKeys(inv, res.Findings, res.AsOf, facts)
	for _, s := range facts.Sinks {
		p.Sinks = append(p.Sinks, SinkOf(s))
	}
	p.Uncovered = uncovered(inv, res.Findings, p, facts)
	return p
}

// NewPlans is a plan per account of an organization's audit (--org): each
// inventory's, with its own findings and gaps, then one for each account
// that could not be read at all (only its gap), in the audit's order.
func NewPlans(res audit.Result, facts Facts, now time.Time) []Plan {
	var plans []Plan
	read := map[string]bool{}
	for _, inv := range res.Inventories {
		read[inv.AccountID] = true
		one := audit.Result{Inventories: []audit.Inventory{inv}, AsOf: res.AsOf, Accounts: 1}
		for _, f := range res.Findings {
			if f.AccountID == inv.AccountID {
				one.Findings = append(one.Findings, f)
			}
		}
		for _, g := range res.Incomplete {
			if g.Account == inv.AccountID {
				one.Incomplete = append(one.Incomplete, g)
			}
		}
		plans = append(plans, NewPlan(one, facts, now))
	}
	for _, g := range res.Incomplete {
		if !read[g.Account] {
			read[g.Account] = true
			p := NewPlan(audit.Result{Incomplete: []audit.Gap{g}, AsOf: res.AsOf}, facts, now)
			p.AccountID = g.Account
			plans = append(plans, p)
		}
	}
	return plans
}

// rankKeys lists the keys audit found held by an administrator or by a
// holder of dangerous rights, worst first: severity (an administrator
// without MFA first), then the number of dangerous rights, then age, oldest
// first, then last use, most recent first (a key in use is one a thief can
// hide behind), then the key id.
func rankKeys(inv audit.Inventory, findings []audit.Finding, asOf time.Time, facts Facts) []KeyPlan {
	keys, seen := []KeyPlan{}, map[string]bool{}
	for _, f := range findings { // worst first: a key's first finding is the one that counts
		if f.Check != checkAdminKey && f.Check != checkDangerousKey || seen[f.KeyID] {
			continue
		}
		seen[f.KeyID] = true
		u, k, ok := userKey(inv, f)
		if !ok {
			continue
		}
		kp := KeyPlan{KeyID: k.ID, User: u.Name, UserARN: u.ARN, Severity: f.Severity, Check: f.Check, Why: f.Title,
			Admin: u.Admin == audit.Yes, Dangerous: slices.Compact(slices.Sorted(slices.Values(u.Dangerous))),
			Created: dateText(k.Created), AgeDays: -1, LastUsed: dateText(k.LastUsed)}
		if k.LastUsed.Known() {
			kp.lastUsed = k.LastUsed.Time
		}
		if k.Created.Known() {
			kp.AgeDays = max(0, int(asOf.Sub(k.Created.Time)/(24*time.Hour)))
		}
		kp.OwnerTag, kp.Owner = owner(u.Tags)
		kp.Steps = steps(kp, u, inv, facts)
		keys = append(keys, kp)
	}
	slices.SortStableFunc(keys, func(a, b KeyPlan) int {
		return cmp.Or(-cmp.Compare(a.Severity, b.Severity), -cmp.Compare(len(a.Dangerous), len(b.Dangerous)),
			-cmp.Compare(a.AgeDays, b.AgeDays), b.lastUsed.Compare(a.lastUsed), cmp.Compare(a.KeyID, b.KeyID))
	})
	return keys
}

// userKey finds the user and key a finding is about; a key known by its
// credential-report slot only cannot be named to respond and is left out.
func userKey(inv audit.Inventory, f audit.Finding) (audit.User, audit.Key, bool) {
	if f.KeyID == "" {
		return audit.User{}, audit.Key{}, false
	}
	for _, u := range inv.Users {
		if u.ARN != f.Resource {
			continue
		}
		for _, k := range u.Keys {
			if k.ID == f.KeyID {
				return u, k, true
			}
		}
	}
	return audit.User{}, audit.Key{}, false
}

func dateText(d audit.Date) string {
	if d.Known() {
		return d.Time.UTC().Format(time.DateOnly)
	}
	return d.String()
}

// ownerTags are the tag keys that name a key's owner, most specific first.
var ownerTags = []string{"owner", "team", "email", "contact", "maintainer"}

var emailLike = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// owner reads a user's owner from its tags: the first of ownerTags (any
// case), else a tag whose value is an email address; NoOwner otherwise.
func owner(tags map[string]string) (tag, who string) {
	names := slices.Sorted(maps.Keys(tags))
	for _, want := range ownerTags {
		for _, k := range names {
			if strings.EqualFold(k, want) && strings.TrimSpace(tags[k]) != "" {
				return k, tags[k]
			}
		}
	}
	for _, k := range names {
		if emailLike.MatchString(tags[k]) {
			return k, tags[k]
		}
	}
	return "", NoOwner
}

// steps are the respond commands of the five steps for one key. respond
// plans without --apply, so identify changes nothing; --apply deactivates
// the key and denies the sessions minted before it in one run; the review
// reads CloudTrail (LookupEvents, and the trail's bucket when one is known).
func steps(kp KeyPlan, u audit.User, inv audit.Inventory, facts Facts) []Step {
	base := "keywarden respond " + kp.KeyID + globalFlags(facts)
	apply := base + " --apply --no-lookup"
	var extra []string
	if kp.Admin {
		extra = append(extra, "--quarantine")
	}
	if u.Password == audit.Yes {
		extra = append(extra, "--disable-console")
	}
	if len(extra) > 0 {
		apply += " " + strings.Join(extra, " ")
	}
	contain := "deactivates the key, never deletes it (on a false alarm, keywarden respond undo brings it back)"
	if kp.Admin {
		contain += "; --quarantine attaches AWS's compromised-key quarantine policy to " + kp.User
	}
	if u.Password == audit.Yes {
		contain += "; --disable-console deletes " + kp.User + "'s console password"
	}
	review := base + " --since 30d --format html -o incident-" + kp.KeyID + ".html"
	reviewNote := "what the key did in the last 30 days, from CloudTrail LookupEvents in every enabled region: red flags, and every resource it created with the command that removes it"
	if b := trailBucket(inv); b != "" {
		review = base + " --since 90d --logs s3://" + b + "/AWSLogs/ --format html -o incident-" + kp.KeyID + ".html"
		reviewNote = "what the key did in the last 90 days, from LookupEvents and the trail's log files in s3://" + b + ": red flags, and every resource it created with the command that removes it"
	}
	return []Step{
		{Name: PracticeIdentify, Command: base + " --no-lookup",
			Note: "confirms the owner (" + kp.User + "), the account, the key's status and last use, and the holder's rights; changes nothing"},
		{Name: PracticeInvalidate, Command: apply, Note: contain},
		{Name: PracticeRevoke, Note: "done by the invalidate command: it denies every session minted with the key before it ran (an inline policy on aws:TokenIssueTime, on " + kp.User + ")"},
		{Name: PracticeRestore, Command: base + " --apply --no-lookup --replace-to TARGET",
			Note: "a new key for " + kp.User + ", delivered where its workload reads it (TARGET: one of rotate's targets, e.g. secretsmanager:NAME); the exposed key stays inactive"},
		{Name: PracticeReview, Command: review, Note: reviewNote},
	}
}

// globalFlags are the respond flags that say which credentials to use.
func globalFlags(f Facts) string {
	var s string
	if f.Profile != "" {
		s += " --profile " + shellQuote(f.Profile)
	}
	if f.Region != "" {
		s += " --region " + shellQuote(f.Region)
	}
	return s
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9._/:@+=-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// trailBucket is the bucket of the first multi-region trail, else of the
// first trail; "" without one.
func trailBucket(inv audit.Inventory) string {
	for _, t := range inv.Trails {
		if t.MultiRegion && t.Bucket != "" {
			return t.Bucket
		}
	}
	for _, t := range inv.Trails {
		if t.Bucket != "" {
			return t.Bucket
		}
	}
	return ""
}

// SinkOf says where a --sink spec sends alerts without what a URL's path
// or query may hold (Slack's and many webhooks' credential).
func SinkOf(spec string) Sink {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "text", "jsonl":
		if arg == "" {
			return Sink{Kind: kind, Target: "standard output of keywarden watch"}
		}
		return Sink{Kind: kind, Target: arg}
	case "webhook", "slack":
		u, err := url.Parse(arg)
		if err != nil || u.Host == "" {
			return Sink{Kind: kind, Target: "(unreadable URL)"}
		}
		return Sink{Kind: kind, Target: u.Scheme + "://" + u.Host + "/…"}
	}
	return Sink{Kind: kind, Target: arg}
}

// uncovered lists what the plan cannot count on: the trail, the alerts,
// the owners, canaries, drills, and a root key respond cannot contain.
func uncovered(inv audit.Inventory, findings []audit.Finding, p Plan, facts Facts) []Uncovered {
	out := []Uncovered{}
	for _, f := range findings {
		unknown := f.Evidence["verdict"] == "unknown"
		switch {
		case f.Check == checkTrail && unknown:
			out = append(out, Uncovered{What: "whether a multi-region trail logs management events could not be read",
				Fix: "run the plan with the read-only IAM actions of docs/iam.md"})
		case f.Check == checkTrail:
			out = append(out, Uncovered{What: "no multi-region CloudTrail trail logs read and write management events: a leaked key's calls in an unwatched region leave no record",
				Fix: f.Remediation})
		case f.Check == checkRootKey && !unknown:
			out = append(out, Uncovered{What: "the root user has an access key: respond cannot contain it (IAM policies do not bind root)",
				Fix: "delete it as root: IAM console, Security credentials, Access keys"})
		}
	}
	if missing := regionsWithoutTrail(inv); len(missing) > 0 {
		out = append(out, Uncovered{What: "no trail logs " + strings.Join(missing, ", "),
			Fix: "make a trail multi-region (`aws cloudtrail update-trail --name NAME --is-multi-region-trail`)"})
	}
	if len(p.Sinks) == 0 {
		out = append(out, Uncovered{What: "no sink configured: watch's alerts reach nobody but its standard output",
			Fix: "run watch with --sink slack:URL, webhook:URL or sns:TOPIC_ARN (or deploy it with `keywarden lambda`), and give the plan the same --sink"})
	}
	for _, k := range p.Keys {
		if k.Owner == NoOwner {
			out = append(out, Uncovered{What: "key " + k.KeyID + " of " + k.User + " has no owner: nobody to call when it leaks",
				Fix: "tag the user: `aws iam tag-user --user-name " + shellQuote(k.User) + " --tags Key=owner,Value=EMAIL`"})
		}
	}
	if facts.Canaries == 0 {
		what := "no canary key planted: a thief testing stolen keys goes unnoticed"
		if !facts.StateRead {
			what += " (there is no state database, where canaries and drills are recorded)"
		}
		out = append(out, Uncovered{What: what,
			Fix: "plant one where keys leak (`keywarden canary create NAME`) and watch it"})
	}
	if facts.Drills == 0 {
		out = append(out, Uncovered{What: "no drill ever run: this plan has not been tested",
			Fix: "run one with a harmless key: `keywarden drill run` (docs/drill.md)"})
	}
	return out
}

// regionsWithoutTrail are the regions read that no trail logs, when the
// trails were read and none is multi-region (a multi-region trail covers
// every region: KW-CT-MULTI-REGION judges whether it logs all it should).
func regionsWithoutTrail(inv audit.Inventory) []string {
	if !inv.TrailsRead || len(inv.Trails) == 0 {
		return nil // no trail at all is KW-CT-MULTI-REGION's finding
	}
	covered := map[string]bool{}
	for _, t := range inv.Trails {
		if t.MultiRegion {
			return nil
		}
		covered[t.HomeRegion] = true
	}
	var missing []string
	for _, r := range inv.Regions {
		if !covered[r] {
			missing = append(missing, r)
		}
	}
	return missing
}
