package awsx

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
)

// SendPoint is one of SES's sending statistics buckets (15 minutes each,
// the last two weeks).
type SendPoint struct {
	At       time.Time
	Attempts int64
	Rejects  int64
}

// SESSendPoints reads SES's own sending statistics in region: the volume a
// stolen key sends is there even when the trail logs no data events.
func SESSendPoints(ctx context.Context, cfg aws.Config, region string) ([]SendPoint, error) {
	client := ses.NewFromConfig(cfg, func(o *ses.Options) {
		o.Region = region
		o.APIOptions = append(slices.Clip(o.APIOptions), LenientErrors)
	})
	out, err := client.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		return nil, fmt.Errorf("ses get-send-statistics in %s: %w", region, err)
	}
	points := make([]SendPoint, 0, len(out.SendDataPoints))
	for _, p := range out.SendDataPoints {
		points = append(points, SendPoint{At: aws.ToTime(p.Timestamp), Attempts: p.DeliveryAttempts, Rejects: p.Rejects})
	}
	return points, nil
}
