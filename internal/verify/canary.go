package verify

import (
	"fmt"
	"maps"
)

// Canaries maps an AWS account id to who hands out canary tokens (trap keys
// that raise an alarm when used) from it. A found key whose id decodes to one
// of these accounts is reported as a likely canary and never sent to AWS:
// checking it would set off its owner's alarm for nothing.
type Canaries map[string]string

// Where the known canary accounts come from.
const (
	thinkst  = "canarytokens.org (Thinkst)"
	knockoff = "a canarytokens.org look-alike"
)

// knownCanaries are the public canary-token accounts, as trufflehog lists them
// in pkg/detectors/aws/access_keys/canary.go (thinkstCanaryList: the accounts
// canarytokens.org issues AWS key tokens from; thinkstKnockoffsCanaryList:
// off-brand services that copy it). This is the one list; --canary-account
// adds to it.
var knownCanaries = Canaries{
	"052310077262": thinkst,
	"171436882533": thinkst,
	"266735846894": thinkst,
	"534261010715": thinkst,
	"595918472158": thinkst,
	"717712589309": thinkst,
	"730335385048": thinkst,
	"819147034852": thinkst,
	"893192397702": thinkst,
	"992382622183": thinkst,

	"044858866125": knockoff,
	"251535659677": knockoff,
	"344043088457": knockoff,
	"351906852752": knockoff,
	"390477818340": knockoff,
	"426127672474": knockoff,
	"427150556519": knockoff,
	"439872796651": knockoff,
	"445142720921": knockoff,
	"465867158099": knockoff,
	"637958123769": knockoff,
	"693412236332": knockoff,
	"732624840810": knockoff,
	"735421457923": knockoff,
	"959235150393": knockoff,
	"982842642351": knockoff,
}

// KnownCanaries returns a copy of the public canary-token accounts.
func KnownCanaries() Canaries { return maps.Clone(knownCanaries) }

// With returns a copy of c with the user's own canary accounts added; each
// must be a 12-digit account id.
func (c Canaries) With(accounts []string) (Canaries, error) {
	out := maps.Clone(c)
	if out == nil {
		out = Canaries{}
	}
	for _, a := range accounts {
		if !isAccountID(a) {
			return nil, fmt.Errorf("%q: want a 12-digit AWS account id", a)
		}
		if _, ok := out[a]; !ok {
			out[a] = "your canary accounts"
		}
	}
	return out, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
