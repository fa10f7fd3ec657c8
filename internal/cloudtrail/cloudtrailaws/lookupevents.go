package cloudtrailaws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/keywarden/keywarden/internal/awsx"
	ct "github.com/keywarden/keywarden/internal/cloudtrail"
)

// LookupEvents allows 2 requests a second per account per region. The
// client keeps a margin under it (one request every 700 ms), since the
// quota is counted where requests arrive, after network jitter.
const (
	lookupInterval    = 700 * time.Millisecond
	lookupConcurrency = 4 // regions read at once; each has its own quota
	lookupMaxAttempts = 8 // throttling is expected now and then: retry it
	lookupPageSize    = 50
)

// LookupStats says what a LookupKeyEvents call read.
type LookupStats struct {
	Regions     []string         // regions read to the end
	Requests    int              // HTTP requests sent, retries included
	Events      int              // events handed to the sink
	Undecodable int              // answers whose CloudTrailEvent was not a record (warned, skipped)
	Failed      map[string]error // region -> why it could not be read
}

// LookupOption adjusts LookupKeyEvents.
type LookupOption func(*lookupConfig)

type lookupConfig struct {
	pacers      *regionPacers // nil: no pacing
	concurrency int
	maxAttempts int
	warn        func(string)
}

// LookupInterval sets the pause between requests in one region, for this
// call alone; 0 turns pacing off (for tests that show the quota is real).
func LookupInterval(d time.Duration) LookupOption {
	return func(c *lookupConfig) {
		c.pacers = nil
		if d > 0 {
			c.pacers = newRegionPacers(d)
		}
	}
}

// sharedPacers pace every lookup of the process by default: the quota is
// the account's per region, not the call's, and respond looks up one key
// after another (the leaked key, then each session key it minted), so a
// limiter per call would let consecutive calls burst over it.
var sharedPacers = newRegionPacers(lookupInterval)

// regionPacers hands out one limiter per region.
type regionPacers struct {
	interval time.Duration
	mu       sync.Mutex
	byRegion map[string]*rate.Limiter
}

func newRegionPacers(d time.Duration) *regionPacers {
	return &regionPacers{interval: d, byRegion: map[string]*rate.Limiter{}}
}

func (p *regionPacers) limiter(region string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byRegion[region]
	if l == nil {
		l = rate.NewLimiter(rate.Every(p.interval), 1)
		p.byRegion[region] = l
	}
	return l
}

// LookupMaxAttempts sets how many times one request is tried (1: no retry).
func LookupMaxAttempts(n int) LookupOption { return func(c *lookupConfig) { c.maxAttempts = n } }

// LookupWarn receives the warnings (a region not read, an undecodable
// event); by default they go to slog.
func LookupWarn(f func(string)) LookupOption { return func(c *lookupConfig) { c.warn = f } }

// LookupKeyEvents reads from CloudTrail's LookupEvents every event made
// with the access key keyID (every management event when keyID is empty)
// since the given time, in each region, and hands
// each record to sink. Regions are read a few at a time; sink is never
// called concurrently; within a region events come newest first. A region
// that cannot be read is warned about and recorded in LookupStats.Failed,
// and the others are still read. The error is a cancelled ctx or sink's.
func LookupKeyEvents(ctx context.Context, cfg aws.Config, keyID string, regions []string, since time.Time,
	sink func(ct.Event) error, opts ...LookupOption) (LookupStats, error) {
	lc := lookupConfig{pacers: sharedPacers, concurrency: lookupConcurrency, maxAttempts: lookupMaxAttempts,
		warn: func(s string) { slog.Warn(s) }}
	for _, o := range opts {
		o(&lc)
	}
	regions = slices.Compact(slices.Sorted(slices.Values(regions)))
	l := &keyLookup{cfg: cfg, conf: lc, keyID: keyID, since: since, sink: sink,
		stats: LookupStats{Failed: map[string]error{}}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.SetLimit(max(lc.concurrency, 1))
	for _, region := range regions {
		g.Go(func() error {
			err := l.region(ctx, region)
			if err != nil && l.fatal(err) {
				cancel()
				if errors.As(err, new(errSink)) {
					return err
				}
				return fmt.Errorf("cloudtrail lookup in %s: %w", region, err)
			}
			l.regionDone(region, err)
			return nil
		})
	}
	err := g.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		err = ctx.Err()
	}
	sort.Strings(l.stats.Regions)
	return l.stats, err
}

// keyLookup is one LookupKeyEvents call, shared by its region goroutines.
type keyLookup struct {
	cfg   aws.Config
	conf  lookupConfig
	keyID string
	since time.Time
	sink  func(ct.Event) error

	mu      sync.Mutex // guards stats and serialises sink
	stats   LookupStats
	sinkErr error
}

// errSink marks the sink's error so it ends the whole lookup.
type errSink struct{ err error }

func (e errSink) Error() string { return e.err.Error() }
func (e errSink) Unwrap() error { return e.err }

// fatal reports whether err ends every region's read, not just one: the
// sink's, a cancellation, no credentials, an endpoint that cannot be reached
// (every region shares the credentials, and the connect budget of awsx).
func (l *keyLookup) fatal(err error) bool {
	var se errSink
	return errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, new(*awsx.NoCredentialsError)) || errors.As(err, new(*awsx.ConnectError))
}

func (l *keyLookup) regionDone(region string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.stats.Regions = append(l.stats.Regions, region)
		return
	}
	l.stats.Failed[region] = err
	if l.keyID == "" { // watch's lookup: source, reading every event
		l.conf.warn(fmt.Sprintf("cloudtrail lookup in %s failed, its events there are unknown: %v", region, err))
		return
	}
	l.conf.warn(fmt.Sprintf("cloudtrail lookup of key %s in %s failed, its activity there is unknown: %v", l.keyID, region, err))
}

// region reads every page of the key's events in one region.
func (l *keyLookup) region(ctx context.Context, region string) error {
	var limiter *rate.Limiter
	if l.conf.pacers != nil {
		limiter = l.conf.pacers.limiter(region)
	}
	client := cloudtrail.NewFromConfig(l.cfg, func(o *cloudtrail.Options) {
		o.Region = region
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = max(l.conf.maxAttempts, 1)
			so.RateLimiter = ratelimit.None // pacing, not a retry budget, keeps us under the quota
		})
		o.APIOptions = append(slices.Clip(o.APIOptions), l.paceAttempts(limiter))
	})
	in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(l.since), MaxResults: aws.Int32(lookupPageSize)}
	if l.keyID != "" { // no key: every management event of the region (watch's lookup: source)
		in.LookupAttributes = []cttypes.LookupAttribute{{
			AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(l.keyID)}}
	}
	pages := cloudtrail.NewLookupEventsPaginator(client, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return err // regionDone, or the fatal path, names the region
		}
		if err := l.deliver(region, out.Events); err != nil {
			return err
		}
	}
	return nil
}

// deliver decodes one page's records and hands them to the sink.
func (l *keyLookup) deliver(region string, events []cttypes.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sinkErr != nil {
		return errSink{l.sinkErr}
	}
	for _, e := range events {
		rec, err := ct.Decode([]byte(aws.ToString(e.CloudTrailEvent)))
		if err != nil {
			l.stats.Undecodable++
			l.conf.warn(fmt.Sprintf("cloudtrail event %s in %s skipped: %v", aws.ToString(e.EventId), region, err))
			continue
		}
		if err := l.sink(rec); err != nil {
			l.sinkErr = err
			return errSink{err}
		}
		l.stats.Events++
	}
	return nil
}

// paceAttempts waits for the region's limiter before every attempt, retries
// included (it sits after the retry middleware), and counts them.
func (l *keyLookup) paceAttempts(limiter *rate.Limiter) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("KeywardenPaceLookup",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if limiter != nil {
					if err := limiter.Wait(ctx); err != nil {
						return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for lookup quota: %w", err)
					}
				}
				l.mu.Lock()
				l.stats.Requests++
				l.mu.Unlock()
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

// Lookup reads an account's management events region by region: every
// event for watch's lookup: source, a key's for respond's review.
type Lookup struct{ cfg aws.Config }

// NewLookup reads through cfg's credentials.
func NewLookup(cfg aws.Config) *Lookup { return &Lookup{cfg: cfg} }

// Regions lists the account's enabled regions.
func (l *Lookup) Regions(ctx context.Context) ([]string, error) {
	return awsx.EnabledRegions(ctx, l.cfg)
}

// Events hands sink every management event of regions since the given
// time; what it skips goes to warn. It returns the regions read to the end.
func (l *Lookup) Events(ctx context.Context, regions []string, since time.Time, warn func(error), sink ct.Sink) ([]string, error) {
	st, err := LookupKeyEvents(ctx, l.cfg, "", regions, since, sink, LookupWarn(func(m string) { warn(errors.New(m)) }))
	return st.Regions, err
}

// KeyEvents hands sink the events made with the access key keyID in
// regions since the given time (LookupKeyEvents); what it skips goes to
// warn, and the regions it could not read come back with the reason.
func (l *Lookup) KeyEvents(ctx context.Context, keyID string, regions []string, since time.Time, warn func(error), sink ct.Sink) (map[string]error, error) {
	stats, err := LookupKeyEvents(ctx, l.cfg, keyID, regions, since, sink, LookupWarn(func(m string) { warn(errors.New(m)) }))
	return stats.Failed, err
}
