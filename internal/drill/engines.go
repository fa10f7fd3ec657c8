package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/scan/collect"
	"github.com/keywarden/keywarden/internal/watch"
)

// Watch is the Detector of watch's engine (its built-in rules, bursts and
// baselines) over one watch source.
type Watch struct {
	Source watch.Source
	Now    func() time.Time
	// Warn hears of what the source skipped.
	Warn func(error)
}

var _ Detector = Watch{}

// Alerts reads the source from the drill's start and returns the alerts
// the drill's key and session raise. Each poll judges afresh (a store of
// its own), so an alert seen at the last poll is seen again.
func (w Watch) Alerts(ctx context.Context, d *Drill) ([]detect.Alert, error) {
	p, err := watch.NewPipeline(watch.Config{Store: &detect.MemStore{}, Now: w.Now})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var got []detect.Alert
	p.OnAlert = func(_ context.Context, a detect.Alert) error {
		if a.AccessKeyID != "" && (a.AccessKeyID == d.KeyID || a.AccessKeyID == d.SessionKeyID) {
			got = append(got, a)
		}
		return nil
	}
	opts := cloudtrail.Options{Since: d.Started.Add(-5 * time.Minute), Warn: w.Warn}
	if _, err := p.Judge(ctx, func(ctx context.Context, sink cloudtrail.Sink) error { return w.Source.Read(ctx, opts, sink) }); err != nil {
		return nil, fmt.Errorf("watch %s: %w", d.Source, err)
	}
	return got, nil
}

// ScanHistory is the Scanner of keywarden scan: every object of the
// repository's history.
func ScanHistory(ctx context.Context, repo string) (map[string]string, error) {
	return scanned(ctx, collect.Options{Paths: []string{repo}})
}

// ScanSite is the Scanner of keywarden scan --url: a site's leak files and
// its exposed .git/, rebuilt over HTTP.
func ScanSite(ctx context.Context, url string) (map[string]string, error) {
	return scanned(ctx, collect.Options{URLs: []string{url}})
}

// scanned is where each key opts' scan found was found first.
func scanned(ctx context.Context, opts collect.Options) (map[string]string, error) {
	res, err := collect.Findings(ctx, opts)
	if err != nil {
		return nil, err
	}
	found := map[string]string{}
	for _, f := range res.Findings {
		where := f.Path
		if f.Commit != "" {
			where = fmt.Sprintf("%s at commit %s (in HEAD: %t)", f.Path, short(f.Commit), f.InHead)
		}
		if _, ok := found[f.KeyID]; !ok && f.KeyID != "" {
			found[f.KeyID] = where
		}
	}
	return found, nil
}
