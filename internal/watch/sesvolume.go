package watch

import (
	"fmt"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
)

// SESSpikeRule is the alert of the SES sending-volume poller.
const SESSpikeRule = "KW-SES-VOLUME-SPIKE"

// sesSpikeFactor is how far over its usual hour an hour of sending must be.
const sesSpikeFactor = 5

// SESSpike judges a region's sending statistics at now: the last hour's
// delivery attempts against the median hour of the two weeks before. It
// is a spike when the hour is at least floor and sesSpikeFactor times the
// median — the 50,000-mails-a-day case, which default trails never log.
func SESSpike(points []awsx.SendPoint, now time.Time, floor int64) (lastHour, median int64, spike bool) {
	hours := map[int64]int64{}
	for _, p := range points {
		if p.At.After(now.Add(-time.Hour)) {
			lastHour += p.Attempts
			continue
		}
		hours[p.At.Unix()/3600] += p.Attempts
	}
	if len(hours) > 0 {
		sums := make([]int64, 0, len(hours))
		for _, v := range hours {
			sums = append(sums, v)
		}
		slices.Sort(sums)
		median = sums[len(sums)/2]
	}
	return lastHour, median, lastHour >= floor && lastHour >= sesSpikeFactor*median
}

// SESSpikeAlert is the alert for a spike in region of account.
func SESSpikeAlert(account, region string, at time.Time, lastHour, median int64) detect.Alert {
	return detect.Alert{Rule: SESSpikeRule, Severity: severity.Critical, Technique: "T1496",
		Title:     fmt.Sprintf("SES sent %d messages in the last hour (usual hour: %d)", lastHour, median),
		EventTime: at.UTC().Truncate(time.Hour), EventSource: "ses.amazonaws.com", EventName: "GetSendStatistics",
		AccountID: account, Region: region,
		Details: map[string]any{"last_hour": lastHour, "median_hour": median, "resource": "ses/" + region,
			"remediation": "find the sending key (CloudTrail, SES sending events) and run keywarden respond on it; " +
				"pause sending at once: aws sesv2 put-account-sending-attributes --no-sending-enabled --region " + region}}
}
