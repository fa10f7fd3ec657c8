package respond

import (
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
)

// MintedKey is a temporary key that an exposed key (or a key it minted)
// obtained from STS: revoking the exposed key alone leaves these alive
// until they expire, so the review follows their activity too.
type MintedKey struct {
	KeyID      string    `json:"key_id"`
	Parent     string    `json:"parent"` // the key that made the STS call
	By         string    `json:"by"`     // GetSessionToken, AssumeRole, GetFederationToken, ...
	At         time.Time `json:"at"`
	Expiration time.Time `json:"expiration,omitzero"`
	Role       string    `json:"role,omitempty"` // for AssumeRole: the role's ARN
	Event      string    `json:"event"`          // eventID of the STS call
}

// mintingCalls are the STS calls whose response carries new credentials
// that stay usable after the caller's key is deactivated.
var mintingCalls = map[string]bool{
	"GetSessionToken":           true,
	"AssumeRole":                true,
	"GetFederationToken":        true,
	"AssumeRoleWithSAML":        false, // made without a key: never "by" the exposed key
	"AssumeRoleWithWebIdentity": false,
}

// Follow returns the temporary keys keyID minted, and recursively the keys
// those minted (role chains), ordered by the time they were minted.
func Follow(keyID string, events []cloudtrail.Event) []MintedKey {
	byCaller := map[string][]MintedKey{}
	for _, e := range events {
		if m, ok := minted(e); ok {
			byCaller[m.Parent] = append(byCaller[m.Parent], m)
		}
	}
	var out []MintedKey
	seen := map[string]bool{keyID: true}
	queue := []string{keyID}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, m := range byCaller[k] {
			if seen[m.KeyID] {
				continue // the same response seen twice (overlapping log sources) or a cycle
			}
			seen[m.KeyID] = true
			out = append(out, m)
			queue = append(queue, m.KeyID)
		}
	}
	slices.SortStableFunc(out, func(a, b MintedKey) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.KeyID, b.KeyID)
	})
	return out
}

// MintedBy returns the key whose STS call returned asiaKey, when the
// events hold that call.
func MintedBy(asiaKey string, events []cloudtrail.Event) (string, bool) {
	for _, e := range events {
		if m, ok := minted(e); ok && m.KeyID == asiaKey {
			return m.Parent, true
		}
	}
	return "", false
}

// minted reads the credentials an STS call handed out. Failed calls and
// responses without an ASIA key (redacted logs) mint nothing.
func minted(e cloudtrail.Event) (MintedKey, bool) {
	if !mintingCalls[e.EventName] || e.ErrorCode != "" || e.UserIdentity.AccessKeyID == "" {
		return MintedKey{}, false
	}
	if e.EventSource != "" && e.EventSource != "sts.amazonaws.com" {
		return MintedKey{}, false
	}
	resp := object(e.ResponseElements)
	id := str(resp, "credentials", "accessKeyId")
	if !strings.HasPrefix(id, "ASIA") {
		return MintedKey{}, false
	}
	m := MintedKey{KeyID: id, Parent: e.UserIdentity.AccessKeyID, By: e.EventName, At: e.EventTime, Event: e.EventID}
	m.Expiration = parseAWSTime(str(resp, "credentials", "expiration"))
	if e.EventName == "AssumeRole" {
		m.Role = str(object(e.RequestParameters), "roleArn")
	}
	return m, true
}

// awsTimeLayouts are the shapes CloudTrail uses for times inside response
// elements ("Aug 1, 2024, 11:45:22 AM" in STS credentials), all UTC.
var awsTimeLayouts = []string{
	time.RFC3339Nano,
	"Jan 2, 2006, 3:04:05 PM",
	"Jan 2, 2006 3:04:05 PM",
	"2006-01-02 15:04:05",
}

func parseAWSTime(s string) time.Time {
	for _, l := range awsTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// The record field helpers are detect's: one reading of CloudTrail's JSON.
var (
	object = detect.Object
	get    = detect.Get
	str    = detect.Str
	items  = detect.Items
)
