package watchaws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/watch"
)

// SES is the account the --ses-volume poller reads SES's own sending
// statistics from: the volume a stolen key sends is there even when the
// trail logs no data events.
type SES struct{ cfg aws.Config }

var _ watch.SESStats = (*SES)(nil)

// NewSES reads through cfg's credentials.
func NewSES(cfg aws.Config) *SES { return &SES{cfg: cfg} }

// Regions lists the account's enabled regions.
func (s *SES) Regions(ctx context.Context) ([]string, error) { return awsx.EnabledRegions(ctx, s.cfg) }

// Account is the id of the account the credentials belong to.
func (s *SES) Account(ctx context.Context) (string, error) {
	id, err := awsx.CallerIdentity(ctx, s.cfg)
	return id.Account, err
}

// SendPoints reads SES's sending statistics in region.
func (s *SES) SendPoints(ctx context.Context, region string) ([]watch.SendPoint, error) {
	client := ses.NewFromConfig(s.cfg, func(o *ses.Options) {
		o.Region = region
		o.APIOptions = append(slices.Clip(o.APIOptions), awsx.LenientErrors)
	})
	out, err := client.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{})
	if err != nil {
		return nil, fmt.Errorf("ses get-send-statistics in %s: %w", region, err)
	}
	points := make([]watch.SendPoint, 0, len(out.SendDataPoints))
	for _, p := range out.SendDataPoints {
		points = append(points, watch.SendPoint{At: aws.ToTime(p.Timestamp), Attempts: p.DeliveryAttempts, Rejects: p.Rejects})
	}
	return points, nil
}
