package canary

import (
	"regexp"
	"strings"
)

// The tells below are our own reading of what canary-spotting tools look for
// in an identity, as their public sources and write-ups describe it:
// trufflehog and Pacu's iam__detect_honeytokens decode the account from the
// key id offline and match it against the canary services' accounts
// (verify.KnownCanaries); Pacu also probes with a call CloudTrail does not
// log and reads the user ARN from the AccessDenied message, flagging
// Thinkst's "canarytokens.com@@<random>" user names and SpaceCrab's
// "/SpaceCrab/" path; and any reader of an ARN notices generated ids (a
// UUID, a long random token) or a name that says what it is.
var (
	uuidRE   = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	hexRunRE = regexp.MustCompile(`(?i)[0-9a-f]{12,}`)
	tokenRE  = regexp.MustCompile(`[A-Za-z0-9]+`)
	// telltaleWords name a trap for what it is.
	telltaleWords = []string{"canary", "canaries", "canarytoken", "canarytokens", "honey", "honeytoken", "honeypot",
		"decoy", "tripwire", "trap", "bait", "spacecrab", "spacesiren", "keywarden"}
)

// Tells lists why a canary-spotting tool would flag the IAM user path+user
// as a trap; none for an identity that reads like any other.
func Tells(path, user string) []string {
	var out []string
	whole := path + user
	lower := strings.ToLower(whole)
	if strings.Contains(user, "@@") {
		out = append(out, `"@@" in the user name (canarytokens.org's users)`)
	}
	if strings.Contains(lower, "/spacecrab/") {
		out = append(out, "the /SpaceCrab/ path")
	}
	if uuidRE.MatchString(whole) {
		out = append(out, "a UUID")
	} else if hexRunRE.MatchString(whole) {
		out = append(out, "a long hex run")
	}
	for _, tok := range tokenRE.FindAllString(whole, -1) {
		t := strings.ToLower(tok)
		for _, w := range telltaleWords {
			if t == w || strings.HasPrefix(t, w) && len(w) >= 5 {
				out = append(out, "the word "+tok)
				break
			}
		}
		if len(tok) >= 16 && strings.ContainsAny(tok, "0123456789") && strings.IndexFunc(tok, isLetter) >= 0 {
			out = append(out, "a random-looking token "+tok)
		}
	}
	return out
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// UserOfARN splits an IAM user ARN (arn:aws:iam::ACCOUNT:user/PATH/NAME)
// into its account, path and user name.
func UserOfARN(arn string) (account, path, user string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "user/") {
		return "", "", "", false
	}
	res := strings.TrimPrefix(parts[5], "user")
	i := strings.LastIndex(res, "/")
	return parts[4], res[:i+1], res[i+1:], true
}
