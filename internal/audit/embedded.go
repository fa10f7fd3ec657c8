package audit

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/scan"
)

// detector finds the keys pasted in an account's resources; it keeps no
// state between calls.
var detector = scan.NewDetector()

// EmbeddedInText returns the keys the scan detector finds in text, the
// content of resource at where (EC2 user data, an SSM parameter's value),
// each with detail as its Detail. text is read here and not kept: of it,
// only the keys found (their secrets as secret.Secret) reach the inventory.
func EmbeddedInText(where, resource, detail string, text []byte) []EmbeddedKey {
	return embeddedKeys(where, resource, detector.Find(text), func(scan.Match) string { return detail })
}

// EmbeddedInEnv returns the keys the scan detector finds in an environment
// (a Lambda function's, an ECS container's) of resource at where. Each
// key's Detail names the variables holding it, after detailPrefix ("app/"
// for container app). As with EmbeddedInText, the values are not kept.
func EmbeddedInEnv(where, resource, detailPrefix string, vars map[string]string) []EmbeddedKey {
	if len(vars) == 0 {
		return nil
	}
	env := newEnvText(vars)
	return embeddedKeys(where, resource, detector.Find(env.text), func(m scan.Match) string {
		return detailPrefix + env.names(m)
	})
}

// embeddedKeys turns the detector's matches in one place into inventory
// entries; detail names where in the resource each match is.
func embeddedKeys(where, resource string, ms []scan.Match, detail func(scan.Match) string) []EmbeddedKey {
	var out []EmbeddedKey
	for _, m := range ms {
		out = append(out, EmbeddedKey{
			Where: where, Resource: resource, Detail: detail(m), Rule: m.Rule, KeyID: m.KeyID,
			Secret: m.Secret, SecretSHA256: m.Secret.SHA256(), Encoding: m.Encoding,
		})
	}
	return out
}

// envText is an environment laid out as "NAME=VALUE" lines, sorted by name,
// so the detector sees AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY side by
// side and pairs them.
type envText struct {
	text  []byte
	vars  [][2]string // name, value in text order
	owner []string    // owner[line-1] is the variable that line belongs to
}

func newEnvText(vars map[string]string) envText {
	var e envText
	var b bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		v := vars[name]
		fmt.Fprintf(&b, "%s=%s\n", name, v)
		e.vars = append(e.vars, [2]string{name, v})
		for range strings.Count(v, "\n") + 1 {
			e.owner = append(e.owner, name)
		}
	}
	e.text = b.Bytes()
	return e
}

// names says which variables hold a match: those whose value holds its key
// id or its secret (compared in memory only), else the variable on the
// match's line (a key found encoded is not in any value as such).
func (e envText) names(m scan.Match) string {
	var out []string
	for _, v := range e.vars {
		if (m.KeyID != "" && strings.Contains(v[1], m.KeyID)) ||
			(!m.Secret.IsZero() && strings.Contains(v[1], m.Secret.Reveal())) {
			out = append(out, v[0])
		}
	}
	if len(out) == 0 && m.Line >= 1 && m.Line <= len(e.owner) {
		out = append(out, e.owner[m.Line-1])
	}
	return strings.Join(out, ", ")
}
