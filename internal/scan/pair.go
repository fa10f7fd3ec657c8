package scan

import (
	"bytes"
	"sort"

	"github.com/keywarden/keywarden/internal/scan/awskey"
	"github.com/keywarden/keywarden/internal/secret"
)

// pairRounds is how many times ids and secrets left over are matched again.
// Each round looks one window further, so it is bounded to keep decisions local.
const pairRounds = 2

// gap is the number of bytes between two parts (0 when they overlap).
func gap(a, b part) int {
	switch {
	case a.end <= b.off:
		return b.off - a.end
	case b.end <= a.off:
		return a.off - b.end
	}
	return 0
}

// distance orders candidate partners: the gap first; on equal gaps (CSV rows,
// where a secret is one byte from its own id and one from the next row's) a
// partner on the same line wins, then an id that comes before its partner.
// Key ids are the parts with a kind.
func distance(data []byte, a, b part) int {
	d := 4 * gap(a, b)
	lo, hi := a, b
	if b.off < a.off {
		lo, hi = b, a
	}
	if lo.end < hi.off && bytes.IndexByte(data[lo.end:hi.off], '\n') >= 0 {
		d += 2
	}
	if hi.kind != awskey.KindNone && lo.kind == awskey.KindNone {
		d++
	}
	return d
}

// nearest returns the index of the part of ps (sorted by offset) closest to p
// within window, skipping taken ones; ties go to the earlier part. -1 if none.
// When p is a key id, ps are secrets and the id-first preference applies.
func (c *collector) nearest(ps []part, taken []bool, p part) int {
	window, maxLen := c.d.lim.window, c.d.lim.maxRun
	best, bestDist := -1, 0
	i := sort.Search(len(ps), func(i int) bool { return ps[i].off >= p.off-window-maxLen })
	for ; i < len(ps) && ps[i].off <= p.end+window; i++ {
		if taken != nil && taken[i] {
			continue
		}
		// distance is at least 4*gap: skip the newline search for parts that cannot win.
		if g := gap(ps[i], p); g > window || best >= 0 && 4*g > bestDist {
			continue
		}
		if d := distance(c.data, p, ps[i]); best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	return best
}

// pair joins ids and secrets that belong together and turns every part into a
// match: each id and secret that are each other's nearest (within window)
// form a pair; a second round pairs what the first left over. Ids alone are
// reported when long-term; secrets alone only under an AWS secret name.
func (c *collector) pair() []Match {
	sortParts(c.ids)
	sortParts(c.secrets)
	sortParts(c.tokens)
	lim := c.d.lim
	c.dropFakeSecrets()
	ids, secrets := c.ids, c.secrets
	idTaken := make([]bool, len(ids))
	sTaken := make([]bool, len(secrets))
	partner := make([]int, len(ids))
	for i := range partner {
		partner[i] = -1
	}
	for round := 0; round < pairRounds; round++ {
		var found [][2]int
		for i, id := range ids {
			if idTaken[i] {
				continue
			}
			j := c.nearest(secrets, sTaken, id)
			if j >= 0 && c.nearest(ids, idTaken, secrets[j]) == i {
				found = append(found, [2]int{i, j})
			}
		}
		// Mark after the round so every decision in it saw the same state.
		for _, f := range found {
			idTaken[f[0]], sTaken[f[1]], partner[f[0]] = true, true, f[1]
		}
	}
	var ms []Match
	for i, id := range ids {
		if j := partner[i]; j >= 0 {
			ms = append(ms, c.pairMatch(id, secrets[j]))
		} else if id.kind != awskey.KindTemporary {
			// A temporary id alone grants nothing: its secret and token are needed.
			ms = append(ms, Match{Rule: RuleKeyID, KeyID: id.val, Offset: int64(id.off), Encoding: id.enc})
		}
	}
	for j, s := range secrets {
		if !sTaken[j] && secretNamed(c.data, s.off, lim.lineCap) {
			ms = append(ms, Match{Rule: RuleSecretKey, Secret: secret.New(s.val), Offset: int64(s.off), Encoding: s.enc})
		}
	}
	return ms
}

// pairMatch builds the match of an id and its secret, positioned at whichever
// of the two comes first in the content; a temporary id also takes the
// nearest session token.
func (c *collector) pairMatch(id, s part) Match {
	m := Match{Rule: RuleKeyPair, KeyID: id.val, Secret: secret.New(s.val), Offset: int64(min(id.off, s.off))}
	m.Encoding = s.enc
	if m.Encoding == "" {
		m.Encoding = id.enc
	}
	if id.kind == awskey.KindTemporary {
		m.Rule = RuleSession
		if t := c.nearestToken(id, s); t >= 0 {
			m.SessionToken = secret.New(c.tokens[t].val)
		}
	}
	return m
}

// nearestToken returns the session token closest to the id or its secret.
func (c *collector) nearestToken(id, s part) int {
	a := c.nearest(c.tokens, nil, id)
	b := c.nearest(c.tokens, nil, s)
	switch {
	case a < 0:
		return b
	case b < 0:
		return a
	case gap(c.tokens[b], s) < gap(c.tokens[a], id):
		return b
	}
	return a
}

// dropFakeSecrets removes secrets that sit closer to a made-up key id
// (documentation example, placeholder, invalid prefix) than to any real one,
// and secrets of S3-compatible services: beside their own key id, with no AWS id near.
func (c *collector) dropFakeSecrets() {
	lim := c.d.lim
	out := c.secrets[:0]
	for _, s := range c.secrets {
		i := c.nearest(c.ids, nil, s)
		if f := nearestFake(c.data, s, lim.fakeRadius); f >= 0 && (i < 0 || f < gap(c.ids[i], s)) {
			continue
		}
		if i < 0 && nearestForeign(c.data, s, lim.fakeRadius) >= 0 {
			continue
		}
		out = append(out, s)
	}
	c.secrets = out
}
