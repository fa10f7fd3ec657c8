package watch

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
)

// SESSpikeRule is the alert of the SES sending-volume poller.
const SESSpikeRule = "KW-SES-VOLUME-SPIKE"

// sesSpikeFactor is how far over its usual hour an hour of sending must be.
const sesSpikeFactor = 5

// SendPoint is one of SES's sending statistics buckets (15 minutes each,
// the last two weeks).
type SendPoint struct {
	At       time.Time
	Attempts int64
	Rejects  int64
}

// SESStats is the account the SES poller reads: its enabled regions, its
// id, and each region's sending statistics (watchaws.SES in AWS).
type SESStats interface {
	Regions(ctx context.Context) ([]string, error)
	Account(ctx context.Context) (string, error)
	SendPoints(ctx context.Context, region string) ([]SendPoint, error)
}

// SESPoller judges SES's own sending statistics in each region on every
// poll (--ses-volume): default trails do not log sending at all.
type SESPoller struct {
	Stats SESStats
	Floor int64 // the fewest sends in an hour that can be a spike
	// Regions are the regions judged; empty: every enabled region, asked
	// on each poll.
	Regions []string
	// Warn, when set, hears of a region whose statistics could not be
	// read; the others are still judged.
	Warn func(error)
}

// Poll returns the spike alerts of the regions at now.
func (s *SESPoller) Poll(ctx context.Context, now time.Time) ([]detect.Alert, error) {
	regions := s.Regions
	if len(regions) == 0 {
		var err error
		if regions, err = s.Stats.Regions(ctx); err != nil {
			return nil, fmt.Errorf("--ses-volume: %w", err)
		}
	}
	account, _ := s.Stats.Account(ctx) // an alert without the account id beats none
	var alerts []detect.Alert
	for _, region := range regions {
		points, err := s.Stats.SendPoints(ctx, region)
		if err != nil {
			if s.Warn != nil {
				s.Warn(err)
			}
			continue
		}
		if last, median, spike := sesSpike(points, now, s.Floor); spike {
			alerts = append(alerts, sesSpikeAlert(account, region, now, last, median))
		}
	}
	return alerts, nil
}

// sesSpike judges a region's sending statistics at now: the last hour's
// delivery attempts against the median hour of the two weeks before. It
// is a spike when the hour is at least floor and sesSpikeFactor times the
// median — the 50,000-mails-a-day case, which default trails never log.
func sesSpike(points []SendPoint, now time.Time, floor int64) (lastHour, median int64, spike bool) {
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

// sesSpikeAlert is the alert for a spike in region of account.
func sesSpikeAlert(account, region string, at time.Time, lastHour, median int64) detect.Alert {
	return detect.Alert{Rule: SESSpikeRule, Severity: severity.Critical, Technique: "T1496",
		Title:     fmt.Sprintf("SES sent %d messages in the last hour (usual hour: %d)", lastHour, median),
		EventTime: at.UTC().Truncate(time.Hour), EventSource: "ses.amazonaws.com", EventName: "GetSendStatistics",
		AccountID: account, Region: region,
		Details: map[string]any{"last_hour": lastHour, "median_hour": median, "resource": "ses/" + region,
			"remediation": "find the sending key (CloudTrail, SES sending events) and run keywarden respond on it; " +
				"pause sending at once: aws sesv2 put-account-sending-attributes --no-sending-enabled --region " + region}}
}
