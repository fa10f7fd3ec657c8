package canary

import (
	"fmt"
	"math/rand/v2"
	"regexp"
)

// Identity is the IAM user a canary is, and its deny-all inline policy. Each
// is visible to whoever probes the key (the user ARN is in every AccessDenied
// message, including those of calls CloudTrail does not log), so each must
// read like the rest of an ordinary account.
type Identity struct {
	User   string
	Path   string
	Policy string
}

// words are the parts of service names an account's users commonly carry.
var words = []string{
	"billing", "reports", "backup", "ingest", "metrics", "assets", "search", "orders", "payments", "ledger",
	"export", "sync", "etl", "images", "mailer", "invoices", "catalog", "uploads", "analytics", "archive",
}

var firstNames = []string{
	"james", "maria", "david", "anna", "michael", "laura", "daniel", "sarah", "thomas", "emma", "peter", "julia",
	"robert", "nina", "martin", "claire",
}

var lastNames = []string{
	"miller", "garcia", "walker", "fischer", "novak", "martin", "kowalski", "jensen", "moreau", "silva", "brennan",
	"larsen", "keller", "romano", "dubois", "hansen",
}

// template builds one kind of ordinary identity from a random source.
type template func(r *rand.Rand) Identity

// templates are the kinds of users real accounts hold: a service account, a
// CI deployer, a person.
var templates = []template{
	func(r *rand.Rand) Identity { // svc-orders-sync under /service/
		a, b := pick2(r, words)
		return Identity{User: "svc-" + a + "-" + b, Path: "/service/", Policy: a + "-access"}
	},
	func(r *rand.Rand) Identity { // ci-deploy-assets under /ci/
		w := words[r.IntN(len(words))]
		return Identity{User: "ci-deploy-" + w, Path: "/ci/", Policy: "deploy-" + w}
	},
	func(r *rand.Rand) Identity { // laura.jensen under /
		f, l := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		return Identity{User: f + "." + l, Path: "/", Policy: "self-service"}
	},
}

// pick2 picks two different words.
func pick2(r *rand.Rand, from []string) (string, string) {
	i := r.IntN(len(from))
	j := (i + 1 + r.IntN(len(from)-1)) % len(from)
	return from[i], from[j]
}

// Pick draws an ordinary identity (r nil: a random source of its own).
func Pick(r *rand.Rand) Identity {
	if r == nil {
		r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return templates[r.IntN(len(templates))](r)
}

// Names IAM takes: user names of 1-64 characters of [\w+=,.@-], paths that
// begin and end with "/".
var (
	userName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	userPath = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
	// canaryName is a NAME: also a profile name, a Kubernetes Secret name
	// and a file-friendly word.
	canaryName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,62}$`)
)

// checkIdentity refuses a user name or path IAM would refuse.
func checkIdentity(id Identity) error {
	if !userName.MatchString(id.User) {
		return fmt.Errorf("--user %q: want 1-64 letters, digits or +=,.@_-", id.User)
	}
	if len(id.Path) > 512 || !userPath.MatchString(id.Path) {
		return fmt.Errorf("--path %q: want a path that begins and ends with /, such as /service/", id.Path)
	}
	return nil
}

// CheckName refuses a canary NAME that cannot serve as a profile and a
// Kubernetes Secret name.
func CheckName(name string) error {
	if !canaryName.MatchString(name) {
		return fmt.Errorf("canary name %q: want 1-63 lower-case letters, digits, dots or dashes, starting with a letter or digit", name)
	}
	return nil
}
