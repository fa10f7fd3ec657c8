package respond

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/severity"
)

// burstRule: a stolen key is usually tried against many services to learn
// what it may do, leaving a trail of denials in a short time.
var burstRule = Rule{ID: "KW-CT-ACCESS-DENIED-BURST", Severity: severity.High,
	Title: "many access-denied errors in a short time", Technique: "T1580"}

const (
	burstCount  = 10
	burstWindow = 10 * time.Minute
)

func denied(code string) bool {
	return strings.Contains(code, "AccessDenied") || strings.Contains(code, "UnauthorizedOperation") ||
		code == "UnauthorizedAccess"
}

// accessDeniedBursts raises one flag per burst of burstCount denials by
// one key within burstWindow, on the denial that completes it; counting
// starts afresh after a flag, so a long attack yields one flag per burst.
func accessDeniedBursts(events []cloudtrail.Event) []Flag {
	byKey := map[string][]cloudtrail.Event{}
	for _, e := range events {
		if denied(e.ErrorCode) && !e.EventTime.IsZero() {
			k := firstNonEmpty(e.UserIdentity.AccessKeyID, e.UserIdentity.ARN)
			byKey[k] = append(byKey[k], e)
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []Flag
	for _, k := range keys {
		evs := byKey[k]
		slices.SortStableFunc(evs, func(a, b cloudtrail.Event) int { return a.EventTime.Compare(b.EventTime) })
		start := 0
		for i := range evs {
			for evs[i].EventTime.Sub(evs[start].EventTime) > burstWindow {
				start++
			}
			if i-start+1 >= burstCount {
				out = append(out, burstRule.flag(evs[i], fmt.Sprintf("%d denials since %s", i-start+1,
					evs[start].EventTime.UTC().Format(time.RFC3339))))
				start = i + 1
			}
		}
	}
	return out
}
